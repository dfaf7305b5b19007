# Every Kubernetes object of the platform is a manifest rendered in locals (namespace.tf, config.tf,
# network_policies.tf, postgres.tf, migrate.tf, ray.tf, gateway.tf) and applied here in dependency
# order. The tests render the same locals without a cluster and validate them against the upstream
# schemas (tests/infra).

locals {
  manifests = merge(local.namespace_manifests, local.config_manifests, local.network_policy_manifests,
  local.postgres_manifests, local.migrate_manifests, local.ray_manifests, local.gateway_manifests)
}

resource "kubernetes_manifest" "namespace" {
  for_each = local.namespace_manifests
  manifest = each.value
}

resource "kubernetes_manifest" "platform" {
  for_each = merge(local.config_manifests, local.network_policy_manifests)
  manifest = each.value

  depends_on = [kubernetes_manifest.namespace]
}

resource "kubernetes_manifest" "postgres_cluster" {
  for_each = { for k, m in local.postgres_manifests : k => m if m.kind == "Cluster" }
  manifest = each.value

  # The operator's webhook fills in its default parameters and other defaults; those are its own.
  computed_fields = ["metadata.annotations", "metadata.labels", "spec.postgresql.parameters"]

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

  depends_on = [helm_release.cnpg_operator, helm_release.barman_cloud_plugin, kubernetes_manifest.platform]
}

resource "kubernetes_manifest" "postgres" {
  for_each = { for k, m in local.postgres_manifests : k => m if m.kind != "Cluster" }
  manifest = each.value

  depends_on = [kubernetes_manifest.postgres_cluster]
}

resource "kubernetes_manifest" "migrate" {
  for_each = local.migrate_manifests
  manifest = each.value

  wait {
    condition {
      type   = "Complete"
      status = "True"
    }
  }

  timeouts {
    create = "15m"
    update = "15m"
  }

  depends_on = [kubernetes_manifest.postgres_cluster, kubernetes_manifest.platform]
}

resource "kubernetes_manifest" "ray" {
  for_each = local.ray_manifests
  manifest = each.value

  # KubeRay adds its own labels and annotations; the spec stays owned by this configuration, except
  # the replica bounds the DAG patches around a window (ray_apps/scaling/kuberay.py), which a later apply
  # resets to the planned ones.
  computed_fields = ["metadata.annotations", "metadata.labels"]

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [helm_release.kuberay_operator, kubernetes_manifest.migrate]
}

resource "kubernetes_manifest" "gateway" {
  for_each = local.gateway_manifests
  manifest = each.value

  depends_on = [kubernetes_manifest.ray, helm_release.airflow]
}
