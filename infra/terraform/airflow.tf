# Apache Airflow 3 (official chart) running the deployment DAGs. Every Airflow container gets the same
# LFR_* settings as Ray (ConfigMap through envFrom; secrets as files; the force's CA bundle). No
# default user: people sign in through the force's identity provider (airflow_extra_values), and every
# signing key comes from a Secret created beforehand, so an upgrade changes none of them.
locals {
  git_sync = var.airflow_dags_source == "git-sync"
  # Strings only in the conditional (its two sides must unify); `enabled` stays a boolean.
  airflow_git_sync = merge({ enabled = local.git_sync }, local.git_sync ? { for k, v in {
    repo         = var.airflow_git_sync.repo
    branch       = var.airflow_git_sync.branch
    rev          = var.airflow_git_sync.rev
    subPath      = var.airflow_git_sync.sub_path
    period       = var.airflow_git_sync.period_duration
    sshKeySecret = var.airflow_git_sync.ssh_key_secret
    knownHosts   = var.airflow_git_sync.known_hosts
  } : k => v if v != null } : {})

  airflow_values = {
    airflowVersion           = var.airflow_version
    defaultAirflowRepository = var.airflow_image_repository
    defaultAirflowTag        = var.airflow_image_tag
    executor                 = var.airflow_executor

    # Added to every object and pod of the chart, so network policies can select Airflow.
    labels = local.af_labels

    registry = length(var.image_pull_secret_names) > 0 ? { secretName = var.image_pull_secret_names[0] } : {}

    # Airflow's metadata database: the `airflow` database of the CloudNativePG cluster (postgres.tf),
    # or the force's own; never the chart's bundled PostgreSQL.
    postgresql = { enabled = false }
    redis      = { enabled = var.airflow_executor == "CeleryExecutor" }
    data       = { metadataSecretName = var.airflow_metadata_secret_name }

    fernetKeySecretName    = var.airflow_fernet_key_secret_name
    apiSecretKeySecretName = var.airflow_api_secret_key_secret_name
    jwtSecretName          = var.airflow_jwt_secret_name

    # The job would create admin/admin: it is not rendered at all.
    createUserJob = { enabled = false }

    # The restricted Pod Security Standard for every Airflow pod and container.
    securityContexts = { pod = local.pod_security, containers = local.container_security }

    config = {
      core = {
        parallelism   = var.airflow_parallelism
        load_examples = "False"
      }
    }

    extraEnvFrom = yamlencode([{ configMapRef = { name = local.config_name } }])
    env = [
      # The Airflow image's home is read-only outside /opt/airflow; the platform writes nothing durable
      # there in production (every store is PostgreSQL or the object store).
      { name = "LFR_HOME", value = "/tmp/lfr" },
    ]
    # The checkpoint signing key: Airflow writes the audit checkpoints (the expiry sweep, approvals,
    # activations, purges); no other pod holds it.
    volumes = [local.secrets_volume, local.ca_volume,
    { name = "lfr-audit-key", secret = { secretName = var.audit_signing_key_secret_name, defaultMode = 288 } }]
    volumeMounts = concat(local.platform_volume_mounts, [{ name = "lfr-audit-key", mountPath = local.audit_key_dir, readOnly = true }])

    dags = {
      persistence = { enabled = false }
      gitSync     = local.airflow_git_sync
    }
  }
}
