# The namespace, the platform's settings and its service accounts, as plain manifests (applied by
# apply.tf), so that the tests can render and validate exactly what would be applied.
locals {
  namespace_manifests = {
    "namespace" = {
      apiVersion = "v1"
      kind       = "Namespace"
      metadata = {
        name = var.namespace
        labels = merge(local.part_of, {
          "pod-security.kubernetes.io/enforce" = var.pod_security_level
          "pod-security.kubernetes.io/warn"    = "restricted"
          "pod-security.kubernetes.io/audit"   = "restricted"
        })
        # Recorded where a data protection officer looking at the cluster will find them; the values
        # the platform acts on are in the lfr-config ConfigMap.
        annotations = {
          "lfr.platform/alert-retention-days"     = tostring(var.alert_retention_days)
          "lfr.platform/audit-log-retention-days" = tostring(var.audit_log_retention_days)
          "lfr.platform/max-window-hours"         = tostring(var.watchlist_max_window_hours)
          "lfr.platform/egress"                   = "cluster-internal only (default deny)"
        }
      }
    }
  }
}
