# Apache Airflow 3 (official chart) running the deployment DAG from this repository. Every Airflow
# container gets the same LFR_* settings as Ray (ConfigMap through envFrom, DSN and S3 key through
# Secret references).

locals {
  airflow_git_sync = var.airflow_dags_source == "git-sync" ? {
    enabled      = true
    repo         = var.airflow_git_sync.repo
    branch       = var.airflow_git_sync.branch
    rev          = var.airflow_git_sync.rev
    subPath      = var.airflow_git_sync.sub_path
    period       = var.airflow_git_sync.period_duration
    sshKeySecret = var.airflow_git_sync.ssh_key_secret
    knownHosts   = var.airflow_git_sync.known_hosts
    } : {
    enabled      = false
    repo         = ""
    branch       = ""
    rev          = ""
    subPath      = ""
    period       = ""
    sshKeySecret = null
    knownHosts   = null
  }

  airflow_values = {
    airflowVersion           = var.airflow_version
    defaultAirflowRepository = var.airflow_image_repository
    defaultAirflowTag        = var.airflow_image_tag
    executor                 = var.airflow_executor

    # Added to every object and pod of the chart, so network policies can select Airflow.
    labels = local.af_labels

    registry = {
      secretName = length(var.image_pull_secret_names) > 0 ? var.image_pull_secret_names[0] : null
    }

    # Airflow's metadata database is external to the chart (never the bundled Bitnami PostgreSQL).
    postgresql = { enabled = false }
    redis      = { enabled = var.airflow_executor == "CeleryExecutor" }
    data = {
      metadataSecretName = var.airflow_metadata_secret_name
    }
    fernetKeySecretName    = var.airflow_fernet_key_secret_name
    apiSecretKeySecretName = var.airflow_api_secret_key_secret_name

    # No default admin with a well-known password; authentication is configured for the force's
    # identity provider through airflow_extra_values.
    createUserJob = {
      defaultUser = { enabled = false }
    }

    config = {
      core = {
        parallelism   = var.airflow_parallelism
        load_examples = "False"
      }
    }

    extraEnvFrom = yamlencode([{ configMapRef = { name = kubernetes_config_map_v1.lfr.metadata[0].name } }])
    env = [
      # The Airflow image's home is read-only outside /opt/airflow; the platform writes nothing durable
      # there in production (every store is PostgreSQL or MinIO).
      { name = "LFR_HOME", value = "/tmp/lfr" },
      # ray_apps.prescale attaches to the Serve cluster through the address in this file (Ray Client).
      { name = "LFR_SERVE_RAY_ADDRESS_FILE", value = "${local.ray_address_dir}/address" },
    ]
    volumes      = [{ name = "lfr-ray-address", configMap = { name = kubernetes_config_map_v1.ray_address.metadata[0].name } }]
    volumeMounts = [{ name = "lfr-ray-address", mountPath = local.ray_address_dir, readOnly = true }]
    secret = [
      { envName = "LFR_DB__DSN", secretName = local.db_secret_name, secretKey = local.db_secret_key },
      { envName = "LFR_S3__SECRET_KEY", secretName = var.s3_secret_name, secretKey = var.s3_secret_key_key },
    ]

    dags = {
      persistence = { enabled = false }
      gitSync     = { for k, v in local.airflow_git_sync : k => v if v != null }
    }
  }
}

resource "helm_release" "airflow" {
  name       = "lfr-airflow"
  repository = "https://airflow.apache.org"
  chart      = "airflow"
  version    = var.airflow_chart_version
  namespace  = kubernetes_namespace_v1.lfr.metadata[0].name
  # The chart's own migration job needs time on a first install; atomic rolls a failed upgrade back.
  atomic  = true
  timeout = 1200

  values = compact([yamlencode(local.airflow_values), var.airflow_extra_values])

  depends_on = [
    kubernetes_network_policy_v1.airflow,
    kubernetes_network_policy_v1.airflow_to_ray,
    kubernetes_network_policy_v1.platform_to_stores,
    kubernetes_job_v1.migrate,
  ]
}
