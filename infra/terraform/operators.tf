# The operators and Airflow, from their official charts, pinned. The custom resources they define are
# applied by apply.tf once they exist (see README, "Apply order").

resource "helm_release" "cnpg_operator" {
  count = local.cnpg ? 1 : 0

  name             = "cnpg"
  repository       = "https://cloudnative-pg.github.io/charts"
  chart            = "cloudnative-pg"
  version          = var.cnpg_operator_chart_version
  namespace        = var.cnpg_operator_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600
}

# Backups and WAL archiving for CloudNativePG (the operator's in-tree Barman support is removed in
# 1.31). It needs cert-manager in the cluster for its mutual TLS with the operator.
resource "helm_release" "barman_cloud_plugin" {
  count = local.cnpg ? 1 : 0

  name       = "barman-cloud"
  repository = "https://cloudnative-pg.github.io/charts"
  chart      = "plugin-barman-cloud"
  version    = var.barman_plugin_chart_version
  namespace  = var.cnpg_operator_namespace
  atomic     = true
  timeout    = 600

  depends_on = [helm_release.cnpg_operator]
}

resource "helm_release" "kuberay_operator" {
  name             = "kuberay-operator"
  repository       = "https://ray-project.github.io/kuberay-helm/"
  chart            = "kuberay-operator"
  version          = var.kuberay_operator_chart_version
  namespace        = var.kuberay_operator_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600
}

resource "helm_release" "airflow" {
  name       = local.airflow_release
  repository = "https://airflow.apache.org"
  chart      = "airflow"
  version    = var.airflow_chart_version
  namespace  = var.namespace
  # The chart's own migration job needs time on a first install; atomic rolls a failed upgrade back.
  atomic  = true
  timeout = 1200

  values = compact([yamlencode(local.airflow_values), var.airflow_extra_values])

  depends_on = [kubernetes_manifest.platform, kubernetes_manifest.postgres_cluster, kubernetes_manifest.postgres]
}
