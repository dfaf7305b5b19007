# Network isolation. Everything in the namespace is denied in both directions first; each policy below
# opens one real flow (the table in README "Network flows" lists them, and a test checks that the two
# agree). There is no rule towards the internet: a privacy requirement (no frame, crop or template may
# leave the force's network), enforced by omission and by the CIDR validations in variables.tf.
# NetworkPolicy needs a CNI that enforces it (Calico, Cilium, ...); see README.
locals {
  role     = { for r in ["ray", "airflow", "postgres", "migrate"] : r => { matchLabels = { (local.role_key) = r } } }
  ray_head = { matchLabels = { (local.role_key) = "ray", "ray.io/node-type" = "head" } }
  in_ns    = { for ns in distinct([var.cnpg_operator_namespace, var.kuberay_operator_namespace, var.dns_namespace, var.gateway.namespace]) : ns => { matchLabels = { "kubernetes.io/metadata.name" = ns } } }
  tcp      = { for p in distinct([5432, 8000, 8080, 8265, var.serve_port, var.kube_api_server_port, var.object_store.port]) : tostring(p) => { protocol = "TCP", port = p } }
  cidrs_to = { for name, cidrs in {
    api    = var.kube_api_server_cidrs
    store  = var.object_store.cidrs
    db     = var.external_db_cidrs
    backup = try(var.postgres_backup.cidrs, [])
    git    = try(var.airflow_git_sync.server_cidrs, [])
    redis  = try(var.ray_gcs_fault_tolerance.redis_cidrs, [])
  } : name => [for c in cidrs : { ipBlock = { cidr = c } }] }
  gateway_pods = { namespaceSelector = local.in_ns[var.gateway.namespace], podSelector = { matchLabels = var.gateway.pod_labels } }

  # name => { selector, ingress rules, egress rules }; a policy with no rules of a kind leaves that
  # direction to the default deny.
  policies = merge(
    {
      "default-deny-all" = { selector = {}, ingress = [], egress = [], types = ["Ingress", "Egress"] }
      "allow-dns-egress" = { selector = {}, ingress = null, egress = [{
        to    = [{ namespaceSelector = local.in_ns[var.dns_namespace], podSelector = { matchLabels = var.dns_pod_labels } }]
        ports = [{ protocol = "UDP", port = 53 }, { protocol = "TCP", port = 53 }]
      }] }
      # Only the Gateway's data plane reaches the Serve HTTP port, on whichever Ray pod runs a proxy.
      "allow-serve-from-gateway" = { selector = local.role.ray, egress = null, ingress = [{ from = [local.gateway_pods], ports = [local.tcp[tostring(var.serve_port)]] }] }
      # Ray's head and workers use many ports between themselves (GCS, raylets, object manager, workers).
      "allow-ray-internal" = { selector = local.role.ray, ingress = [{ from = [{ podSelector = local.role.ray }] }], egress = [{ to = [{ podSelector = local.role.ray }] }] }
      # The KubeRay operator deploys the Serve config through the dashboard (8265) and checks the head's
      # Serve proxy (-/healthz on 8000, by pod IP).
      "allow-ray-from-kuberay-operator" = { selector = local.ray_head, egress = null, ingress = [{
        from  = [{ namespaceSelector = local.in_ns[var.kuberay_operator_namespace], podSelector = { matchLabels = { "app.kubernetes.io/name" = "kuberay-operator" } } }]
        ports = [local.tcp["8265"], local.tcp[tostring(var.serve_port)]]
      }] }
      # Platform pods (Ray, Airflow, the migration job) reach the object store's private endpoint.
      "allow-platform-egress-to-object-store" = { selector = { matchLabels = local.member }, ingress = null, egress = [{ to = local.cidrs_to.store, ports = [local.tcp[tostring(var.object_store.port)]] }] }
      # Airflow's components talk among themselves (API server, scheduler, triggerer, DAG processor, task
      # pods); the UI is reached through the Gateway only.
      "allow-airflow-internal" = { selector = local.role.airflow, ingress = concat(
        [{ from = [{ podSelector = local.role.airflow }] }],
        var.gateway.airflow_hostname == null ? [] : [{ from = [local.gateway_pods], ports = [local.tcp["8080"]] }],
      ), egress = [{ to = [{ podSelector = local.role.airflow }] }] }
    },
    { for name, p in {
      "allow-platform-egress-to-postgres" = { selector = { matchLabels = local.member }, ingress = null, egress = [{ to = [{ podSelector = local.role.postgres }], ports = [local.tcp["5432"]] }] }
      # Clients on 5432; instances among themselves on 5432 (replication) and 8000 (the primary's
      # isolation check); the operator on 8000 (instance manager status).
      "allow-postgres-ingress" = { selector = local.role.postgres, egress = null, ingress = [
        { from = [{ podSelector = { matchLabels = local.member } }, { podSelector = local.role.postgres }], ports = [local.tcp["5432"]] },
        { from = [{ podSelector = local.role.postgres }], ports = [local.tcp["8000"]] },
        { from = [{ namespaceSelector = local.in_ns[var.cnpg_operator_namespace], podSelector = { matchLabels = { "app.kubernetes.io/name" = "cloudnative-pg" } } }], ports = [local.tcp["8000"]] },
      ] }
      "allow-postgres-egress" = { selector = local.role.postgres, ingress = null, egress = [
        { to = [{ podSelector = local.role.postgres }], ports = [local.tcp["5432"], local.tcp["8000"]] },
        { to = local.cidrs_to.backup, ports = [{ protocol = "TCP", port = try(var.postgres_backup.port, 443) }] },
      ] }
    } : name => p if local.cnpg },
    { for name, p in {
      "allow-platform-egress-to-postgres" = { selector = { matchLabels = local.member }, ingress = null, egress = [{ to = local.cidrs_to.db, ports = [{ protocol = "TCP", port = var.external_db_port }] }] }
    } : name => p if !local.cnpg },
    { for name, p in {
      "allow-airflow-egress-to-git" = { selector = local.role.airflow, ingress = null, egress = [{ to = local.cidrs_to.git, ports = [{ protocol = "TCP", port = try(var.airflow_git_sync.server_port, 22) }] }] }
    } : name => p if var.airflow_dags_source == "git-sync" },
    { for name, p in {
      "allow-ray-head-egress-to-redis" = { selector = local.ray_head, ingress = null, egress = [{ to = local.cidrs_to.redis, ports = [{ protocol = "TCP", port = try(var.ray_gcs_fault_tolerance.redis_port, 6379) }] }] }
    } : name => p if var.ray_gcs_fault_tolerance != null },
    # The API server: the CloudNativePG instance manager watches its Cluster, the Ray head's autoscaler
    # creates and deletes workers, Airflow launches task pods and patches the RayService.
    { for name, sel in local.api_clients : "allow-${name}-egress-to-api-server" => {
      selector = sel, ingress = null, egress = [{ to = local.cidrs_to.api, ports = [local.tcp[tostring(var.kube_api_server_port)]] }]
    } if var.api_server_policy == "ip-block" },
  )
  api_clients = { for name, sel in { ray-head = local.ray_head, airflow = local.role.airflow, postgres = local.role.postgres } : name => sel if name != "postgres" || local.cnpg }

  network_policy_manifests = merge(
    { for name, p in local.policies : "networkpolicy/${name}" => {
      apiVersion = "networking.k8s.io/v1"
      kind       = "NetworkPolicy"
      metadata   = { name = name, namespace = var.namespace, labels = local.part_of }
      spec = merge(
        { podSelector = p.selector, policyTypes = try(p.types, concat(p.ingress == null ? [] : ["Ingress"], p.egress == null ? [] : ["Egress"])) },
        { for k, rules in { ingress = p.ingress, egress = p.egress } : k => rules if try(length(rules), 0) > 0 },
      )
    } },
    # Cilium does not match ipBlock rules against the API server; its own entity does.
    { for name, sel in local.api_clients : "ciliumnetworkpolicy/allow-${name}-egress-to-api-server" => {
      apiVersion = "cilium.io/v2"
      kind       = "CiliumNetworkPolicy"
      metadata   = { name = "allow-${name}-egress-to-api-server", namespace = var.namespace, labels = local.part_of }
      spec = { endpointSelector = sel, egress = [{
        toEntities = ["kube-apiserver"]
        toPorts    = [{ ports = [{ port = tostring(var.kube_api_server_port), protocol = "TCP" }] }]
      }] }
    } if var.api_server_policy == "cilium-entity" },
  )
}
