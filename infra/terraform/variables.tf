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

variable "pod_security_level" {
  description = "Pod Security Admission level enforced on the namespace."
  type        = string
  default     = "baseline"

  validation {
    condition     = contains(["baseline", "restricted"], var.pod_security_level)
    error_message = "pod_security_level must be baseline or restricted (privileged is not allowed for this platform)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Ingress
# ---------------------------------------------------------------------------------------------------

variable "ingress_controller_namespace" {
  description = "Namespace of the ingress controller, the only client allowed to reach the Ray Serve HTTP port."
  type        = string
  default     = "ingress-nginx"
}

variable "ingress_controller_pod_labels" {
  description = "Labels selecting the ingress controller pods in ingress_controller_namespace."
  type        = map(string)
  default     = { "app.kubernetes.io/name" = "ingress-nginx" }
}

variable "ingress_class_name" {
  description = "IngressClass of the Ingress in front of Ray Serve."
  type        = string
  default     = "nginx"
}

variable "serve_ingress_host" {
  description = "Host name of the matching API (Ray Serve) on the force's internal network; null creates no Ingress."
  type        = string
  default     = null
}

variable "serve_ingress_tls_secret_name" {
  description = "Existing kubernetes.io/tls Secret for serve_ingress_host. Required when serve_ingress_host is set: frames and alerts never travel in clear text."
  type        = string
  default     = null

  validation {
    condition     = var.serve_ingress_host == null || var.serve_ingress_tls_secret_name != null
    error_message = "serve_ingress_tls_secret_name is required when serve_ingress_host is set."
  }
}

variable "serve_ingress_annotations" {
  description = "Annotations of the Ray Serve Ingress (body size limits, client-certificate auth, source ranges)."
  type        = map(string)
  default     = {}
}

variable "airflow_ui_ingress_enabled" {
  description = "Allow the ingress controller to reach the Airflow API server (UI) on port 8080; planners trigger deployments there. Expose it through the chart's ingress values in airflow_extra_values."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------

variable "platform_image" {
  description = "Image with the `lfr` package and ray_apps installed (built FROM rayproject/ray:<ray_version>-py311). Runs the Ray cluster and the migration job. Pin a tag or, better, a digest."
  type        = string

  validation {
    condition     = can(regex("(@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", var.platform_image)) && !endswith(var.platform_image, ":latest")
    error_message = "platform_image must carry an explicit tag or digest, and not :latest (a deployment must be reproducible)."
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
  description = "Version of the cloudnative-pg operator chart (https://cloudnative-pg.github.io/charts)."
  type        = string
  default     = "0.26.0"
}

variable "cnpg_operator_namespace" {
  description = "Namespace of the CloudNativePG operator; it must reach the instances on ports 8000 and 5432."
  type        = string
  default     = "cnpg-system"
}

variable "postgres_image" {
  description = "PostgreSQL 18 image with pgvector used by CloudNativePG."
  type        = string
  default     = "pgvector/pgvector:pg18"
}

variable "postgres_instances" {
  description = "PostgreSQL instances (1 primary + replicas). 3 gives synchronous-capable high availability."
  type        = number
  default     = 3

  validation {
    condition     = var.postgres_instances >= 1 && var.postgres_instances <= 9 && floor(var.postgres_instances) == var.postgres_instances
    error_message = "postgres_instances must be an integer in [1, 9]."
  }
}

variable "postgres_storage_size" {
  description = "Volume size per PostgreSQL instance."
  type        = string
  default     = "50Gi"
}

variable "storage_class_name" {
  description = "StorageClass for PostgreSQL and MinIO volumes; it should encrypt at rest. null uses the cluster default."
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
# MinIO
# ---------------------------------------------------------------------------------------------------

variable "minio_chart_version" {
  description = "Version of the official MinIO chart (https://charts.min.io/)."
  type        = string
  default     = "5.4.0"
}

variable "minio_mode" {
  description = "MinIO topology: distributed (erasure coded, >= 4 pods) for production, standalone for a small site."
  type        = string
  default     = "distributed"

  validation {
    condition     = contains(["distributed", "standalone"], var.minio_mode)
    error_message = "minio_mode must be distributed or standalone."
  }
}

variable "minio_replicas" {
  description = "MinIO pods in distributed mode (ignored in standalone mode)."
  type        = number
  default     = 4

  validation {
    condition     = var.minio_replicas >= 4 && var.minio_replicas <= 32 && floor(var.minio_replicas) == var.minio_replicas
    error_message = "minio_replicas must be an integer in [4, 32] (erasure coding needs at least 4)."
  }
}

variable "minio_storage_size" {
  description = "Volume size per MinIO pod."
  type        = string
  default     = "200Gi"
}

variable "minio_root_secret_name" {
  description = "Existing Secret with keys rootUser and rootPassword for the MinIO administrator (used only by the chart's setup jobs)."
  type        = string
  default     = "lfr-minio-root"
}

variable "s3_access_key_id" {
  description = "Access key id of the platform's own MinIO user (an identifier, not a secret; becomes LFR_S3__ACCESS_KEY)."
  type        = string
  default     = "lfr-platform"

  validation {
    condition     = length(var.s3_access_key_id) >= 3 && length(var.s3_access_key_id) <= 128
    error_message = "s3_access_key_id must be 3 to 128 characters long."
  }
}

variable "s3_secret_name" {
  description = "Existing Secret holding the platform user's S3 secret key (becomes LFR_S3__SECRET_KEY and the MinIO user's password)."
  type        = string
  default     = "lfr-s3"
}

variable "s3_secret_key_key" {
  description = "Key of the S3 secret key inside s3_secret_name."
  type        = string
  default     = "secret-key"
}

variable "s3_tls" {
  description = "Serve MinIO over TLS (LFR_S3__SECURE). Requires minio_tls_secret_name."
  type        = bool
  default     = true
}

variable "minio_tls_secret_name" {
  description = "Existing Secret with public.crt and private.key for MinIO when s3_tls is true."
  type        = string
  default     = null

  validation {
    condition     = !var.s3_tls || var.minio_tls_secret_name != null
    error_message = "minio_tls_secret_name is required when s3_tls is true."
  }
}

variable "s3_server_side_encryption" {
  description = "Server-side encryption applied as the default of every platform bucket: sse-s3 (keys from MinIO's KMS configuration), sse-kms (a named key in KES/an external KMS) or none."
  type        = string
  default     = "sse-s3"

  validation {
    condition     = contains(["sse-s3", "sse-kms", "none"], var.s3_server_side_encryption)
    error_message = "s3_server_side_encryption must be sse-s3, sse-kms or none."
  }
}

variable "minio_kms_env_secret_name" {
  description = "Existing Secret with key config.env exporting MinIO's KMS settings (MINIO_KMS_SECRET_KEY, or MINIO_KMS_KES_* for KES). Required unless s3_server_side_encryption is none."
  type        = string
  default     = null

  validation {
    condition     = var.s3_server_side_encryption == "none" || var.minio_kms_env_secret_name != null
    error_message = "minio_kms_env_secret_name is required when server-side encryption is enabled."
  }
}

variable "s3_sse_kms_key_id" {
  description = "KMS key name used as the bucket default when s3_server_side_encryption is sse-kms."
  type        = string
  default     = null

  validation {
    condition     = var.s3_server_side_encryption != "sse-kms" || var.s3_sse_kms_key_id != null
    error_message = "s3_sse_kms_key_id is required when s3_server_side_encryption is sse-kms."
  }
}

variable "snapshot_lock_days" {
  description = "Default GOVERNANCE-mode object lock retention on the snapshot buckets (lfr-watchlists, lfr-reports). Governance mode so that the purge, holding the bypass right, can still delete templates after the window; COMPLIANCE would make purging impossible."
  type        = number
  default     = 1

  validation {
    condition     = var.snapshot_lock_days >= 1 && var.snapshot_lock_days <= 36500 && floor(var.snapshot_lock_days) == var.snapshot_lock_days
    error_message = "snapshot_lock_days must be an integer >= 1."
  }
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
  description = "Grace after a window ends before the purge (LFR_WATCHLIST__EXPIRY_GRACE_MINUTES)."
  type        = number
  default     = 15

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

variable "api_keys_secret_name" {
  description = "Existing Secret with key api_keys.json (the API keys and roles of the matching API), mounted read-only into the Ray pods."
  type        = string
  default     = "lfr-api-keys"
}

# ---------------------------------------------------------------------------------------------------
# Ray Serve (KubeRay)
# ---------------------------------------------------------------------------------------------------

variable "kuberay_operator_chart_version" {
  description = "Version of the kuberay-operator chart (https://ray-project.github.io/kuberay-helm/)."
  type        = string
  default     = "1.4.2"
}

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

variable "serve_min_replicas" {
  description = "Autoscaling minimum of Serve replicas outside a deployment window (LFR_SERVE__MIN_REPLICAS); the DAG pre-scales at window start."
  type        = number
  default     = 1

  validation {
    condition     = var.serve_min_replicas >= 0 && var.serve_min_replicas <= 64 && floor(var.serve_min_replicas) == var.serve_min_replicas
    error_message = "serve_min_replicas must be an integer in [0, 64]."
  }
}

variable "serve_max_replicas" {
  description = "Autoscaling maximum of Serve replicas (LFR_SERVE__MAX_REPLICAS)."
  type        = number
  default     = 4

  validation {
    condition     = var.serve_max_replicas >= 1 && var.serve_max_replicas <= 64 && floor(var.serve_max_replicas) == var.serve_max_replicas
    error_message = "serve_max_replicas must be an integer in [1, 64]."
  }

  validation {
    condition     = var.serve_max_replicas >= var.serve_min_replicas
    error_message = "serve_max_replicas must be >= serve_min_replicas."
  }
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
  description = "CPU worker group of the Ray cluster (detector, embedder and ingress replicas when no GPU group is enabled)."
  type = object({
    min_replicas = number
    max_replicas = number
    cpu          = string
    memory       = string
  })
  default = { min_replicas = 1, max_replicas = 4, cpu = "4", memory = "8Gi" }

  validation {
    condition     = var.cpu_workers.min_replicas >= 0 && var.cpu_workers.max_replicas >= 1 && var.cpu_workers.max_replicas <= 64 && var.cpu_workers.min_replicas <= var.cpu_workers.max_replicas
    error_message = "cpu_workers needs 0 <= min_replicas <= max_replicas <= 64 and max_replicas >= 1."
  }
}

variable "gpu_workers" {
  description = "Optional GPU worker group; node_selector and tolerations steer it onto GPU nodes. Pods of this group get LFR_VISION__DEVICE=cuda."
  type = object({
    enabled         = bool
    min_replicas    = optional(number, 0)
    max_replicas    = optional(number, 2)
    gpus_per_worker = optional(number, 1)
    cpu             = optional(string, "8")
    memory          = optional(string, "32Gi")
    gpu_resource    = optional(string, "nvidia.com/gpu")
    node_selector   = optional(map(string), {})
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
}

# ---------------------------------------------------------------------------------------------------
# Airflow
# ---------------------------------------------------------------------------------------------------

variable "airflow_chart_version" {
  description = "Version of the official apache-airflow chart (https://airflow.apache.org); 1.19+ is needed for Airflow 3."
  type        = string
  default     = "1.22.0"
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
