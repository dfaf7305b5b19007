# Network isolation. Everything in the namespace is denied in both directions first; each policy below
# opens one path. There is no rule towards the internet: a privacy requirement (no frame, crop or
# template may leave the force's network), enforced by omission and by the CIDR validations in
# variables.tf. NetworkPolicy needs a CNI that enforces it (Calico, Cilium, ...); see README.

resource "kubernetes_network_policy_v1" "default_deny" {
  metadata {
    name      = "default-deny-all"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {}
    policy_types = ["Ingress", "Egress"]
  }
}

resource "kubernetes_network_policy_v1" "dns_egress" {
  metadata {
    name      = "allow-dns-egress"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {}
    policy_types = ["Egress"]
    egress {
      to {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.dns_namespace }
        }
        pod_selector {
          match_labels = var.dns_pod_labels
        }
      }
      ports {
        protocol = "UDP"
        port     = "53"
      }
      ports {
        protocol = "TCP"
        port     = "53"
      }
    }
  }
}

# Only the ingress controller reaches the Serve HTTP port, on whichever Ray pod runs a proxy.
resource "kubernetes_network_policy_v1" "serve_from_ingress" {
  metadata {
    name      = "allow-serve-from-ingress"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "ray" }
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.ingress_controller_namespace }
        }
        pod_selector {
          match_labels = var.ingress_controller_pod_labels
        }
      }
      ports {
        protocol = "TCP"
        port     = tostring(var.serve_port)
      }
    }
  }
}

# Ray's head and workers use many ports between themselves (GCS, raylets, object manager, worker
# ports), so the cluster is open inside itself and closed outside.
resource "kubernetes_network_policy_v1" "ray_internal" {
  metadata {
    name      = "allow-ray-internal"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "ray" }
    }
    policy_types = ["Ingress", "Egress"]
    ingress {
      from {
        pod_selector {
          match_labels = { (local.role_key) = "ray" }
        }
      }
    }
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "ray" }
        }
      }
    }
  }
}

# The KubeRay operator deploys the Serve config and reads its status through the head's dashboard.
resource "kubernetes_network_policy_v1" "ray_dashboard" {
  metadata {
    name      = "allow-ray-dashboard-from-operator"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "ray" }
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.kuberay_operator_namespace }
        }
      }
      ports {
        protocol = "TCP"
        port     = "8265"
      }
      ports {
        protocol = "TCP"
        port     = "52365"
      }
    }
  }
}

# Airflow pre-scales and lowers Serve around a window (ray_apps.prescale) as a Ray Client of the head.
resource "kubernetes_network_policy_v1" "ray_client_from_airflow" {
  metadata {
    name      = "allow-ray-client-from-airflow"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "ray", "ray.io/node-type" = "head" }
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        pod_selector {
          match_labels = { (local.role_key) = "airflow" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "10001"
      }
      ports {
        protocol = "TCP"
        port     = "8265"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "airflow_to_ray" {
  metadata {
    name      = "allow-airflow-egress-to-ray-head"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "airflow" }
    }
    policy_types = ["Egress"]
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "ray", "ray.io/node-type" = "head" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "10001"
      }
      ports {
        protocol = "TCP"
        port     = "8265"
      }
    }
  }
}

# Only platform pods (lfr.platform/member=true: Ray, Airflow, the migration job) reach the data stores.
resource "kubernetes_network_policy_v1" "postgres_ingress" {
  count = local.cnpg ? 1 : 0

  metadata {
    name      = "allow-postgres-from-platform"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "postgres" }
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        pod_selector {
          match_labels = local.member
        }
      }
      # Streaming replication between instances.
      from {
        pod_selector {
          match_labels = { (local.role_key) = "postgres" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "5432"
      }
    }
    # The CloudNativePG operator polls each instance manager (8000) and connects to PostgreSQL.
    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.cnpg_operator_namespace }
        }
      }
      ports {
        protocol = "TCP"
        port     = "8000"
      }
      ports {
        protocol = "TCP"
        port     = "5432"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "postgres_egress" {
  count = local.cnpg ? 1 : 0

  metadata {
    name      = "allow-postgres-replication-and-api"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "postgres" }
    }
    policy_types = ["Egress"]
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "postgres" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "5432"
      }
      ports {
        protocol = "TCP"
        port     = "8000"
      }
    }
    # The instance manager watches its Cluster object through the API server.
    egress {
      dynamic "to" {
        for_each = var.kube_api_server_cidrs
        content {
          ip_block {
            cidr = to.value
          }
        }
      }
      ports {
        protocol = "TCP"
        port     = tostring(var.kube_api_server_port)
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "minio_ingress" {
  metadata {
    name      = "allow-minio-from-platform"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "minio" }
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        pod_selector {
          match_labels = local.member
        }
      }
      # MinIO peers (erasure coding) and the chart's bucket/user/policy setup jobs, which carry the
      # chart's `release` label but not the platform's labels.
      from {
        pod_selector {
          match_labels = { release = local.minio_name }
        }
      }
      ports {
        protocol = "TCP"
        port     = "9000"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "minio_egress" {
  metadata {
    name      = "allow-minio-peers-egress"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { release = local.minio_name }
    }
    policy_types = ["Egress"]
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "minio" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "9000"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "platform_to_stores" {
  metadata {
    name      = "allow-platform-egress-to-stores"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = local.member
    }
    policy_types = ["Egress"]
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "minio" }
        }
      }
      ports {
        protocol = "TCP"
        port     = "9000"
      }
    }
    dynamic "egress" {
      for_each = local.cnpg ? [1] : []
      content {
        to {
          pod_selector {
            match_labels = { (local.role_key) = "postgres" }
          }
        }
        ports {
          protocol = "TCP"
          port     = "5432"
        }
      }
    }
    # A managed PostgreSQL on a private endpoint; validation forbids 0.0.0.0/0 here.
    dynamic "egress" {
      for_each = local.cnpg ? [] : [1]
      content {
        dynamic "to" {
          for_each = var.external_db_cidrs
          content {
            ip_block {
              cidr = to.value
            }
          }
        }
        ports {
          protocol = "TCP"
          port     = tostring(var.external_db_port)
        }
      }
    }
  }
}

# Airflow's components talk among themselves (API server for the task execution API, scheduler,
# triggerer, DAG processor, Redis with Celery); the scheduler launches task pods through the API server;
# planners reach the UI through the ingress controller.
resource "kubernetes_network_policy_v1" "airflow" {
  metadata {
    name      = "allow-airflow"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "airflow" }
    }
    policy_types = ["Ingress", "Egress"]
    ingress {
      from {
        pod_selector {
          match_labels = { (local.role_key) = "airflow" }
        }
      }
    }
    dynamic "ingress" {
      for_each = var.airflow_ui_ingress_enabled ? [1] : []
      content {
        from {
          namespace_selector {
            match_labels = { "kubernetes.io/metadata.name" = var.ingress_controller_namespace }
          }
          pod_selector {
            match_labels = var.ingress_controller_pod_labels
          }
        }
        ports {
          protocol = "TCP"
          port     = "8080"
        }
      }
    }
    egress {
      to {
        pod_selector {
          match_labels = { (local.role_key) = "airflow" }
        }
      }
    }
    egress {
      dynamic "to" {
        for_each = var.kube_api_server_cidrs
        content {
          ip_block {
            cidr = to.value
          }
        }
      }
      ports {
        protocol = "TCP"
        port     = tostring(var.kube_api_server_port)
      }
    }
    # DAGs from the force's internal git server only.
    dynamic "egress" {
      for_each = var.airflow_dags_source == "git-sync" ? [1] : []
      content {
        dynamic "to" {
          for_each = try(var.airflow_git_sync.server_cidrs, [])
          content {
            ip_block {
              cidr = to.value
            }
          }
        }
        ports {
          protocol = "TCP"
          port     = tostring(try(var.airflow_git_sync.server_port, 22))
        }
      }
    }
  }
}

# The Ray head's autoscaler sidecar creates and deletes worker pods through the API server.
resource "kubernetes_network_policy_v1" "ray_api" {
  metadata {
    name      = "allow-ray-autoscaler-to-api"
    namespace = kubernetes_namespace_v1.lfr.metadata[0].name
    labels    = local.part_of
  }
  spec {
    pod_selector {
      match_labels = { (local.role_key) = "ray", "ray.io/node-type" = "head" }
    }
    policy_types = ["Egress"]
    egress {
      dynamic "to" {
        for_each = var.kube_api_server_cidrs
        content {
          ip_block {
            cidr = to.value
          }
        }
      }
      ports {
        protocol = "TCP"
        port     = tostring(var.kube_api_server_port)
      }
    }
  }
}
