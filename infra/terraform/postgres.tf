# PostgreSQL 18 with pgvector. In-cluster: one CloudNativePG Cluster (synchronous replication, WAL and
# nightly base backups to a store outside the platform's object store), plus Airflow's metadata
# database in the same cluster. External: nothing is created here; the DSN comes from
# var.external_db_secret_name.
locals {
  # Read only in cloudnative-pg mode, where the variable is required; the placeholder keeps the
  # expressions below evaluable in external mode.
  backup = var.postgres_backup != null ? var.postgres_backup : {
    destination_path = "", endpoint_url = "", cidrs = [], port = 443, credentials_secret_name = "", ca_secret_name = "",
    schedule         = "", retention = ""
  }

  postgres_manifests = { for name, manifest in {
    "cluster/lfr-postgres" = {
      apiVersion = "postgresql.cnpg.io/v1"
      kind       = "Cluster"
      metadata   = { name = local.pg_cluster, namespace = var.namespace, labels = local.pg_labels }
      spec = {
        instances = var.postgres_instances
        # CloudNativePG's standard image ships pgvector and runs as uid 26, the uid the operator assumes.
        imageName = var.postgres_image
        # Propagated to the instance pods so that network policies can select them.
        inheritedMetadata     = { labels = local.pg_labels }
        primaryUpdateStrategy = "unsupervised"
        storage = merge(
          { size = var.postgres_storage_size },
          var.storage_class_name == null ? {} : { storageClass = var.storage_class_name },
        )
        postgresql = {
          # A commit (an approval, an audit record) returns only once a standby holds it.
          synchronous = { method = "any", number = var.postgres_sync_replicas, dataDurability = "required" }
          parameters = {
            # Statements are not logged with their parameters: probe embeddings must not reach logs.
            log_min_duration_statement = "-1"
            log_statement              = "ddl"
          }
        }
        bootstrap = {
          initdb = {
            database = var.database_name
            owner    = var.database_owner
            # No `secret` here: the operator generates the owner's password into `<cluster>-app`, so
            # no credential ever passes through Terraform. pgvector is created once by the superuser.
            postInitApplicationSQL = ["CREATE EXTENSION IF NOT EXISTS vector"]
          }
        }
        # The superuser's Secret is mounted into the migration Job alone: it gives the schema to a role that
        # cannot log in and seals the audit log, so the application's login owns nothing.
        enableSuperuserAccess = true
        # Airflow's metadata database lives here too, under its own role (password from a Secret
        # created beforehand; see README, Secrets).
        managed = {
          roles = [{
            name           = "airflow"
            ensure         = "present"
            login          = true
            passwordSecret = { name = var.airflow_db_role_secret_name }
          }]
        }
        plugins = [{
          name          = "barman-cloud.cloudnative-pg.io"
          isWALArchiver = true
          parameters    = { barmanObjectName = local.barman_store_name }
        }]
      }
    }
    "database/airflow" = {
      apiVersion = "postgresql.cnpg.io/v1"
      kind       = "Database"
      metadata   = { name = "lfr-airflow", namespace = var.namespace, labels = local.part_of }
      spec = {
        name                  = "airflow"
        owner                 = "airflow"
        cluster               = { name = local.pg_cluster }
        ensure                = "present"
        databaseReclaimPolicy = "retain"
      }
    }
    "objectstore/lfr-postgres-backups" = {
      apiVersion = "barmancloud.cnpg.io/v1"
      kind       = "ObjectStore"
      metadata   = { name = local.barman_store_name, namespace = var.namespace, labels = local.part_of }
      spec = {
        retentionPolicy = local.backup.retention
        configuration = {
          destinationPath = local.backup.destination_path
          endpointURL     = local.backup.endpoint_url
          endpointCA      = { name = local.backup.ca_secret_name, key = "ca.crt" }
          s3Credentials = {
            accessKeyId     = { name = local.backup.credentials_secret_name, key = "ACCESS_KEY_ID" }
            secretAccessKey = { name = local.backup.credentials_secret_name, key = "ACCESS_SECRET_KEY" }
          }
          wal  = { compression = "gzip" }
          data = { compression = "gzip" }
        }
      }
    }
    "scheduledbackup/lfr-postgres-nightly" = {
      apiVersion = "postgresql.cnpg.io/v1"
      kind       = "ScheduledBackup"
      metadata   = { name = "lfr-postgres-nightly", namespace = var.namespace, labels = local.part_of }
      spec = {
        schedule             = local.backup.schedule
        cluster              = { name = local.pg_cluster }
        method               = "plugin"
        pluginConfiguration  = { name = "barman-cloud.cloudnative-pg.io" }
        backupOwnerReference = "self"
        immediate            = true
        target               = "prefer-standby"
      }
    }
  } : name => manifest if local.cnpg }
}
