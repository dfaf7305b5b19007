# MinIO (official chart) holding the platform's five buckets. The snapshot buckets (sealed watchlists,
# transparency reports and purge receipts) are versioned with object lock, so a sealed snapshot cannot
# be silently replaced; sources and alerts are versioned; the watchlist image copies are not versioned,
# so that a purge by key leaves nothing behind.

locals {
  # Objects are deleted explicitly by the platform (purges, alert retention) and verified by listing;
  # lifecycle rules are not the mechanism. They are a safety net here only for the noncurrent versions
  # that a plain delete leaves behind in a versioned bucket (see README, "Data protection").
  minio_sse_commands = var.s3_server_side_encryption == "none" ? [] : [
    for b in concat(local.snapshot_buckets, local.plain_buckets, local.unversioned_buckets) : {
      command = var.s3_server_side_encryption == "sse-s3" ? "encrypt set sse-s3 myminio/${b}" : "encrypt set sse-kms ${var.s3_sse_kms_key_id} myminio/${b}"
    }
  ]
  minio_lock_commands = [
    for b in local.snapshot_buckets : { command = "retention set --default GOVERNANCE ${var.snapshot_lock_days}d myminio/${b}" }
  ]
  minio_ilm_commands = [
    for b in local.plain_buckets : { command = "ilm rule add --noncurrent-expire-days 1 myminio/${b}" }
  ]

  all_bucket_arns = flatten([
    for b in concat(local.snapshot_buckets, local.plain_buckets, local.unversioned_buckets) : ["arn:aws:s3:::${b}", "arn:aws:s3:::${b}/*"]
  ])

  minio_values = {
    mode     = var.minio_mode
    replicas = var.minio_mode == "distributed" ? var.minio_replicas : 1

    # rootUser/rootPassword come from an existing Secret; the chart then ignores inline values.
    existingSecret = var.minio_root_secret_name

    podLabels = local.s3_labels

    persistence = merge(
      { enabled = true, size = var.minio_storage_size },
      var.storage_class_name == null ? {} : { storageClass = var.storage_class_name },
    )

    tls = {
      enabled    = var.s3_tls
      certSecret = var.s3_tls ? var.minio_tls_secret_name : ""
      publicCrt  = "public.crt"
      privateKey = "private.key"
    }

    # The console is off: administrators use `mc` through a port-forward.
    environment = {
      MINIO_BROWSER = "off"
    }

    resources = {
      requests = { memory = "4Gi" }
    }

    # The chart's default `console` user with a fixed password is replaced by the platform user only.
    policies = [{
      name = "lfr-platform"
      statements = [{
        resources = local.all_bucket_arns
        # Purges must delete locked versions (s3:BypassGovernanceRetention), so the platform holds every
        # action on its own buckets and nothing on any other.
        actions = ["s3:*"]
      }]
    }]
    users = [{
      accessKey         = var.s3_access_key_id
      existingSecret    = var.s3_secret_name
      existingSecretKey = var.s3_secret_key_key
      policy            = "lfr-platform"
    }]

    buckets = concat(
      [for b in local.snapshot_buckets : { name = b, policy = "none", purge = false, versioning = true, objectlocking = true }],
      [for b in local.plain_buckets : { name = b, policy = "none", purge = false, versioning = true, objectlocking = false }],
      [for b in local.unversioned_buckets : { name = b, policy = "none", purge = false, versioning = false, objectlocking = false }],
    )

    customCommands = concat(local.minio_lock_commands, local.minio_sse_commands, local.minio_ilm_commands)
  }
}

resource "helm_release" "minio" {
  name       = local.minio_name
  repository = "https://charts.min.io/"
  chart      = "minio"
  version    = var.minio_chart_version
  namespace  = kubernetes_namespace_v1.lfr.metadata[0].name
  atomic     = true
  timeout    = 900

  values = concat(
    [yamlencode(local.minio_values)],
    # KMS settings (MINIO_KMS_SECRET_KEY or KES) reach the server from a Secret's config.env.
    var.minio_kms_env_secret_name == null ? [] : [yamlencode({ extraSecret = var.minio_kms_env_secret_name })],
  )

  depends_on = [kubernetes_network_policy_v1.minio_ingress, kubernetes_network_policy_v1.minio_egress]
}
