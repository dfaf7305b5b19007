# The platform's settings as one ConfigMap consumed through envFrom by Ray, Airflow and the migration
# job, so all three read the same values. Secrets are referenced (local.lfr_secret_env), never copied.
resource "kubernetes_config_map_v1" "lfr" {
  metadata {
    name      = local.config_name
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }

  data = local.lfr_env
}

# Where Airflow's pre-scaling step reaches the Serve cluster: the Ray Client port of the head Service
# KubeRay creates for the RayService (a stable name across Ray cluster upgrades).
resource "kubernetes_config_map_v1" "ray_address" {
  metadata {
    name      = "lfr-ray-address"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }

  data = {
    address = "ray://${local.ray_head_service}.${var.namespace}.svc:10001"
  }
}

resource "kubernetes_service_account_v1" "ray" {
  metadata {
    name      = "lfr-ray"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  # Used by the worker pods only: Serve replicas never call the Kubernetes API. The head keeps the
  # account KubeRay creates for its autoscaler sidecar.
  automount_service_account_token = false
}

resource "kubernetes_service_account_v1" "migrate" {
  metadata {
    name      = "lfr-migrate"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  automount_service_account_token = false
}
