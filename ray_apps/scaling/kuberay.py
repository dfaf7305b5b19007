"""Pre-scaling on Kubernetes: the replica bounds change in the RayService's own `serveConfigV2`.

KubeRay resubmits that spec to the cluster after an operator restart or a head crash, so a change made
to the running Serve app alone would be undone mid-window. The Airflow task pod's service account may
get and patch this one RayService (infra/terraform/config.tf); the patch carries the resourceVersion it
read, so a concurrent change answers 409 and the task retries."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import yaml

from lfr_core.live.scaling import Scaled, bounds, model_deployments
from lfr_core.live.wire import APP_NAME

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def _app(config: dict, app_name: str = APP_NAME) -> dict:
    """The application named `app_name` in a parsed serveConfigV2."""
    app = next((a for a in config.get("applications", []) if a.get("name") == app_name), None)
    if app is None:
        raise ValueError(f"the RayService runs no application named {app_name!r}")
    return app


def with_min_replicas(serve_config: str, min_replicas: int, app_name: str = APP_NAME) -> str:
    """The serveConfigV2 YAML with the model deployments' minimum raised or lowered (the maximum kept,
    or raised to the minimum; a fused detector's embedder left at zero); everything else as it was."""
    config = yaml.safe_load(serve_config)
    app = _app(config, app_name)
    deployments = {d["name"]: d for d in app.setdefault("deployments", [])}
    for name in model_deployments(app.get("args") or {}):
        entry = deployments.get(name)
        if entry is None:
            entry = {"name": name}
            app["deployments"].append(entry)
        autoscaling = entry.setdefault("autoscaling_config", {})
        autoscaling.update(bounds(autoscaling, min_replicas))
    return yaml.safe_dump(config, sort_keys=False)


def _in_cluster() -> tuple[str, str, str]:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise RuntimeError("not inside a Kubernetes pod (KUBERNETES_SERVICE_HOST unset)")
    return f"https://{host}:{port}", (SERVICE_ACCOUNT / "token").read_text().strip(), str(SERVICE_ACCOUNT / "ca.crt")


def scale_rayservice(ref: str, min_replicas: int, *, api: str | None = None, token: str | None = None,
                     verify: str | bool | None = None) -> Scaled:
    """Patch the RayService `namespace/name` so its model deployments keep at least `min_replicas`."""
    if api is None:
        api, token, verify = _in_cluster()
    namespace, name = ref.split("/", 1)
    url = f"{api}/apis/ray.io/v1/namespaces/{namespace}/rayservices/{name}"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, verify=verify if verify is not None else True,
                      timeout=15) as client:
        current = client.get(url)
        current.raise_for_status()
        body = current.json()
        config = with_min_replicas(body["spec"]["serveConfigV2"], min_replicas)
        patch = {"metadata": {"resourceVersion": body["metadata"]["resourceVersion"]}, "spec": {"serveConfigV2": config}}
        answer = client.patch(url, json=patch, headers={"Content-Type": "application/merge-patch+json"})
        answer.raise_for_status()
    app = _app(yaml.safe_load(config))
    scaled = model_deployments(app.get("args") or {})
    maxima = {d["name"]: d["autoscaling_config"]["max_replicas"] for d in app["deployments"] if d["name"] in scaled}
    return {"serve": "rayservice", "rayservice": ref, "min_replicas": min_replicas, "max_replicas": maxima}
