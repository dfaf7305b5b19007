# What the platform's own object-store key (object_store.access_key_id) may do: read and write objects under
# the prefixes it uses, delete where it purges (watchlist images and snapshots, alert crops) and nowhere in
# the reports bucket, lock audit checkpoints under COMPLIANCE retention; never configure a bucket. With
# bucket configuration, whoever holds the key could suspend versioning on the object-lock bucket (so that a
# PUT replaces a locked checkpoint by a null version), attach a bucket policy that locks the platform out of
# its reports, or add lifecycle expiry.
#
# The force's store is outside this configuration, so the document is an output: its administrator makes
# the buckets (versioned, object lock on the snapshot and reports buckets) with an admin identity and
# attaches this policy, and no other, to the platform's key (infra/terraform/README.md, "Object store").
# It is the document the embedded stand-in enforces (lfr_core/storage/policy.py application_policy); a test
# renders both and compares them. Bucket names follow LFR_S3__BUCKET_* in extra_lfr_env.
locals {
  object_store_buckets = {
    sources    = lookup(local.lfr_env, "LFR_S3__BUCKET_SOURCES", "lfr-sources")
    images     = lookup(local.lfr_env, "LFR_S3__BUCKET_IMAGES", "lfr-watchlist-images")
    watchlists = lookup(local.lfr_env, "LFR_S3__BUCKET_WATCHLISTS", "lfr-watchlists")
    alerts     = lookup(local.lfr_env, "LFR_S3__BUCKET_ALERTS", "lfr-alerts")
    reports    = lookup(local.lfr_env, "LFR_S3__BUCKET_REPORTS", "lfr-reports")
  }

  object_store_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ListPlatformBuckets"
        Effect = "Allow"
        Action = ["s3:ListBucket", "s3:ListBucketVersions"]
        Resource = [for name in ["sources", "images", "watchlists", "alerts", "reports"] :
        "arn:aws:s3:::${local.object_store_buckets[name]}"]
      },
      {
        # Staged custody images, reports and purge receipts: kept.
        Sid    = "WriteAndKeep"
        Effect = "Allow"
        Action = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
        Resource = [
          "arn:aws:s3:::${local.object_store_buckets.sources}/staging/*",
          "arn:aws:s3:::${local.object_store_buckets.reports}/reports/*",
          "arn:aws:s3:::${local.object_store_buckets.reports}/receipts/*",
        ]
      },
      {
        Sid    = "WriteAndPurge"
        Effect = "Allow"
        Action = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]
        Resource = [
          "arn:aws:s3:::${local.object_store_buckets.images}/*",
          "arn:aws:s3:::${local.object_store_buckets.watchlists}/*",
          "arn:aws:s3:::${local.object_store_buckets.alerts}/*",
        ]
      },
      {
        Sid      = "WriteCheckpointsUnderRetention"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectRetention"]
        Resource = ["arn:aws:s3:::${local.object_store_buckets.reports}/audit-checkpoints/*"]
      },
    ]
  }
}

output "object_store_policy" {
  description = "IAM policy (AWS, MinIO, Ceph RGW, StorageGRID syntax) for the store's administrator to attach to object_store.access_key_id, and nothing more: object reads and writes on the platform's prefixes, never bucket configuration (README, Object store)."
  value       = jsonencode(local.object_store_policy)
}
