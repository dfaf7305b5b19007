# One-shot schema migration (`lfr db migrate`, recorded in schema_migrations and idempotent). The Job's
# name carries a hash of the image, so a new release runs a new migration before Ray and Airflow roll
# out, and an unchanged release leaves the finished Job alone.

resource "kubernetes_job_v1" "migrate" {
  metadata {
    name      = "lfr-db-migrate-${substr(sha1(var.platform_image), 0, 10)}"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.job_labels
  }

  spec {
    backoff_limit = 3
    # A migration that hangs on a lock must fail the apply, not block it for ever.
    active_deadline_seconds = 900

    template {
      metadata {
        labels = local.job_labels
      }
      spec {
        restart_policy                  = "Never"
        service_account_name            = kubernetes_service_account_v1.migrate.metadata[0].name
        automount_service_account_token = false

        dynamic "image_pull_secrets" {
          for_each = var.image_pull_secret_names
          content {
            name = image_pull_secrets.value
          }
        }

        container {
          name    = "migrate"
          image   = var.platform_image
          command = ["lfr"]
          args    = ["db", "migrate", "--json"]

          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.lfr.metadata[0].name
            }
          }
          env {
            name = "LFR_DB__DSN"
            value_from {
              secret_key_ref {
                name = local.db_secret_name
                key  = local.db_secret_key
              }
            }
          }

          resources {
            requests = { cpu = "100m", memory = "256Mi" }
            limits   = { memory = "512Mi" }
          }

          security_context {
            allow_privilege_escalation = false
            run_as_non_root            = true
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }

          volume_mount {
            name       = "lfr-home"
            mount_path = local.lfr_env["LFR_HOME"]
          }
          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }
        }

        volume {
          name = "lfr-home"
          empty_dir {}
        }
        volume {
          name = "tmp"
          empty_dir {}
        }
      }
    }
  }

  wait_for_completion = true

  timeouts {
    create = "15m"
    update = "15m"
  }

  depends_on = [
    kubernetes_manifest.postgres_cluster,
    kubernetes_network_policy_v1.platform_to_stores,
    kubernetes_network_policy_v1.postgres_ingress,
  ]
}
