# Inputs of the production deployment. Secret VALUES are never inputs: every credential is referenced
# by the name of a Kubernetes Secret created outside Terraform (External Secrets Operator, Vault,
# sealed-secrets or a manual `kubectl create secret`), so neither tfvars nor state ever hold one.

# ---------------------------------------------------------------------------------------------------
# Cluster and namespace
# ---------------------------------------------------------------------------------------------------

variable "kubeconfig_path" {
  description = "Path to the kubeconfig used by the kubernetes and helm providers."
  type        = string
  default     = "~/.kube/config"
}

variable "kubeconfig_context" {
  description = "kubeconfig context of the force's cluster; null uses the current context."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Namespace holding every platform component (PostgreSQL, MinIO, Airflow, Ray, the migration job)."
  type        = string
  default     = "lfr"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters."
  }
}

variable "dns_namespace" {
  description = "Namespace of the cluster DNS pods (every pod may reach them on port 53 and nothing else outside the platform by default)."
  type        = string
  default     = "kube-system"
}

variable "dns_pod_labels" {
  description = "Labels selecting the cluster DNS pods in dns_namespace."
  type        = map(string)
  default     = { "k8s-app" = "kube-dns" }
}

variable "kube_api_server_cidrs" {
  description = "CIDRs of the Kubernetes API server endpoints. The CloudNativePG instance manager, the Ray autoscaler and the Airflow scheduler (KubernetesExecutor) talk to the API; nothing else may leave the cluster network."
  type        = list(string)

  validation {
    condition     = length(var.kube_api_server_cidrs) > 0 && alltrue([for c in var.kube_api_server_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "kube_api_server_cidrs must be a non-empty list of valid CIDRs and must not contain 0.0.0.0/0 or ::/0 (no egress to the internet)."
  }
}

variable "kube_api_server_port" {
  description = "TCP port of the Kubernetes API server endpoints (443 on most managed clusters, 6443 on kubeadm)."
  type        = number
  default     = 6443

  validation {
    condition     = var.kube_api_server_port >= 1 && var.kube_api_server_port <= 65535
    error_message = "kube_api_server_port must be in [1, 65535]."
  }
}


variable "api_server_policy" {
  description = "How egress to the Kubernetes API server is allowed. ip-block: NetworkPolicy ipBlock rules on kube_api_server_cidrs (Calico and most CNIs, which match the endpoint addresses after DNAT). cilium-entity: a CiliumNetworkPolicy with toEntities kube-apiserver, because Cilium's default policy engine does not match ipBlock rules against the API server."
  type        = string
  default     = "ip-block"

  validation {
    condition     = contains(["ip-block", "cilium-entity"], var.api_server_policy)
    error_message = "api_server_policy must be ip-block or cilium-entity."
  }
}

variable "pod_security_level" {
  description = "Pod Security Admission level enforced on the namespace. Every pod this configuration creates meets restricted (seccomp RuntimeDefault, non-root, no privilege escalation, all capabilities dropped)."
  type        = string
  default     = "restricted"

  validation {
    condition     = contains(["baseline", "restricted"], var.pod_security_level)
    error_message = "pod_security_level must be baseline or restricted (privileged is not allowed for this platform)."
  }
}

variable "ca_bundle_configmap_name" {
  description = "Existing ConfigMap (key ca.crt) with the CA certificates the force's internal services are signed with (object store, PostgreSQL backup store, identity provider). Mounted into every Ray, Airflow and migration pod, and named by SSL_CERT_FILE, REQUESTS_CA_BUNDLE and LFR_S3__CA_FILE."
  type        = string
  default     = "lfr-ca-bundle"
}

# ---------------------------------------------------------------------------------------------------
# Gateway API (ingress-nginx was retired in March 2026)
# ---------------------------------------------------------------------------------------------------

variable "gateway" {
  description = "An existing Gateway (Gateway API) of the force's internal network, with TLS terminated on its listener. HTTPRoutes attach the matching API and, when airflow_hostname is set, the Airflow UI to it. pod_labels and namespace select the gateway's data-plane pods, the only clients allowed to reach Serve and the Airflow API server."
  type = object({
    name             = string
    namespace        = string
    section_name     = optional(string)
    serve_hostname   = string
    airflow_hostname = optional(string)
    pod_labels       = map(string)
  })
}

# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------

variable "platform_image" {
  description = "Image with the `lfr` package and ray_apps installed (built FROM rayproject/ray:<ray_version>-py311). Runs the Ray cluster and the migration job. Pinned by digest (a tag may be added for people), so that what was reviewed is what runs."
  type        = string

  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$", var.platform_image))
    error_message = "platform_image must be pinned by digest (...@sha256:<64 hex>): a deployment must run exactly the reviewed image."
  }
}

variable "image_pull_secret_names" {
  description = "Existing docker-registry Secrets for the force's internal registry (no public registry is reachable at run time)."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL + pgvector
# ---------------------------------------------------------------------------------------------------

variable "postgres_mode" {
  description = "cloudnative-pg: an in-cluster PostgreSQL cluster run by the CloudNativePG operator; external: a managed PostgreSQL (with the vector extension) reached through a DSN kept in an existing Secret."
  type        = string
  default     = "cloudnative-pg"

  validation {
    condition     = contains(["cloudnative-pg", "external"], var.postgres_mode)
    error_message = "postgres_mode must be cloudnative-pg or external."
  }
}

variable "cnpg_operator_chart_version" {
  description = "Version of the cloudnative-pg operator chart (https://cloudnative-pg.github.io/charts); 0.29.0 installs operator 1.30.0, whose CRDs the tests validate against."
  type        = string
  default     = "0.29.0"
}

variable "postgres_image" {
  description = "CloudNativePG's own PostgreSQL 18 image, standard flavour (ships pgvector and runs as uid 26, as the operator assumes). The tag must start with the PostgreSQL version (the operator's admission webhook refuses others); pin a digest in production."
  type        = string
  default     = "ghcr.io/cloudnative-pg/postgresql:18.6-standard-trixie"

  validation {
    condition     = can(regex(":18(\\.[0-9]+)?-[a-z0-9.-]+(@sha256:[0-9a-f]{64})?$", var.postgres_image))
    error_message = "postgres_image must be a PostgreSQL 18 image whose tag starts with the version (e.g. :18.6-standard-trixie), as CloudNativePG's webhook requires."
  }
}

variable "postgres_sync_replicas" {
  description = "Standbys that must confirm each commit (synchronous replication, method any, dataDurability required): a committed audit record or approval survives the loss of the primary."
  type        = number
  default     = 1

  validation {
    condition     = var.postgres_sync_replicas >= 1 && floor(var.postgres_sync_replicas) == var.postgres_sync_replicas
    error_message = "postgres_sync_replicas must be an integer >= 1."
  }

  validation {
    condition     = var.postgres_mode != "cloudnative-pg" || var.postgres_sync_replicas < var.postgres_instances
    error_message = "postgres_sync_replicas must be below postgres_instances (at least one more instance than synchronous standbys)."
  }
}

variable "airflow_db_role_secret_name" {
  description = "cloudnative-pg mode: existing kubernetes.io/basic-auth Secret (username airflow, password) for the role owning Airflow's metadata database, which the operator creates in the same cluster. airflow_metadata_secret_name must hold the matching URL."
  type        = string
  default     = "lfr-airflow-db-role"
}

variable "cnpg_operator_namespace" {
  description = "Namespace of the CloudNativePG operator and its Barman Cloud plugin; the operator reaches each instance manager on port 8000."
  type        = string
  default     = "cnpg-system"
}

variable "postgres_instances" {
  description = "PostgreSQL instances (1 primary + standbys); 3 keeps synchronous replication when one standby is lost."
  type        = number
  default     = 3

  validation {
    condition     = var.postgres_instances >= 2 && var.postgres_instances <= 9 && floor(var.postgres_instances) == var.postgres_instances
    error_message = "postgres_instances must be an integer in [2, 9]: synchronous replication needs a standby."
  }
}

variable "postgres_storage_size" {
  description = "Volume size per PostgreSQL instance."
  type        = string
  default     = "50Gi"
}

variable "storage_class_name" {
  description = "StorageClass for the PostgreSQL volumes; it should encrypt at rest. null uses the cluster default."
  type        = string
  default     = null
}

variable "database_name" {
  description = "Database of the platform (LFR_DB__NAME)."
  type        = string
  default     = "lfr"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a lower-case PostgreSQL identifier of at most 63 characters."
  }
}

variable "database_owner" {
  description = "Role owning the platform database (LFR_DB__USER)."
  type        = string
  default     = "lfr"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database_owner))
    error_message = "database_owner must be a lower-case PostgreSQL identifier of at most 63 characters."
  }
}

variable "external_db_secret_name" {
  description = "external mode: existing Secret holding the libpq DSN of the managed PostgreSQL (becomes LFR_DB__DSN)."
  type        = string
  default     = null

  validation {
    condition     = var.postgres_mode != "external" || var.external_db_secret_name != null
    error_message = "external_db_secret_name is required when postgres_mode is external."
  }
}

variable "external_db_admin_secret_name" {
  description = "external mode: existing Secret (key dsn) with an administrator's DSN for the migration Job only (roles, ownership, the sealed audit log; lfr_core/db/harden.py). Without it the application's login keeps owning the schema."
  type        = string
  default     = null
}

variable "external_db_secret_key" {
  description = "Key of the DSN inside external_db_secret_name."
  type        = string
  default     = "dsn"
}

variable "external_db_cidrs" {
  description = "external mode: CIDRs of the managed PostgreSQL private endpoint (never a public address range)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.external_db_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "external_db_cidrs must hold valid CIDRs and must not contain 0.0.0.0/0 or ::/0."
  }

  validation {
    condition     = var.postgres_mode != "external" || length(var.external_db_cidrs) > 0
    error_message = "external_db_cidrs is required when postgres_mode is external (the default-deny egress policy blocks everything else)."
  }
}

variable "external_db_port" {
  description = "external mode: TCP port of the managed PostgreSQL."
  type        = number
  default     = 5432

  validation {
    condition     = var.external_db_port >= 1 && var.external_db_port <= 65535
    error_message = "external_db_port must be in [1, 65535]."
  }
}

# ---------------------------------------------------------------------------------------------------
# Object store (external, S3-compatible, object lock) and PostgreSQL backups
# ---------------------------------------------------------------------------------------------------

variable "object_store" {
  description = "The force's S3-compatible object store for the platform's buckets, reached over TLS on a private endpoint. It must support versioning and object lock (COMPLIANCE mode for the audit anchors): e.g. MinIO AIStor, Ceph RGW (Rook), NetApp StorageGRID, or a cloud S3 over a private link. The MinIO community chart this configuration used to install is unmaintained and is no longer offered. credentials_secret_name holds key secret-key (file LFR_S3__SECRET_KEY)."
  type = object({
    endpoint                = string
    port                    = optional(number, 443)
    cidrs                   = list(string)
    region                  = optional(string, "us-east-1")
    access_key_id           = string
    credentials_secret_name = string
  })

  validation {
    condition     = length(var.object_store.cidrs) > 0 && alltrue([for c in var.object_store.cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "object_store.cidrs must be a non-empty list of private CIDRs, never 0.0.0.0/0 or ::/0."
  }
}

variable "postgres_backup" {
  description = "cloudnative-pg mode: where base backups and WAL go (Barman Cloud plugin), on a store OUTSIDE the platform's object store, so that losing one does not lose both. destination_path is s3://bucket/prefix; credentials_secret_name holds keys ACCESS_KEY_ID and ACCESS_SECRET_KEY; ca_secret_name (key ca.crt) verifies the endpoint's TLS. schedule is a six-field cron (seconds first)."
  type = object({
    destination_path        = string
    endpoint_url            = string
    cidrs                   = list(string)
    port                    = optional(number, 443)
    credentials_secret_name = string
    ca_secret_name          = string
    schedule                = optional(string, "0 0 2 * * *")
    retention               = optional(string, "30d")
  })
  default = null

  validation {
    condition     = var.postgres_mode != "cloudnative-pg" || var.postgres_backup != null
    error_message = "postgres_backup is required when postgres_mode is cloudnative-pg: an in-cluster database without backups is not accepted."
  }

  validation {
    condition     = var.postgres_backup == null ? true : (startswith(var.postgres_backup.destination_path, "s3://") && startswith(var.postgres_backup.endpoint_url, "https://") && length(split(" ", var.postgres_backup.schedule)) == 6)
    error_message = "postgres_backup needs an s3:// destination_path, an https:// endpoint_url and a six-field cron schedule."
  }

  validation {
    condition     = var.postgres_backup == null ? true : (length(var.postgres_backup.cidrs) > 0 && alltrue([for c in var.postgres_backup.cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)]))
    error_message = "postgres_backup.cidrs must be a non-empty list of private CIDRs, never 0.0.0.0/0 or ::/0."
  }
}

variable "barman_plugin_chart_version" {
  description = "Version of the plugin-barman-cloud chart (https://cloudnative-pg.github.io/charts); it needs cert-manager in the cluster."
  type        = string
  default     = "0.7.0"
}

# ---------------------------------------------------------------------------------------------------
# Platform settings (LFR_* environment, one ConfigMap)
# ---------------------------------------------------------------------------------------------------

variable "match_threshold" {
  description = "Cosine similarity threshold for an alert (LFR_MATCH__THRESHOLD). Set it from the force's own evaluation at the chosen false alert rate."
  type        = number
  default     = 0.363

  validation {
    condition     = var.match_threshold >= -1 && var.match_threshold <= 1
    error_message = "match_threshold must be in [-1, 1] (cosine similarity)."
  }
}

variable "alert_retention_days" {
  description = "Alerts older than this are deleted unless on legal hold (LFR_ALERTS__RETENTION_DAYS)."
  type        = number
  default     = 31

  validation {
    condition     = var.alert_retention_days >= 1 && var.alert_retention_days <= 3650 && floor(var.alert_retention_days) == var.alert_retention_days
    error_message = "alert_retention_days must be an integer in [1, 3650]."
  }
}

variable "watchlist_max_window_hours" {
  description = "Longest deployment window allowed (LFR_WATCHLIST__MAX_WINDOW_HOURS); the watchlist is purged after it ends."
  type        = number
  default     = 24

  validation {
    condition     = var.watchlist_max_window_hours > 0 && var.watchlist_max_window_hours <= 336
    error_message = "watchlist_max_window_hours must be in (0, 336]."
  }
}

variable "watchlist_expiry_grace_minutes" {
  description = "Wait after a window ends before the reconciling sweep purges a list its run left (LFR_WATCHLIST__EXPIRY_GRACE_MINUTES); 0 finishes within a minute of the end."
  type        = number
  default     = 0

  validation {
    condition     = var.watchlist_expiry_grace_minutes >= 0 && var.watchlist_expiry_grace_minutes <= 1440
    error_message = "watchlist_expiry_grace_minutes must be in [0, 1440]."
  }
}

variable "audit_log_retention_days" {
  description = "Retention of the hash-chained audit log, recorded on the namespace for the data protection officer. The platform never deletes audit rows; expire them (and their backups) by a reviewed procedure, since deleting rows breaks the chain from that point."
  type        = number
  default     = 2190

  validation {
    condition     = var.audit_log_retention_days >= 1 && floor(var.audit_log_retention_days) == var.audit_log_retention_days
    error_message = "audit_log_retention_days must be an integer >= 1."
  }
}

variable "extra_lfr_env" {
  description = "Further non-secret LFR_* settings for the ConfigMap, e.g. { LFR_TRACK__HITS_TO_ALERT = \"3\" }. Secrets do not belong here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_lfr_env) : startswith(k, "LFR_")])
    error_message = "extra_lfr_env keys must start with LFR_."
  }

  validation {
    condition     = alltrue([for k in keys(var.extra_lfr_env) : !can(regex("(?i)(PASSWORD|SECRET|DSN|TOKEN)", k))])
    error_message = "extra_lfr_env must not carry secrets (PASSWORD, SECRET, DSN, TOKEN): reference a Secret instead."
  }
}

# ---------------------------------------------------------------------------------------------------
# Ray Serve (KubeRay)
# ---------------------------------------------------------------------------------------------------

variable "kuberay_operator_namespace" {
  description = "Namespace of the KubeRay operator; it must reach the Ray head's dashboard to deploy the Serve config."
  type        = string
  default     = "kuberay-system"
}

variable "ray_version" {
  description = "Ray version in platform_image (RayCluster.spec.rayVersion); must match the lock file."
  type        = string
  default     = "2.60.0"
}

variable "serve_import_path" {
  description = "Import path of the Serve application builder."
  type        = string
  default     = "ray_apps.app:build_app"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$", var.serve_import_path))
    error_message = "serve_import_path must look like package.module:function."
  }
}

variable "serve_port" {
  description = "Ray Serve HTTP port (LFR_SERVE__PORT); the only port the ingress controller may reach."
  type        = number
  default     = 8000

  validation {
    condition     = var.serve_port >= 1024 && var.serve_port <= 65535
    error_message = "serve_port must be in [1024, 65535]."
  }
}

variable "kuberay_operator_chart_version" {
  description = "Version of the kuberay-operator chart (https://ray-project.github.io/kuberay-helm/). 1.6+ for Ray token authentication; the tests validate the RayService against 1.7.0's CRD."
  type        = string
  default     = "1.7.0"
}

variable "peak_cameras" {
  description = "Most cameras streaming at once at camera_fps. With the per-stage CPU costs below it sets each model deployment's maximum replicas and the CPU worker group's maximum size (see README, Capacity)."
  type        = number
  default     = 50

  validation {
    condition     = var.peak_cameras >= 1 && var.peak_cameras <= 2000 && floor(var.peak_cameras) == var.peak_cameras
    error_message = "peak_cameras must be an integer in [1, 2000]."
  }
}

variable "camera_fps" {
  description = "Frames per second each camera sends."
  type        = number
  default     = 5

  validation {
    condition     = var.camera_fps > 0 && var.camera_fps <= 30
    error_message = "camera_fps must be in (0, 30]."
  }
}

variable "stage_cpu_ms_per_frame" {
  description = "CPU milliseconds per 640x360 frame in each Serve deployment, from bench/live.py (bench/results/live.json; the README's Capacity section shows how they were measured). Re-measure on the force's own nodes and set them here."
  type = object({
    detector = number
    embedder = number
    ingress  = number
  })
  default = { detector = 12.3, embedder = 69.3, ingress = 14.8 }

  validation {
    condition     = alltrue([for v in values(var.stage_cpu_ms_per_frame) : v > 0])
    error_message = "stage_cpu_ms_per_frame values must be positive."
  }
}

variable "target_cpu_utilisation" {
  description = "Share of a replica's CPU the sizing plans to use at peak_cameras (headroom for bursts and crowds)."
  type        = number
  default     = 0.6

  validation {
    condition     = var.target_cpu_utilisation > 0.1 && var.target_cpu_utilisation <= 0.9
    error_message = "target_cpu_utilisation must be in (0.1, 0.9]."
  }
}

variable "ray_gcs_fault_tolerance" {
  description = "Ray GCS fault tolerance through an external Redis (address host:port, password in a Secret key `password`). null accepts the Ray head as a single point of failure: a head crash stops matching until KubeRay recreates the cluster (about 2 minutes, during which cameras get 503 and retry); no alert or list is lost, since both live in PostgreSQL."
  type = object({
    redis_address        = string
    password_secret_name = string
    redis_cidrs          = list(string)
    redis_port           = optional(number, 6379)
  })
  default = null
}

variable "ray_head_resources" {
  description = "Requests/limits of the Ray head (GCS, dashboard, Serve controller; it runs no replicas)."
  type = object({
    cpu    = string
    memory = string
  })
  default = { cpu = "2", memory = "8Gi" }
}

variable "cpu_workers" {
  description = "CPU worker group of the Ray cluster. Each model replica asks for one CPU, so the autoscaler adds a worker whenever the replicas the load needs do not fit (max_replicas is derived from peak_cameras; min_replicas is what stays up between windows)."
  type = object({
    min_replicas = optional(number, 1)
    cpu          = optional(number, 8)
    memory       = optional(string, "16Gi")
  })
  default = {}

  validation {
    condition     = var.cpu_workers.min_replicas >= 0 && var.cpu_workers.cpu >= 2 && floor(var.cpu_workers.cpu) == var.cpu_workers.cpu
    error_message = "cpu_workers needs min_replicas >= 0 and an integer cpu >= 2."
  }
}

variable "gpu_workers" {
  description = "Optional GPU worker group; node_selector and tolerations steer it onto GPU nodes. When enabled, the detector and embedder replicas ask for a share of a GPU (so they run only on this group, with LFR_VISION__DEVICE=cuda) and the ingress stays on the CPU group."
  type = object({
    enabled         = bool
    min_replicas    = optional(number, 0)
    max_replicas    = optional(number, 2)
    gpus_per_worker = optional(number, 1)
    cpu             = optional(string, "8")
    memory          = optional(string, "32Gi")
    gpu_resource    = optional(string, "nvidia.com/gpu")
    # What runs YuNet, SCRFD and SFace on the GPU: "torch" (the same float32 graphs as torch operators; the
    # platform image's locked torch is a CUDA build, so image may stay null) or "onnxruntime" (needs image:
    # platform_image built with onnxruntime-gpu in place of onnxruntime, same version line).
    runtime   = optional(string, "torch")
    image     = optional(string)
    precision = optional(string, "fp32")
    # The detector replica runs the whole device pipeline and returns embeddings, not crops; the embedder
    # deployment then keeps no replica (LFR_VISION__FUSED_DETECTOR; false: detector and embedder replicas).
    fused         = optional(bool, true)
    node_selector = optional(map(string), {})
    tolerations = optional(list(object({
      key      = string
      operator = optional(string, "Exists")
      value    = optional(string)
      effect   = optional(string, "NoSchedule")
    })), [])
  })
  default = { enabled = false }

  validation {
    condition     = !var.gpu_workers.enabled || (var.gpu_workers.min_replicas >= 0 && var.gpu_workers.max_replicas >= 1 && var.gpu_workers.max_replicas <= 64 && var.gpu_workers.min_replicas <= var.gpu_workers.max_replicas)
    error_message = "gpu_workers needs 0 <= min_replicas <= max_replicas <= 64 and max_replicas >= 1."
  }

  validation {
    condition     = !var.gpu_workers.enabled || (var.gpu_workers.gpus_per_worker >= 1 && var.gpu_workers.gpus_per_worker <= 16)
    error_message = "gpu_workers.gpus_per_worker must be in [1, 16]."
  }

  validation {
    condition     = try(var.gpu_workers.image, null) == null ? true : can(regex("@sha256:[0-9a-f]{64}$", var.gpu_workers.image))
    error_message = "gpu_workers.image must be pinned by digest (...@sha256:<64 hex>), as platform_image."
  }

  validation {
    condition     = contains(["torch", "onnxruntime"], try(var.gpu_workers.runtime, "torch"))
    error_message = "gpu_workers.runtime is torch or onnxruntime."
  }

  validation {
    condition     = try(var.gpu_workers.runtime, "torch") != "onnxruntime" || try(var.gpu_workers.image, null) != null
    error_message = "gpu_workers.runtime = \"onnxruntime\" needs gpu_workers.image: the platform image built with onnxruntime-gpu (the platform image's onnxruntime has no CUDA provider)."
  }

  validation {
    condition     = contains(["fp32", "fp16"], try(var.gpu_workers.precision, "fp32"))
    error_message = "gpu_workers.precision is fp32 or fp16 (the embedder's; fp16 starts only where it agrees with fp32)."
  }
}

variable "gpu_serve_batch" {
  description = "The GPU model replicas' @serve.batch: bench/gpu.py's serve_batch_1080p_clip, measured on the force's GPU (the batch of the best frames/s within the p95 budget, and its mean latency as the wait). null: not measured, and batches of up to 8 wait 10 ms."
  type = object({
    max_batch_size       = number
    batch_wait_timeout_s = number
  })
  default = null

  validation {
    condition     = var.gpu_serve_batch == null ? true : (var.gpu_serve_batch.max_batch_size >= 1 && var.gpu_serve_batch.max_batch_size <= 256 && var.gpu_serve_batch.batch_wait_timeout_s >= 0 && var.gpu_serve_batch.batch_wait_timeout_s <= 1)
    error_message = "gpu_serve_batch needs 1 <= max_batch_size <= 256 and 0 <= batch_wait_timeout_s <= 1 (as ray_apps/options.py), or null."
  }
}

variable "gpu_cameras_per_gpu" {
  description = "Cameras at 5 fps one GPU serves with p95 <= 250 ms: bench/gpu.py's cameras_at_5fps_p95_250ms, measured on the force's GPU. null: not measured, and the GPU group is sized by gpu_workers.max_replicas alone (never from an estimate)."
  type        = number
  default     = null

  validation {
    condition     = var.gpu_cameras_per_gpu == null ? true : var.gpu_cameras_per_gpu >= 1
    error_message = "gpu_cameras_per_gpu is a measured count of cameras (>= 1), or null."
  }
}

# ---------------------------------------------------------------------------------------------------
# Airflow
# ---------------------------------------------------------------------------------------------------

variable "airflow_chart_version" {
  description = "Version of the official apache-airflow chart (https://airflow.apache.org); 1.19+ is needed for Airflow 3. The tests validate the values against 1.19.0's values.schema.json (schemas/): change both together."
  type        = string
  default     = "1.19.0"
}

variable "airflow_image_repository" {
  description = "Airflow image with the `lfr` package installed (built FROM apache/airflow:<airflow_version>-python3.11)."
  type        = string
}

variable "airflow_image_tag" {
  description = "Tag of airflow_image_repository (never latest)."
  type        = string

  validation {
    condition     = var.airflow_image_tag != "latest" && length(var.airflow_image_tag) > 0
    error_message = "airflow_image_tag must be an explicit tag, not latest."
  }
}

variable "airflow_version" {
  description = "Airflow version in the image (the chart renders differently per major version)."
  type        = string
  default     = "3.3.2"

  validation {
    condition     = startswith(var.airflow_version, "3.")
    error_message = "The DAGs use airflow.sdk: airflow_version must be 3.x."
  }
}

variable "airflow_executor" {
  description = "Airflow executor."
  type        = string
  default     = "KubernetesExecutor"

  validation {
    condition     = contains(["KubernetesExecutor", "LocalExecutor", "CeleryExecutor"], var.airflow_executor)
    error_message = "airflow_executor must be KubernetesExecutor, LocalExecutor or CeleryExecutor."
  }
}

variable "airflow_parallelism" {
  description = "Airflow [core] parallelism (also LFR_AIRFLOW__PARALLELISM)."
  type        = number
  default     = 8

  validation {
    condition     = var.airflow_parallelism >= 1 && var.airflow_parallelism <= 64 && floor(var.airflow_parallelism) == var.airflow_parallelism
    error_message = "airflow_parallelism must be an integer in [1, 64]."
  }
}

variable "airflow_dags_source" {
  description = "git-sync: DAGs pulled from the force's internal git server; image: DAGs baked into airflow_image (no git egress at all)."
  type        = string
  default     = "image"

  validation {
    condition     = contains(["git-sync", "image"], var.airflow_dags_source)
    error_message = "airflow_dags_source must be git-sync or image."
  }
}

variable "airflow_git_sync" {
  description = "git-sync settings when airflow_dags_source is git-sync: repository on an internal git server, ref, sub-path of the DAG folder, Secret with the SSH key (key gitSshKey), and the server's CIDRs for the egress policy."
  type = object({
    repo            = string
    branch          = optional(string, "main")
    rev             = optional(string, "HEAD")
    sub_path        = optional(string, "dags")
    ssh_key_secret  = optional(string)
    known_hosts     = optional(string)
    server_cidrs    = list(string)
    server_port     = optional(number, 22)
    period_duration = optional(string, "60s")
  })
  default = null

  validation {
    condition     = var.airflow_dags_source != "git-sync" || var.airflow_git_sync != null
    error_message = "airflow_git_sync is required when airflow_dags_source is git-sync."
  }

  validation {
    condition     = var.airflow_git_sync == null ? true : alltrue([for c in var.airflow_git_sync.server_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "airflow_git_sync.server_cidrs must be valid CIDRs of an internal git server, never 0.0.0.0/0 or ::/0."
  }
}

variable "airflow_metadata_secret_name" {
  description = "Existing Secret with key `connection` holding Airflow's own metadata database URL (a separate database from the platform's)."
  type        = string
  default     = "lfr-airflow-metadata"
}

variable "airflow_fernet_key_secret_name" {
  description = "Existing Secret with key fernet-key (encrypts Airflow connections and variables)."
  type        = string
  default     = "lfr-airflow-fernet"
}

variable "audit_signing_key_secret_name" {
  description = "Existing Secret with keys signing.pem (an Ed25519 private key, PEM) and verify.pem (its public key) that sign and check the audit log's Merkle checkpoints (lfr_core/audit/checkpoints.py). Mounted into the Airflow pods only, which write the checkpoints; it never reaches the database host."
  type        = string
  default     = "lfr-audit-signing-key"
}

variable "airflow_jwt_secret_name" {
  description = "Existing Secret with key jwt-secret (signs the API server's tokens). Without it the chart generates a new one at every upgrade, signing every user out and breaking running task pods."
  type        = string
  default     = "lfr-airflow-jwt"
}

variable "airflow_api_secret_key_secret_name" {
  description = "Existing Secret with key api-secret-key (signs Airflow UI sessions)."
  type        = string
  default     = "lfr-airflow-api-secret"
}

variable "airflow_extra_values" {
  description = "Extra YAML merged over the Airflow chart values last (auth manager / SSO, ingress, resources). Secrets must be referenced by Secret name, not inlined."
  type        = string
  default     = ""
}
