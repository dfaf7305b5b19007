# PostgreSQL 18 with pgvector. In-cluster: the CloudNativePG operator and one Cluster. External: nothing
# is created here; the DSN comes from var.external_db_secret_name.

resource "helm_release" "cnpg_operator" {
  count = local.cnpg ? 1 : 0

  name             = "cnpg"
  repository       = "https://cloudnative-pg.github.io/charts"
  chart            = "cloudnative-pg"
  version          = var.cnpg_operator_chart_version
  namespace        = var.cnpg_operator_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600
}

# The Cluster custom resource needs the operator's CRDs at plan time: apply the operator first (see
# README, "Apply order").
resource "kubernetes_manifest" "postgres_cluster" {
  count = local.cnpg ? 1 : 0

  manifest = {
    apiVersion = "postgresql.cnpg.io/v1"
    kind       = "Cluster"
    metadata = {
      name      = local.pg_cluster
      namespace = kubernetes_namespace_v1.lfr.metadata[0].name
      labels    = local.pg_labels
    }
    spec = {
      instances = var.postgres_instances
      imageName = var.postgres_image
      # Propagated to the instance pods so that network policies can select them.
      inheritedMetadata = {
        labels = local.pg_labels
      }
      primaryUpdateStrategy = "unsupervised"
      storage = merge(
        { size = var.postgres_storage_size },
        var.storage_class_name == null ? {} : { storageClass = var.storage_class_name },
      )
      postgresql = {
        parameters = {
          # Statements are not logged with their parameters: probe embeddings must not end up in logs.
          log_min_duration_statement = "-1"
          log_statement              = "ddl"
        }
      }
      bootstrap = {
        initdb = {
          database = var.database_name
          owner    = var.database_owner
          # No `secret` here: the operator generates the owner's password into the `<cluster>-app`
          # Secret, so no credential ever passes through Terraform.
          # pgvector's extension is created once by the superuser; `lfr db migrate` then finds it.
          postInitApplicationSQL = ["CREATE EXTENSION IF NOT EXISTS vector"]
        }
      }
      enableSuperuserAccess = false
    }
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [helm_release.cnpg_operator]
}
