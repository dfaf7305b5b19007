# HTTPRoutes attaching the matching API and (optionally) the Airflow UI to the force's Gateway, which
# terminates TLS: frames and alerts never travel in clear text outside the cluster network.
locals {
  gateway_parent = merge(
    { group = "gateway.networking.k8s.io", kind = "Gateway", name = var.gateway.name, namespace = var.gateway.namespace },
    var.gateway.section_name == null ? {} : { sectionName = var.gateway.section_name },
  )

  routes = merge(
    { serve = { hostname = var.gateway.serve_hostname, service = "${local.ray_service_name}-serve-svc", port = var.serve_port } },
    var.gateway.airflow_hostname == null ? {} : {
      airflow = { hostname = var.gateway.airflow_hostname, service = "${local.airflow_release}-api-server", port = 8080 }
    },
  )

  gateway_manifests = { for name, route in local.routes : "httproute/lfr-${name}" => {
    apiVersion = "gateway.networking.k8s.io/v1"
    kind       = "HTTPRoute"
    metadata   = { name = "lfr-${name}", namespace = var.namespace, labels = local.part_of }
    spec = {
      parentRefs = [local.gateway_parent]
      hostnames  = [route.hostname]
      rules = [{
        matches     = [{ path = { type = "PathPrefix", value = "/" } }]
        backendRefs = [{ name = route.service, port = route.port }]
      }]
    }
  } }
}
