# Ray Serve on KubeRay: one RayService running the matching application, with Ray token authentication,
# sized from measured cost (capacity.tf), and a GPU group that the model replicas actually ask for.
locals {
  # On CPU a batch costs the same per item and only makes its requests wait (bench/vision.py): batches of
  # one, as ray_apps/serve_config.yaml. On GPUs, bench/gpu.py's serve_batch_1080p_clip (gpu_serve_batch);
  # until a GPU has measured it, batches of up to 8 across frames, waiting 10 ms.
  model_batch = var.gpu_workers.enabled ? coalesce(var.gpu_serve_batch, { max_batch_size = 8, batch_wait_timeout_s = 0.01 }) : { max_batch_size = 1, batch_wait_timeout_s = 0 }
  # The autoscaler adds a replica once a batch's worth of requests waits on each (fewer, and batches never
  # fill); a replica accepts two batches' worth (ray_apps/options.py refuses less than one).
  model_target_ongoing = max(4, local.model_batch.max_batch_size)
  # Fused (the GPU default): the detector replica embeds too, so the embedder keeps no replica and no GPU share;
  # pre-scaling leaves it at zero (lfr_core/live/scaling.py reads fused_detector in the app's args).
  fused              = var.gpu_workers.enabled && try(var.gpu_workers.fused, true)
  model_min_replicas = { detector = local.capacity.min_replicas, embedder = local.fused ? 0 : local.capacity.min_replicas }
  model_options = { for name, replicas in { detector = local.capacity.detector_replicas, embedder = local.capacity.embedder_replicas } : name => {
    min_replicas            = local.model_min_replicas[name]
    max_replicas            = replicas
    num_cpus                = 1
    num_gpus                = var.gpu_workers.enabled ? local.gpu_share : 0
    batch                   = local.model_batch
    target_ongoing_requests = local.model_target_ongoing
    max_ongoing_requests    = max(16, 2 * local.model_batch.max_batch_size)
  } }

  # serveConfigV2 is the one source of the app's shape: KubeRay resubmits it after an operator restart
  # or a head crash, and the Airflow DAG pre-scales by patching `deployments[].autoscaling_config`
  # here (ray_apps/scaling/kuberay.py), never the running app alone.
  quiet_logs = { enable_access_log = false } # no log line per request (ray_apps/app.py QUIET_LOGS)
  serve_config = {
    proxy_location = "EveryNode"
    http_options   = { host = "0.0.0.0", port = var.serve_port }
    logging_config = local.quiet_logs
    applications = [{
      name           = "lfr"
      logging_config = local.quiet_logs
      import_path    = var.serve_import_path
      route_prefix   = "/"
      args = {
        detector             = local.model_options.detector
        embedder             = local.model_options.embedder
        ingress_num_cpus     = 1
        ingress_min_replicas = local.capacity.min_replicas
        ingress_max_replicas = local.capacity.ingress_replicas
        fused_detector       = local.fused
      }
      # Cameras are spread over the ingress replicas by camera id (ray_apps/ingress/routing.py).
      deployments = concat([for name in ["Detector", "Embedder"] : {
        name = name
        autoscaling_config = {
          min_replicas            = local.model_min_replicas[lower(name)]
          max_replicas            = local.model_options[lower(name)].max_replicas
          target_ongoing_requests = local.model_target_ongoing
        }
        }], [{
        name = "Ingress"
        autoscaling_config = {
          min_replicas            = local.capacity.min_replicas
          max_replicas            = local.capacity.ingress_replicas
          target_ongoing_requests = 8
        }
      }])
    }]
  }

  ray_env_from = [{ configMapRef = { name = local.config_name } }]
  # What the head and worker containers share; each adds its name, environment, ports and resources.
  ray_container = {
    image           = var.platform_image
    imagePullPolicy = "Always"
    envFrom         = local.ray_env_from
    securityContext = local.container_security
    volumeMounts    = local.ray_volume_mounts
  }
  ray_volumes = [local.secrets_volume, local.ca_volume, { name = "lfr-home", emptyDir = {} }]
  ray_volume_mounts = concat(local.platform_volume_mounts, [
    { name = "lfr-home", mountPath = local.lfr_env["LFR_HOME"] },
  ])
  # Let a worker leave the cluster cleanly when the autoscaler removes it.
  ray_pre_stop    = { preStop = { exec = { command = ["/bin/sh", "-c", "ray stop"] } } }
  gpu_tolerations = [for t in try(var.gpu_workers.tolerations, []) : { for k, v in t : k => v if v != null }]

  gcs_fault_tolerance = var.ray_gcs_fault_tolerance == null ? {} : {
    gcsFaultToleranceOptions = {
      redisAddress  = var.ray_gcs_fault_tolerance.redis_address
      redisPassword = { valueFrom = { secretKeyRef = { name = var.ray_gcs_fault_tolerance.password_secret_name, key = "password" } } }
    }
  }

  worker_group_settings = {
    cpu = {
      min   = var.cpu_workers.min_replicas, max = max(var.cpu_workers.min_replicas, local.capacity.cpu_workers_max, 1)
      cpu   = tostring(var.cpu_workers.cpu), memory = var.cpu_workers.memory, accelerators = {}, placement = {}, env = local.ray_serve_env
      image = var.platform_image
    }
    gpu = {
      min          = try(var.gpu_workers.min_replicas, 0), max = try(var.gpu_workers.max_replicas, 1)
      cpu          = try(var.gpu_workers.cpu, "8"), memory = try(var.gpu_workers.memory, "32Gi")
      accelerators = { (try(var.gpu_workers.gpu_resource, "nvidia.com/gpu")) = tostring(try(var.gpu_workers.gpus_per_worker, 1)) }
      placement    = { nodeSelector = try(var.gpu_workers.node_selector, {}), tolerations = local.gpu_tolerations }
      # Set on the pod, not in the ConfigMap: only this group runs models on the GPU. A GPU pod that
      # cannot see a GPU then fails loudly rather than running on the CPU.
      env = concat(local.ray_serve_env, [{ name = "LFR_VISION__DEVICE", value = "cuda" },
        { name = "LFR_VISION__RUNTIME", value = try(var.gpu_workers.runtime, "torch") },
        { name = "LFR_VISION__PRECISION", value = try(var.gpu_workers.precision, "fp32") },
      { name = "LFR_VISION__FUSED_DETECTOR", value = tostring(local.fused) }])
      # torch: the platform image (its torch is a CUDA build); onnxruntime: the onnxruntime-gpu image. Every
      # backend checks at start that it sees the GPU and agrees with the CPU float32 graph.
      image = coalesce(try(var.gpu_workers.image, null), var.platform_image)
    }
  }

  worker_groups = { for name, group in local.worker_group_settings : name => {
    groupName      = name
    replicas       = group.min
    minReplicas    = group.min
    maxReplicas    = group.max
    rayStartParams = {}
    template = {
      metadata = { labels = local.ray_labels, annotations = local.ray_checkov_skips }
      spec = merge({
        serviceAccountName           = "lfr-ray"
        automountServiceAccountToken = false
        imagePullSecrets             = local.pull_secrets
        securityContext              = local.pod_security
        containers = [merge(local.ray_container, {
          image = group.image
          name  = "ray-worker"
          env   = group.env
          ports = [{ name = "serve", containerPort = var.serve_port }]
          resources = {
            requests = merge({ cpu = group.cpu, memory = group.memory }, group.accelerators)
            limits   = merge({ cpu = group.cpu, memory = group.memory }, group.accelerators)
          }
          lifecycle = local.ray_pre_stop
        })]
        volumes = local.ray_volumes
      }, group.placement)
    }
  } }

  ray_manifests = {
    "rayservice/lfr-serve" = {
      apiVersion = "ray.io/v1"
      kind       = "RayService"
      metadata   = { name = local.ray_service_name, namespace = var.namespace, labels = local.ray_labels }
      spec = {
        serveConfigV2 = yamlencode(local.serve_config)
        rayClusterConfig = merge({
          rayVersion = var.ray_version
          # Every Ray node and client needs the token KubeRay generates into a Secret of its own.
          authOptions             = { mode = "token" }
          enableInTreeAutoscaling = true
          autoscalerOptions = {
            idleTimeoutSeconds = 120
            upscalingMode      = "Default"
            securityContext    = local.container_security
            resources          = { requests = { cpu = "200m", memory = "512Mi" }, limits = { cpu = "500m", memory = "512Mi" } }
          }
          headGroupSpec = {
            # num-cpus 0: the head runs the GCS, dashboard and Serve controller, no replicas.
            rayStartParams = { "dashboard-host" = "0.0.0.0", "num-cpus" = "0" }
            template = {
              metadata = { labels = local.ray_labels, annotations = local.head_checkov_skips }
              spec = {
                imagePullSecrets = local.pull_secrets
                securityContext  = local.pod_security
                containers = [merge(local.ray_container, {
                  name = "ray-head"
                  env  = local.ray_serve_env
                  ports = [
                    { name = "gcs-server", containerPort = 6379 },
                    { name = "dashboard", containerPort = 8265 },
                    { name = "client", containerPort = 10001 },
                    { name = "serve", containerPort = var.serve_port },
                  ]
                  resources = { requests = { cpu = var.ray_head_resources.cpu, memory = var.ray_head_resources.memory }, limits = { cpu = var.ray_head_resources.cpu, memory = var.ray_head_resources.memory } }
                })]
                volumes = local.ray_volumes
              }
            }
          }
          workerGroupSpecs = concat([local.worker_groups.cpu], var.gpu_workers.enabled ? [local.worker_groups.gpu] : [])
        }, local.gcs_fault_tolerance)
      }
    }
  }
}
