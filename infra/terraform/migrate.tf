# One-shot schema migration (`lfr db migrate`, recorded in schema_migrations and idempotent). The Job's
# name carries a hash of the image, so a new release runs a new migration before Ray and Airflow roll
# out, and an unchanged release leaves the finished Job alone.
locals {
  migrate_job_name = "lfr-db-migrate-${substr(sha1(var.platform_image), 0, 10)}"

  migrate_manifests = {
    "job/lfr-db-migrate" = {
      apiVersion = "batch/v1"
      kind       = "Job"
      metadata = {
        name      = local.migrate_job_name
        namespace = var.namespace
        labels    = local.job_labels
        annotations = {
          "checkov.io/skip1" = "CKV_K8S_40=the image is built FROM rayproject/ray, whose files belong to uid 1000; runAsNonRoot is enforced"
        }
      }
      spec = {
        backoffLimit = 3
        # A migration that hangs on a lock must fail the apply, not block it for ever.
        activeDeadlineSeconds = 900
        template = {
          metadata = { labels = local.job_labels }
          spec = {
            restartPolicy                = "Never"
            serviceAccountName           = "lfr-migrate"
            automountServiceAccountToken = false
            imagePullSecrets             = local.pull_secrets
            securityContext              = local.pod_security
            containers = [{
              name            = "migrate"
              image           = var.platform_image
              imagePullPolicy = "Always"
              command         = ["lfr"]
              args            = ["db", "migrate", "--json"]
              envFrom         = [{ configMapRef = { name = local.config_name } }]
              resources       = { requests = { cpu = "100m", memory = "256Mi" }, limits = { cpu = "1", memory = "512Mi" } }
              securityContext = merge(local.container_security, { readOnlyRootFilesystem = true })
              volumeMounts = concat(local.platform_volume_mounts, [
                { name = "lfr-home", mountPath = local.lfr_env["LFR_HOME"] },
                { name = "tmp", mountPath = "/tmp" },
              ])
            }]
            volumes = [local.migrate_secrets_volume, local.ca_volume, { name = "lfr-home", emptyDir = {} }, { name = "tmp", emptyDir = {} }]
          }
        }
      }
    }
  }
}
