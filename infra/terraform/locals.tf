locals {
  # Labels that network policies select on. Every pod Terraform or a chart creates here carries
  # `lfr.platform/role`; pods of the platform itself (allowed to reach PostgreSQL and MinIO) also carry
  # `lfr.platform/member = "true"`.
  part_of     = { "app.kubernetes.io/part-of" = "lfr" }
  member      = { "lfr.platform/member" = "true" }
  role_key    = "lfr.platform/role"
  member_key  = "lfr.platform/member"
  ray_labels  = merge(local.part_of, local.member, { (local.role_key) = "ray" })
  job_labels  = merge(local.part_of, local.member, { (local.role_key) = "migrate" })
  af_labels   = merge(local.part_of, local.member, { (local.role_key) = "airflow" })
  pg_labels   = merge(local.part_of, { (local.role_key) = "postgres" })
  s3_labels   = merge(local.part_of, { (local.role_key) = "minio" })
  cnpg        = var.postgres_mode == "cloudnative-pg"
  pg_cluster  = "lfr-postgres"
  minio_name  = "lfr-minio"
  config_name = "lfr-config"

  # CloudNativePG writes the application role's credentials into `<cluster>-app` (key `uri` is a full
  # libpq URI); an external database brings its own Secret. Either way the DSN only lives in a Secret.
  db_secret_name = local.cnpg ? "${local.pg_cluster}-app" : var.external_db_secret_name
  db_secret_key  = local.cnpg ? "uri" : var.external_db_secret_key

  s3_endpoint = "${local.minio_name}.${var.namespace}.svc:9000"

  snapshot_buckets = ["lfr-watchlists", "lfr-reports"]
  plain_buckets    = ["lfr-sources", "lfr-alerts"]
  # Working copies of watchlist images stay unversioned: versioning would keep a purged image alive as
  # a noncurrent version (lfr_core.storage.objectstore).
  unversioned_buckets = ["lfr-watchlist-images"]

  ray_head_service = "lfr-serve-head-svc"
  ray_address_dir  = "/etc/lfr/ray"

  api_keys_dir = "/etc/lfr/api-keys"

  # Non-secret settings, read by pydantic-settings (prefix LFR_, nesting `__`).
  lfr_env = merge({
    LFR_HOME                            = "/var/lib/lfr"
    LFR_DB__EMBEDDED                    = "false"
    LFR_DB__NAME                        = var.database_name
    LFR_DB__USER                        = var.database_owner
    LFR_S3__EMBEDDED                    = "false"
    LFR_S3__ENDPOINT                    = local.s3_endpoint
    LFR_S3__SECURE                      = tostring(var.s3_tls)
    LFR_S3__ACCESS_KEY                  = var.s3_access_key_id
    LFR_S3__OBJECT_LOCK                 = "true"
    LFR_S3__BUCKET_SOURCES              = "lfr-sources"
    LFR_S3__BUCKET_WATCHLISTS           = "lfr-watchlists"
    LFR_S3__BUCKET_IMAGES               = "lfr-watchlist-images"
    LFR_S3__BUCKET_ALERTS               = "lfr-alerts"
    LFR_S3__BUCKET_REPORTS              = "lfr-reports"
    LFR_MATCH__THRESHOLD                = tostring(var.match_threshold)
    LFR_ALERTS__RETENTION_DAYS          = tostring(var.alert_retention_days)
    LFR_WATCHLIST__MAX_WINDOW_HOURS     = tostring(var.watchlist_max_window_hours)
    LFR_WATCHLIST__EXPIRY_GRACE_MINUTES = tostring(var.watchlist_expiry_grace_minutes)
    LFR_SERVE__HOST                     = "0.0.0.0"
    LFR_SERVE__PORT                     = tostring(var.serve_port)
    LFR_SERVE__MIN_REPLICAS             = tostring(var.serve_min_replicas)
    LFR_SERVE__MAX_REPLICAS             = tostring(var.serve_max_replicas)
    LFR_SERVE__API_KEYS_FILE            = "${local.api_keys_dir}/api_keys.json"
    LFR_AIRFLOW__PARALLELISM            = tostring(var.airflow_parallelism)
    LFR_VISION__DEVICE                  = "cpu"
  }, var.extra_lfr_env)

  # Ray containers only: Serve's request path over the replicas' gRPC servers, user code and router on
  # the replica's event loop (ray_apps/launch.py SERVE_FAST_PATH_ENV; a test keeps the two the same). Ray
  # pods reach each other on any port (network policy allow-ray-internal).
  ray_serve_env = concat(local.lfr_secret_env, [
    { name = "RAY_SERVE_USE_GRPC_BY_DEFAULT", value = "1" },
    { name = "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH", value = "268435456" },
    { name = "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD", value = "0" },
    { name = "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP", value = "0" },
  ])

  # Secret settings: only references, resolved by the kubelet.
  lfr_secret_env = [
    {
      name      = "LFR_DB__DSN"
      valueFrom = { secretKeyRef = { name = local.db_secret_name, key = local.db_secret_key } }
    },
    {
      name      = "LFR_S3__SECRET_KEY"
      valueFrom = { secretKeyRef = { name = var.s3_secret_name, key = var.s3_secret_key_key } }
    },
  ]

  pull_secrets = [for s in var.image_pull_secret_names : { name = s }]

  container_security = {
    allowPrivilegeEscalation = false
    runAsNonRoot             = true
    capabilities             = { drop = ["ALL"] }
  }
}
