"""What `terraform apply` would send, rendered offline (tests/infra/conftest.py) and checked against the
upstream schemas it must satisfy, the safety properties a reviewer asks for, and the network flows the
platform needs (and no others)."""

from __future__ import annotations

import copy
import ipaddress
import json
from functools import cache
from typing import Any
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest

from tests.infra.conftest import EXAMPLE_TFVARS, SCHEMAS, VARIANTS, needs_terraform, plan, render, tfvars_with

pytestmark = needs_terraform

KUBERNETES_VERSION = "1.33.0"  # oldest Kubernetes release the configuration supports; strict schemas
CRD_SCHEMAS = {  # vendored from the upstream releases operators.tf installs (each file's $comment names it)
    ("ray.io/v1", "RayService"): "rayservice-v1.schema.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster-v1.schema.json",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "cnpg-scheduledbackup-v1.schema.json",
    ("postgresql.cnpg.io/v1", "Database"): "cnpg-database-v1.schema.json",
    ("barmancloud.cnpg.io/v1", "ObjectStore"): "barman-objectstore-v1.schema.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway-httproute-v1.schema.json",
}
UNVALIDATED_KINDS = {"CiliumNetworkPolicy"}  # only with api_server_policy = cilium-entity; no schema vendored


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD schema that refuses unknown fields. The API server prunes them silently, so a misspelt field
    would apply and do nothing; here it fails."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@cache
def crd_validator(file: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / file).read_text())
    schema.pop("$comment", None)
    return jsonschema.Draft7Validator(strict(schema))


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    key = (manifest["apiVersion"], manifest["kind"])
    if key in CRD_SCHEMAS:
        validator = crd_validator(CRD_SCHEMAS[key])
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{'/'.join(map(str, e.path))}: {e.message}"]
    return []


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_manifest_validates_against_its_upstream_schema(rendered, variant: str) -> None:
    manifests = rendered[variant]["manifests"]
    kinds = {m["kind"] for m in manifests.values()}
    assert kinds - UNVALIDATED_KINDS <= {k for _, k in CRD_SCHEMAS} | {
        "Namespace", "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Job"}
    errors = {name: schema_errors(m) for name, m in manifests.items() if m["kind"] not in UNVALIDATED_KINDS}
    assert {name: e for name, e in errors.items() if e} == {}


def test_the_schema_check_catches_a_misspelt_field(rendered) -> None:
    manifests = rendered["cnpg-gpu"]["manifests"]
    cluster = copy.deepcopy(manifests["cluster/lfr-postgres"])
    cluster["spec"]["postgresql"]["synchronus"] = cluster["spec"]["postgresql"].pop("synchronous")
    assert any("synchronus" in e for e in schema_errors(cluster))
    job = copy.deepcopy(manifests["job/lfr-db-migrate"])
    job["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    assert schema_errors(job)
    ray = copy.deepcopy(manifests["rayservice/lfr-serve"])
    ray["spec"]["rayClusterConfig"]["authOptions"] = {"mode": "password"}
    assert schema_errors(ray)


@pytest.mark.parametrize("variant", VARIANTS)
def test_airflow_values_validate_against_the_chart_schema(rendered, variant: str) -> None:
    schema = json.loads((SCHEMAS / "airflow-chart-values.schema.json").read_text())
    schema.pop("$comment", None)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(rendered[variant]["airflow_values"])]
    assert errors == []


# ---------------------------------------------------------------------------------------------------
# Safety properties
# ---------------------------------------------------------------------------------------------------

def pod_specs(manifests: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pods = {}
    for name, m in manifests.items():
        if m["kind"] == "Job":
            pods[name] = m["spec"]["template"]["spec"]
        if m["kind"] == "RayService":
            cluster = m["spec"]["rayClusterConfig"]
            pods[f"{name}/head"] = cluster["headGroupSpec"]["template"]["spec"]
            for group in cluster["workerGroupSpecs"]:
                pods[f"{name}/{group['groupName']}"] = group["template"]["spec"]
    return pods


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_meets_the_restricted_standard_with_limits_and_secrets_as_files(rendered, variant: str) -> None:
    manifests = rendered[variant]["manifests"]
    pods = pod_specs(manifests)
    assert len(pods) >= 3
    for name, pod in pods.items():
        assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], name
            assert sc["seccompProfile"]["type"] == "RuntimeDefault" and sc["runAsNonRoot"] is True, name
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), f"{name}: no CPU or memory limit"
            assert not [e for e in c.get("env", []) if "valueFrom" in e], f"{name}: a secret in the environment"
            assert {"mountPath": "/etc/lfr/secrets", "name": "lfr-secrets", "readOnly": True} in c["volumeMounts"], name
            assert {"mountPath": "/etc/lfr/ca", "name": "lfr-ca", "readOnly": True} in c["volumeMounts"], name
        secrets = next(v for v in pod["volumes"] if v["name"] == "lfr-secrets")["projected"]["sources"]
        files = {i["path"] for s in secrets for i in s["secret"]["items"]}
        # The administrator's DSN (roles, the sealed audit log) reaches the migration Job and nothing else.
        admin = {"LFR_DB__ADMIN_DSN"} if name.startswith("job/") and variant == "cnpg-gpu" else set()
        assert files == {"LFR_DB__DSN", "LFR_S3__SECRET_KEY"} | admin, name
    assert manifests["namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    env = rendered[variant]["lfr_env"]
    assert env["LFR_SECRETS_DIR"] == "/etc/lfr/secrets" and env["SSL_CERT_FILE"] == env["LFR_S3__CA_FILE"]
    assert not [k for k in env if any(s in k for s in ("DSN", "PASSWORD", "SECRET_KEY", "TOKEN"))]


@pytest.mark.parametrize("variant", VARIANTS)
def test_airflow_has_no_default_user_and_stable_keys(rendered, variant: str) -> None:
    values = rendered[variant]["airflow_values"]
    assert values["createUserJob"] == {"enabled": False}
    assert "webserver" not in values  # the deprecated webserver.defaultUser would take priority
    for key in ("jwtSecretName", "apiSecretKeySecretName", "fernetKeySecretName"):
        assert values[key], key  # without a name, the chart makes a new random key at every upgrade
    assert values["postgresql"] == {"enabled": False} and values["data"]["metadataSecretName"]
    assert values["securityContexts"]["pod"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "secret" not in values  # the chart's `secret` list becomes environment variables
    assert {v["name"] for v in values["volumes"]} == {"lfr-secrets", "lfr-ca", "lfr-audit-key"}
    # The checkpoint signing key reaches the Airflow pods (they write the checkpoints) and no other pod.
    for name, pod in pod_specs(rendered[variant]["manifests"]).items():
        assert "lfr-audit-key" not in {v["name"] for v in pod["volumes"]}, name


def test_postgres_is_synchronous_backed_up_off_site_and_hosts_airflow(rendered) -> None:
    m = rendered["cnpg-gpu"]["manifests"]
    spec = m["cluster/lfr-postgres"]["spec"]
    tag = spec["imageName"].rsplit(":", 1)[1]
    assert tag[0].isdigit() and tag.startswith("18") and "standard" in tag  # the webhook's rule; pgvector inside
    assert spec["postgresql"]["synchronous"] == {"method": "any", "number": 1, "dataDurability": "required"}
    assert spec["instances"] > spec["postgresql"]["synchronous"]["number"]
    assert spec["plugins"][0]["isWALArchiver"] is True
    store = m["objectstore/lfr-postgres-backups"]["spec"]
    assert spec["plugins"][0]["parameters"]["barmanObjectName"] == m["objectstore/lfr-postgres-backups"]["metadata"]["name"]
    platform_store = rendered["cnpg-gpu"]["lfr_env"]["LFR_S3__ENDPOINT"].split(":")[0]
    assert urlparse(store["configuration"]["endpointURL"]).hostname != platform_store  # backups live elsewhere
    backup = m["scheduledbackup/lfr-postgres-nightly"]["spec"]
    assert backup["method"] == "plugin" and len(backup["schedule"].split()) == 6
    assert m["database/airflow"]["spec"] == {"name": "airflow", "owner": "airflow", "cluster": {"name": "lfr-postgres"},
                                             "ensure": "present", "databaseReclaimPolicy": "retain"}
    assert {"name": "airflow", "ensure": "present", "login": True,
            "passwordSecret": {"name": "lfr-airflow-db-role"}} in spec["managed"]["roles"]
    assert not [k for k in rendered["external-cpu-cilium"]["manifests"] if k.startswith(("cluster/", "database/"))]


def test_ray_uses_token_auth_and_the_gpu_group_is_asked_for(rendered) -> None:
    for variant, out in rendered.items():
        ray = out["manifests"]["rayservice/lfr-serve"]["spec"]
        assert ray["rayClusterConfig"]["authOptions"] == {"mode": "token"}
        serve = _serve_app(out)
        groups = {g["groupName"]: g for g in ray["rayClusterConfig"]["workerGroupSpecs"]}
        gpu = variant == "cnpg-gpu"
        assert set(groups) == ({"cpu", "gpu"} if gpu else {"cpu"})
        assert serve["args"]["fused_detector"] is gpu
        for model in ("detector", "embedder"):
            assert serve["args"][model]["num_cpus"] == 1
            assert (serve["args"][model]["num_gpus"] > 0) is gpu  # replicas that ask for a GPU land on the GPU group
        if gpu:
            container = groups["gpu"]["template"]["spec"]["containers"][0]
            assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
            # the models run on the GPU through torch (the lock's CUDA build) in the platform image itself
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert (env["LFR_VISION__DEVICE"], env["LFR_VISION__RUNTIME"]) == ("cuda", "torch")
            # fused by default: the detector embeds, the embedder keeps no replica (and pre-scaling leaves it so)
            assert env["LFR_VISION__FUSED_DETECTOR"] == "true" and serve["args"]["fused_detector"] is True
            minima = {d["name"]: d["autoscaling_config"]["min_replicas"] for d in serve["deployments"]}
            assert (minima["Detector"], minima["Embedder"]) == (1, 0)
            assert serve["args"]["embedder"]["min_replicas"] == 0
            assert container["image"] == groups["cpu"]["template"]["spec"]["containers"][0]["image"]
    external = rendered["external-cpu-cilium"]["manifests"]["rayservice/lfr-serve"]["spec"]["rayClusterConfig"]
    assert external["gcsFaultToleranceOptions"]["redisAddress"] == "redis.force.internal:6379"


def _serve_app(out: dict) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(out["manifests"]["rayservice/lfr-serve"]["spec"]["serveConfigV2"])["applications"][0]


def _model_batching(out: dict) -> dict[str, Any]:
    serve = _serve_app(out)
    detector = serve["args"]["detector"]
    targets = {d["name"]: d["autoscaling_config"]["target_ongoing_requests"] for d in serve["deployments"]}
    return {"batch": detector["batch"], "max_ongoing": detector["max_ongoing_requests"],
            "target": detector["target_ongoing_requests"], "deployed_target": targets["Detector"]}


def test_the_gpu_batch_is_bench_gpus_measurement_and_the_autoscaler_lets_it_fill(rendered, eval_dir) -> None:
    """gpu_serve_batch (bench/gpu.py's serve_batch_1080p_clip) reaches the replicas; the autoscaler's target is
    a batch's worth of requests and a replica accepts two, so the batch can fill (the options refuse less)."""
    from ray_apps.options import ModelDeploymentOptions

    unmeasured = _model_batching(rendered["cnpg-gpu"])
    assert unmeasured == {"batch": {"max_batch_size": 8, "batch_wait_timeout_s": 0.01}, "max_ongoing": 16,
                          "target": 8, "deployed_target": 8}
    assert _model_batching(rendered["external-cpu-cilium"])["batch"] == {"max_batch_size": 1, "batch_wait_timeout_s": 0}
    tfvars = tfvars_with(EXAMPLE_TFVARS.read_text(), gpu_serve_batch="{ max_batch_size = 32, batch_wait_timeout_s = 0.02 }")
    out = render(eval_dir, tfvars, "gpu-batch-measured")
    assert _model_batching(out) == {"batch": {"max_batch_size": 32, "batch_wait_timeout_s": 0.02}, "max_ongoing": 64,
                                    "target": 32, "deployed_target": 32}
    ModelDeploymentOptions.model_validate(_serve_app(out)["args"]["detector"])  # what build_app will accept
    refused = plan(eval_dir, tfvars_with(EXAMPLE_TFVARS.read_text(), gpu_serve_batch="{ max_batch_size = 512, "
                                                                                    "batch_wait_timeout_s = 0.02 }"),
                   "gpu-batch-too-big")
    assert refused.returncode != 0 and "gpu_serve_batch needs" in refused.stdout + refused.stderr


def test_an_onnxruntime_gpu_group_without_its_image_is_refused(eval_dir) -> None:
    tfvars = tfvars_with(EXAMPLE_TFVARS.read_text(), gpu_workers='{ enabled = true, runtime = "onnxruntime" }')
    result = plan(eval_dir, tfvars, "onnxruntime-gpu-without-image")
    assert result.returncode != 0
    assert "needs gpu_workers.image" in result.stdout + result.stderr


def test_the_serve_config_is_one_ray_serve_accepts(rendered) -> None:
    import yaml
    from ray.serve.schema import ServeDeploySchema

    from ray_apps.options import AppOptions

    for out in rendered.values():
        config = yaml.safe_load(out["manifests"]["rayservice/lfr-serve"]["spec"]["serveConfigV2"])
        app = ServeDeploySchema.model_validate(config).applications[0]
        options = AppOptions.model_validate(app.args)  # the builder's own validation of its arguments
        assert options.detector.num_cpus == 1 and options.ingress_num_cpus == 1
        assert options.ingress_max_replicas == out["capacity"]["ingress_replicas"] > 1  # cameras spread over them
        assert {d.name for d in app.deployments} == {"Detector", "Embedder", "Ingress"}


def test_the_cpu_group_may_grow_to_hold_every_replica_the_load_needs(rendered) -> None:
    out = rendered["external-cpu-cilium"]
    cap = out["capacity"]
    ray = out["manifests"]["rayservice/lfr-serve"]["spec"]
    cpu = ray["rayClusterConfig"]["workerGroupSpecs"][0]
    per_worker = int(cpu["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]) - 1
    replicas = {d["name"]: d["autoscaling_config"]["max_replicas"]
                for d in _serve_app(out)["deployments"]}
    assert replicas["Ingress"] == cap["ingress_replicas"]
    needed = replicas["Detector"] + replicas["Embedder"] + replicas["Ingress"]
    assert cpu["maxReplicas"] * per_worker >= needed > per_worker  # one worker cannot hold them: it scales out
    assert cpu["minReplicas"] < cpu["maxReplicas"]


# ---------------------------------------------------------------------------------------------------
# Network flows: every real flow has a path, and nothing else does
# ---------------------------------------------------------------------------------------------------

NS = "lfr"
PODS = {  # name: (namespace, labels), as the charts and operators label them
    "ray-head": (NS, {"lfr.platform/role": "ray", "lfr.platform/member": "true", "ray.io/node-type": "head"}),
    "ray-worker": (NS, {"lfr.platform/role": "ray", "lfr.platform/member": "true", "ray.io/node-type": "worker"}),
    "airflow": (NS, {"lfr.platform/role": "airflow", "lfr.platform/member": "true"}),
    "migrate": (NS, {"lfr.platform/role": "migrate", "lfr.platform/member": "true"}),
    "postgres": (NS, {"lfr.platform/role": "postgres"}),
    "stranger": (NS, {}),  # any other pod someone starts in the namespace
    "gateway": ("gateway-system", {"gateway.networking.k8s.io/gateway-name": "internal"}),
    "kuberay-operator": ("kuberay-system", {"app.kubernetes.io/name": "kuberay-operator"}),
    "cnpg-operator": ("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}),
    "dns": ("kube-system", {"k8s-app": "kube-dns"}),
    "other-app": ("default", {"app": "other"}),
}
HOSTS = {"api": "10.20.0.10", "store": "10.60.0.3", "backup": "10.50.0.3", "db": "10.30.0.5", "git": "10.40.0.20",
         "redis": "10.70.0.5", "internet": "8.8.8.8"}
PORTS = [("UDP", 53), ("TCP", 53), ("TCP", 22), ("TCP", 443), ("TCP", 5432), ("TCP", 6379), ("TCP", 6443),
         ("TCP", 8000), ("TCP", 8080), ("TCP", 8265), ("TCP", 10001), ("TCP", 23456)]
ALL = {p for p in PORTS}


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_allows(peer: dict[str, Any], other: str) -> bool:
    if other in HOSTS:
        block = peer.get("ipBlock")
        return block is not None and ipaddress.ip_address(HOSTS[other]) in ipaddress.ip_network(block["cidr"])
    if "ipBlock" in peer:
        return False
    ns, labels = PODS[other]
    ns_ok = _matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": ns}) if "namespaceSelector" in peer else ns == NS
    return ns_ok and _matches(peer.get("podSelector", {}), labels)


def _rule_allows(rule: dict[str, Any], peers_key: str, other: str, port: tuple[str, int]) -> bool:
    peers = rule.get(peers_key)
    ports = rule.get("ports")
    return ((not peers or any(_peer_allows(p, other) for p in peers))
            and (not ports or any((p.get("protocol", "TCP"), int(p["port"])) == port for p in ports)))


def _direction_allows(manifests: dict[str, Any], pod: str, direction: str, other: str, port: tuple[str, int]) -> bool:
    ns, labels = PODS[pod]
    if ns != NS:
        return True  # outside the namespace: not this configuration's policies
    kind = "Ingress" if direction == "ingress" else "Egress"
    peers_key = "from" if direction == "ingress" else "to"
    selected, allowed = False, False
    for m in manifests.values():
        if m["kind"] == "NetworkPolicy" and kind in m["spec"]["policyTypes"] and _matches(m["spec"]["podSelector"], labels):
            selected = True
            allowed |= any(_rule_allows(r, peers_key, other, port) for r in m["spec"].get(direction, []))
        if (m["kind"] == "CiliumNetworkPolicy" and direction == "egress" and other == "api"
                and _matches(m["spec"]["endpointSelector"], labels)):
            allowed |= any("kube-apiserver" in r.get("toEntities", []) and any(
                (p["protocol"], int(p["port"])) == port for tp in r["toPorts"] for p in tp["ports"])
                for r in m["spec"]["egress"])
    return allowed or not selected


def allowed_flows(manifests: dict[str, Any]) -> set[tuple[str, str, tuple[str, int]]]:
    flows = set()
    for src in PODS:
        for dst in [*PODS, *HOSTS]:
            if src == dst and src != "ray-worker" and src not in ("airflow", "postgres"):
                continue
            if PODS[src][0] != NS and (dst in HOSTS or PODS[dst][0] != NS):
                continue  # neither end is the platform's
            for port in PORTS:
                if (_direction_allows(manifests, src, "egress", dst, port)
                        and (dst in HOSTS or _direction_allows(manifests, dst, "ingress", src, port))):
                    flows.add((src, dst, port))
    return flows


def expected_flows(variant: str) -> set[tuple[str, str, tuple[str, int]]]:
    cnpg = variant == "cnpg-gpu"
    members = ["ray-head", "ray-worker", "airflow", "migrate"]
    flows = {(p, "dns", port) for p, (ns, _) in PODS.items() if ns == NS for port in (("UDP", 53), ("TCP", 53))}
    flows |= {(a, b, port) for a in ("ray-head", "ray-worker") for b in ("ray-head", "ray-worker") for port in ALL
              if a != b or a == "ray-worker"}
    flows |= {("airflow", "airflow", port) for port in ALL}
    flows |= {("gateway", r, ("TCP", 8000)) for r in ("ray-head", "ray-worker")}
    flows |= {("gateway", "airflow", ("TCP", 8080))}
    flows |= {("kuberay-operator", "ray-head", ("TCP", p)) for p in (8265, 8000)}
    flows |= {(m, "store", ("TCP", 443)) for m in members}
    flows |= {(c, "api", ("TCP", 6443)) for c in ("ray-head", "airflow", *(["postgres"] if cnpg else []))}
    if cnpg:
        flows |= {(m, "postgres", ("TCP", 5432)) for m in members}
        flows |= {("postgres", "postgres", ("TCP", p)) for p in (5432, 8000)}
        flows |= {("cnpg-operator", "postgres", ("TCP", 8000)), ("postgres", "backup", ("TCP", 443))}
    else:
        flows |= {(m, "db", ("TCP", 5432)) for m in members}
        flows |= {("airflow", "git", ("TCP", 22)), ("ray-head", "redis", ("TCP", 6379))}
    return flows


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_network_path_for_every_real_flow_and_none_other(rendered, variant: str) -> None:
    allowed = allowed_flows(rendered[variant]["manifests"])
    expected = expected_flows(variant)
    assert sorted(expected - allowed) == [], "real flows the policies block"
    assert sorted(allowed - expected) == [], "flows the policies open that nothing needs"


def test_the_flow_check_sees_a_missing_and_an_extra_path(rendered) -> None:
    manifests = copy.deepcopy(rendered["cnpg-gpu"]["manifests"])
    del manifests["networkpolicy/allow-ray-from-kuberay-operator"]
    assert ("kuberay-operator", "ray-head", ("TCP", 8000)) not in allowed_flows(manifests)
    manifests["networkpolicy/allow-dns-egress"]["spec"]["egress"][0].pop("to")
    assert ("ray-head", "internet", ("UDP", 53)) in allowed_flows(manifests)
