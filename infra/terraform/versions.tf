# Provider versions are pinned so that a reviewed plan is reproducible. Upgrade them deliberately, one
# at a time, and read the provider changelog first: helm 3.x changes the `kubernetes` block into an
# attribute, which this configuration does not use yet.
terraform {
  # 1.9+ because several variable validations refer to other variables.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }

  # State holds resource attributes (no secret values are passed through Terraform by this
  # configuration, but chart values and object names are sensitive operational data). Keep it in a
  # backend the force controls, encrypted at rest, e.g.:
  #   backend "kubernetes" { secret_suffix = "lfr", namespace = "terraform-state" }
  # Configure it with `terraform init -backend-config=...`; none is set here.
}
