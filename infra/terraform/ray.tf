# Ray Serve on KubeRay: the operator (chart) and one RayService running the matching application.
# The RayService custom resource needs the operator's CRDs at plan time: apply the operator first (see
# README, "Apply order").

resource "helm_release" "kuberay_operator" {
  name             = "kuberay-operator"
  repository       = "https://ray-project.github.io/kuberay-helm/"
  chart            = "kuberay-operator"
  version          = var.kuberay_operator_chart_version
  namespace        = var.kuberay_operator_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600
}

locals {
  ray_service_name = "lfr-serve"

  ray_volumes = [
    { name = "api-keys", secret = { secretName = var.api_keys_secret_name, defaultMode = 288 } }, # 0440
    { name = "lfr-home", emptyDir = {} },
  ]
  ray_volume_mounts = [
    { name = "api-keys", mountPath = local.api_keys_dir, readOnly = true },
    { name = "lfr-home", mountPath = local.lfr_env["LFR_HOME"] },
  ]
  ray_env_from = [{ configMapRef = { name = kubernetes_config_map_v1.lfr.metadata[0].name } }]
  # Let a worker leave the cluster cleanly when the autoscaler removes it.
  ray_pre_stop = { preStop = { exec = { command = ["/bin/sh", "-c", "ray stop"] } } }

  gpu_tolerations = [for t in try(var.gpu_workers.tolerations, []) : { for k, v in t : k => v if v != null }]

  # The CPU and GPU worker groups differ only in size, accelerator, placement and device.
  worker_group_settings = {
    cpu = { workers = var.cpu_workers, accelerators = {}, placement = {}, env = local.ray_serve_env }
    gpu = {
      workers      = var.gpu_workers
      accelerators = { (var.gpu_workers.gpu_resource) = tostring(var.gpu_workers.gpus_per_worker) }
      placement    = { nodeSelector = var.gpu_workers.node_selector, tolerations = local.gpu_tolerations }
      # Set on the pod, not in the ConfigMap: only this group runs models on the GPU. A GPU pod that
      # cannot see a GPU then fails loudly rather than running on the CPU.
      env = concat(local.ray_serve_env, [{ name = "LFR_VISION__DEVICE", value = "cuda" }])
    }
  }

  worker_groups = { for name, group in local.worker_group_settings : name => {
    groupName      = name
    replicas       = group.workers.min_replicas
    minReplicas    = group.workers.min_replicas
    maxReplicas    = group.workers.max_replicas
    rayStartParams = {}
    template = {
      metadata = { labels = local.ray_labels }
      spec = merge({
        serviceAccountName           = kubernetes_service_account_v1.ray.metadata[0].name
        automountServiceAccountToken = false
        imagePullSecrets             = local.pull_secrets
        containers = [{
          name    = "ray-worker"
          image   = var.platform_image
          envFrom = local.ray_env_from
          env     = group.env
          ports   = [{ name = "serve", containerPort = var.serve_port }]
          resources = {
            requests = merge({ cpu = group.workers.cpu, memory = group.workers.memory }, group.accelerators)
            limits   = merge({ cpu = group.workers.cpu, memory = group.workers.memory }, group.accelerators)
          }
          securityContext = local.container_security
          volumeMounts    = local.ray_volume_mounts
          lifecycle       = local.ray_pre_stop
        }]
        volumes = local.ray_volumes
      }, group.placement)
    }
  } }

  ray_service_manifest = {
    apiVersion = "ray.io/v1"
    kind       = "RayService"
    metadata = {
      name      = local.ray_service_name
      namespace = kubernetes_namespace_v1.lfr.metadata[0].name
      labels    = local.ray_labels
    }
    spec = {
      serveConfigV2 = yamlencode({
        proxy_location = "EveryNode"
        http_options   = { host = "0.0.0.0", port = var.serve_port }
        applications = [{
          name         = "lfr"
          import_path  = var.serve_import_path
          route_prefix = "/"
        }]
      })
      rayClusterConfig = {
        rayVersion              = var.ray_version
        enableInTreeAutoscaling = true
        autoscalerOptions = {
          idleTimeoutSeconds = 120
          upscalingMode      = "Default"
        }
        headGroupSpec = {
          # num-cpus 0: the head runs the GCS, dashboard and Serve controller, no model replicas.
          rayStartParams = { "dashboard-host" = "0.0.0.0", "num-cpus" = "0" }
          template = {
            metadata = { labels = local.ray_labels }
            spec = {
              imagePullSecrets = local.pull_secrets
              containers = [{
                name    = "ray-head"
                image   = var.platform_image
                envFrom = local.ray_env_from
                env     = local.ray_serve_env
                ports = [
                  { name = "gcs-server", containerPort = 6379 },
                  { name = "dashboard", containerPort = 8265 },
                  { name = "client", containerPort = 10001 },
                  { name = "serve", containerPort = var.serve_port },
                ]
                resources       = { requests = { cpu = var.ray_head_resources.cpu, memory = var.ray_head_resources.memory }, limits = { cpu = var.ray_head_resources.cpu, memory = var.ray_head_resources.memory } }
                securityContext = local.container_security
                volumeMounts    = local.ray_volume_mounts
              }]
              volumes = local.ray_volumes
            }
          }
        }
        workerGroupSpecs = concat([local.worker_groups.cpu], var.gpu_workers.enabled ? [local.worker_groups.gpu] : [])
      }
    }
  }
}

resource "kubernetes_manifest" "ray_service" {
  manifest = local.ray_service_manifest

  # KubeRay adds its own labels and annotations; the spec stays owned by this configuration.
  computed_fields = ["metadata.annotations", "metadata.labels"]

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [
    helm_release.kuberay_operator,
    helm_release.minio,
    kubernetes_job_v1.migrate,
    kubernetes_network_policy_v1.ray_internal,
    kubernetes_network_policy_v1.ray_dashboard,
    kubernetes_network_policy_v1.ray_client_from_airflow,
    kubernetes_network_policy_v1.platform_to_stores,
  ]
}

# TLS-only Ingress in front of the Serve HTTP proxy (the Service `<name>-serve-svc` is created by
# KubeRay and points at the pods running a proxy).
resource "kubernetes_ingress_v1" "serve" {
  count = var.serve_ingress_host == null ? 0 : 1

  metadata {
    name        = "lfr-serve"
    namespace   = kubernetes_namespace_v1.lfr.metadata[0].name
    labels      = local.part_of
    annotations = var.serve_ingress_annotations
  }

  spec {
    ingress_class_name = var.ingress_class_name

    tls {
      hosts       = [var.serve_ingress_host]
      secret_name = var.serve_ingress_tls_secret_name
    }

    rule {
      host = var.serve_ingress_host
      http {
        path {
          path      = "/"
          path_type = "Prefix"
          backend {
            service {
              name = "${local.ray_service_name}-serve-svc"
              port {
                number = var.serve_port
              }
            }
          }
        }
      }
    }
  }

  depends_on = [kubernetes_manifest.ray_service, kubernetes_network_policy_v1.serve_from_ingress]
}
