# The platform's settings as one ConfigMap consumed through envFrom by Ray, Airflow and the migration
# job, so all three read the same values; secrets come as files (locals.tf), never copied here. The
# Airflow task pods may patch the RayService, and only that, to pre-scale Serve around a window.
locals {
  config_manifests = {
    "configmap/lfr-config" = {
      apiVersion = "v1"
      kind       = "ConfigMap"
      metadata   = { name = local.config_name, namespace = var.namespace, labels = local.part_of }
      data       = local.lfr_env
    }
    "serviceaccount/lfr-ray" = {
      apiVersion = "v1"
      kind       = "ServiceAccount"
      metadata   = { name = "lfr-ray", namespace = var.namespace, labels = local.part_of }
      # Serve replicas never call the Kubernetes API. The head keeps the account KubeRay creates for
      # its autoscaler sidecar.
      automountServiceAccountToken = false
    }
    "serviceaccount/lfr-migrate" = {
      apiVersion                   = "v1"
      kind                         = "ServiceAccount"
      metadata                     = { name = "lfr-migrate", namespace = var.namespace, labels = local.part_of }
      automountServiceAccountToken = false
    }
    # KubeRay resubmits the RayService's own serveConfigV2 after an operator restart or a head crash,
    # so pre-scaling must change that spec (ray_apps/scaling/kuberay.py), not the running Serve app.
    "role/lfr-rayservice-scaler" = {
      apiVersion = "rbac.authorization.k8s.io/v1"
      kind       = "Role"
      metadata   = { name = "lfr-rayservice-scaler", namespace = var.namespace, labels = local.part_of }
      rules = [{
        apiGroups     = ["ray.io"]
        resources     = ["rayservices"]
        resourceNames = [local.ray_service_name]
        verbs         = ["get", "patch"]
      }]
    }
    "rolebinding/lfr-rayservice-scaler" = {
      apiVersion = "rbac.authorization.k8s.io/v1"
      kind       = "RoleBinding"
      metadata   = { name = "lfr-rayservice-scaler", namespace = var.namespace, labels = local.part_of }
      roleRef    = { apiGroup = "rbac.authorization.k8s.io", kind = "Role", name = "lfr-rayservice-scaler" }
      subjects   = [{ kind = "ServiceAccount", name = local.ray_prescaler_sa, namespace = var.namespace }]
    }
  }
}
