locals {
  # Labels that network policies select on. Every pod Terraform or a chart creates here carries
  # `lfr.platform/role`; pods of the platform itself (allowed to reach PostgreSQL and the object store)
  # also carry `lfr.platform/member = "true"`.
  part_of    = { "app.kubernetes.io/part-of" = "lfr" }
  member     = { "lfr.platform/member" = "true" }
  role_key   = "lfr.platform/role"
  ray_labels = merge(local.part_of, local.member, { (local.role_key) = "ray" })
  job_labels = merge(local.part_of, local.member, { (local.role_key) = "migrate" })
  af_labels  = merge(local.part_of, local.member, { (local.role_key) = "airflow" })
  pg_labels  = merge(local.part_of, { (local.role_key) = "postgres" })
  cnpg       = var.postgres_mode == "cloudnative-pg"
  pg_cluster = "lfr-postgres"

  config_name       = "lfr-config"
  ray_service_name  = "lfr-serve"
  airflow_release   = "lfr-airflow"
  ray_prescaler_sa  = "${local.airflow_release}-worker" # the chart's account for task pods
  barman_store_name = "lfr-postgres-backups"

  # CloudNativePG writes the application role's credentials into `<cluster>-app` (key `uri` is a full
  # libpq URI); an external database brings its own Secret. Either way the DSN only lives in a Secret.
  db_secret_name = local.cnpg ? "${local.pg_cluster}-app" : var.external_db_secret_name
  db_secret_key  = local.cnpg ? "uri" : var.external_db_secret_key

  # Secrets reach containers as files in one read-only volume (projected from their Secrets), named
  # like the settings they fill; pydantic-settings reads them from LFR_SECRETS_DIR. Never environment
  # variables, which leak into crash dumps, `ps e` and child processes.
  secrets_dir   = "/etc/lfr/secrets"
  ca_dir        = "/etc/lfr/ca"
  audit_key_dir = "/etc/lfr/audit"
  ca_file       = "${local.ca_dir}/ca.crt"
  secrets_volume = {
    name = "lfr-secrets"
    projected = {
      defaultMode = 288 # 0440
      sources = [
        { secret = { name = local.db_secret_name, items = [{ key = local.db_secret_key, path = "LFR_DB__DSN" }] } },
        { secret = { name = var.object_store.credentials_secret_name, items = [{ key = "secret-key", path = "LFR_S3__SECRET_KEY" }] } },
      ]
    }
  }
  # The administrator's DSN (migrations, roles, the sealed audit log: lfr_core/db/harden.py) reaches the
  # migration Job only; Ray and Airflow never hold it.
  admin_db_secret_name = local.cnpg ? "${local.pg_cluster}-superuser" : var.external_db_admin_secret_name
  migrate_secrets_volume = {
    name = "lfr-secrets"
    projected = {
      defaultMode = 288
      sources = concat(local.secrets_volume.projected.sources, [
        for name in [local.admin_db_secret_name] : { secret = { name = name, items = [{ key = local.cnpg ? "uri" : "dsn", path = "LFR_DB__ADMIN_DSN" }] } }
        if name != null
      ])
    }
  }
  ca_volume = { name = "lfr-ca", configMap = { name = var.ca_bundle_configmap_name, items = [{ key = "ca.crt", path = "ca.crt" }] } }
  platform_volume_mounts = [
    { name = "lfr-secrets", mountPath = local.secrets_dir, readOnly = true },
    { name = "lfr-ca", mountPath = local.ca_dir, readOnly = true },
  ]

  # Non-secret settings, read by pydantic-settings (prefix LFR_, nesting `__`).
  lfr_env = merge({
    LFR_HOME                            = "/var/lib/lfr"
    LFR_SECRETS_DIR                     = local.secrets_dir
    LFR_DB__EMBEDDED                    = "false"
    LFR_DB__NAME                        = var.database_name
    LFR_DB__USER                        = var.database_owner
    LFR_S3__EMBEDDED                    = "false"
    LFR_S3__ENDPOINT                    = "${var.object_store.endpoint}:${var.object_store.port}"
    LFR_S3__SECURE                      = "true"
    LFR_S3__CA_FILE                     = local.ca_file
    LFR_S3__REGION                      = var.object_store.region
    LFR_S3__ACCESS_KEY                  = var.object_store.access_key_id
    LFR_S3__OBJECT_LOCK                 = "true"
    LFR_MATCH__THRESHOLD                = tostring(var.match_threshold)
    LFR_ALERTS__RETENTION_DAYS          = tostring(var.alert_retention_days)
    LFR_WATCHLIST__MAX_WINDOW_HOURS     = tostring(var.watchlist_max_window_hours)
    LFR_WATCHLIST__EXPIRY_GRACE_MINUTES = tostring(var.watchlist_expiry_grace_minutes)
    LFR_SERVE__HOST                     = "0.0.0.0"
    LFR_SERVE__PORT                     = tostring(var.serve_port)
    LFR_SERVE__MIN_REPLICAS             = tostring(local.capacity.min_replicas)
    LFR_SERVE__MAX_REPLICAS             = tostring(local.capacity.model_replicas)
    LFR_SERVE__RAYSERVICE               = "${var.namespace}/${local.ray_service_name}"
    LFR_AIRFLOW__PARALLELISM            = tostring(var.airflow_parallelism)
    LFR_VISION__DEVICE                  = "cpu"
    LFR_AUDIT__SIGNING_KEY_FILE         = "${local.audit_key_dir}/signing.pem"
    LFR_AUDIT__VERIFY_KEY_FILE          = "${local.audit_key_dir}/verify.pem"
    SSL_CERT_FILE                       = local.ca_file
    REQUESTS_CA_BUNDLE                  = local.ca_file
  }, var.extra_lfr_env)

  # Ray containers only: Serve's request path over the replicas' gRPC servers, user code and router on
  # the replica's event loop, the controller's 0.5 s round (ray_apps/launch.py SERVE_FAST_PATH_ENV; a test
  # keeps the two the same).
  ray_serve_env = [
    { name = "RAY_SERVE_USE_GRPC_BY_DEFAULT", value = "1" },
    { name = "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH", value = "268435456" },
    { name = "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD", value = "0" },
    { name = "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP", value = "0" },
    { name = "RAY_SERVE_CONTROL_LOOP_INTERVAL_S", value = "0.5" },
  ]

  pull_secrets = [for s in var.image_pull_secret_names : { name = s }]

  # checkov findings accepted for the Ray pods, each with its reason (checkov reads these annotations).
  ray_checkov_skips = {
    "checkov.io/skip1" = "CKV_K8S_40=the image is built FROM rayproject/ray, whose files belong to uid 1000; runAsNonRoot is enforced"
    "checkov.io/skip2" = "CKV_K8S_22=Ray writes session files, spilled objects and logs under /tmp/ray and its home directory"
    "checkov.io/skip3" = "CKV_K8S_8=KubeRay injects the liveness probe of every Ray container"
    "checkov.io/skip4" = "CKV_K8S_9=KubeRay injects the readiness probe of every Ray container"
  }
  head_checkov_skips = merge(local.ray_checkov_skips, {
    "checkov.io/skip5" = "CKV_K8S_38=the head's autoscaler sidecar creates and deletes worker pods through the API"
  })

  # The `restricted` Pod Security Standard, on every pod and container this configuration defines.
  pod_security = {
    runAsNonRoot   = true
    seccompProfile = { type = "RuntimeDefault" }
  }
  container_security = {
    allowPrivilegeEscalation = false
    runAsNonRoot             = true
    capabilities             = { drop = ["ALL"] }
    seccompProfile           = { type = "RuntimeDefault" }
  }
}
