# Both providers talk to the same cluster through a kubeconfig. On-prem and cloud clusters differ only
# in how that kubeconfig is produced (OIDC, client certificates, a cloud CLI exec plugin), so the
# configuration stays cloud-agnostic.
provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kubeconfig_context
}

provider "helm" {
  kubernetes {
    config_path    = var.kubeconfig_path
    config_context = var.kubeconfig_context
  }
}
