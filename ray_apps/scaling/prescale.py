"""Pre-scaling around a deployment window: the Ray calls that apply what lfr_core/live/scaling.py decides
(the deployment DAG runs them as `python -m ray_apps.scaling`, ray_apps/scaling/__main__.py): raise the
detector and embedder minimum replicas and warm the models before the window, lower them after. A change of
autoscaling bounds is a lightweight Serve update: running replicas are kept. On Kubernetes (serve.rayservice
set) the bounds change in the RayService's spec instead, which KubeRay applies and keeps."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import numpy as np

from lfr_core.config import get_settings
from lfr_core.live.scaling import Scaled, ScaleRequest, bounds, model_deployments
from lfr_core.live.wire import APP_NAME, DETECTOR, EMBEDDER, MODEL_DEPLOYMENTS

NOT_RUNNING: Scaled = {"serve": "not running"}


def _ray_address() -> str | None:
    token = os.environ.get("LFR_SERVE_RAY_TOKEN_FILE") or str(get_settings().serve_ray_token_file)
    if os.path.exists(token):
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = token
    path = os.environ.get("LFR_SERVE_RAY_ADDRESS_FILE") or str(get_settings().serve_ray_address_file)
    try:
        return open(path).read().strip() or None
    except FileNotFoundError:
        return None


def _connect() -> bool:
    """Attach to the Serve app's Ray node (already attached in-process, or via the launcher's address)."""
    address = _ray_address()  # sets the token variables before Ray is first imported
    if address is None and "ray" not in sys.modules:  # no node to attach to, and none attached in-process
        return False
    import ray

    if ray.is_initialized():
        return True
    if address is None:
        return False
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, RuntimeError):
        return False
    return True


def _deployed() -> dict[str, Any] | None:
    """The running app's declarative config and its deployments' current autoscaling bounds."""
    from ray.serve.context import _get_global_client


    client = _get_global_client()
    app = client.get_serve_details()["applications"].get(APP_NAME) if client is not None else None
    if not app or not app.get("deployed_app_config"):
        return None
    config = dict(app["deployed_app_config"])
    current = {name: dict(app["deployments"][name]["deployment_config"].get("autoscaling_config") or {})
               for name in MODEL_DEPLOYMENTS}
    return {"config": config, "bounds": current}


def _warm(names: tuple[str, ...], timeout_s: float = 60.0) -> dict[str, float]:
    """One dummy request to each of these model deployments, timed (loads lazy state, fills caches)."""
    from ray import serve


    timings = {}
    import cv2

    frame = cv2.imencode(".jpg", np.zeros((360, 640, 3), np.uint8))[1].tobytes()  # the detector takes bytes
    calls = {DETECTOR: ("detect", frame), EMBEDDER: ("embed", np.zeros((1, 112, 112, 3), np.uint8))}
    for name in names:
        method, arg = calls[name]
        handle = serve.get_deployment_handle(name, app_name=APP_NAME)
        t0 = time.perf_counter()
        getattr(handle, method).remote(arg).result(timeout_s=timeout_s)
        timings[name] = round(time.perf_counter() - t0, 3)
    return timings


def scale(request: ScaleRequest) -> Scaled:
    min_replicas = request.min_replicas
    rayservice = get_settings().serve.rayservice
    if rayservice:  # on Kubernetes: KubeRay owns the app's config (ray_apps/scaling/kuberay.py)
        from ray_apps.scaling.kuberay import scale_rayservice

        return scale_rayservice(rayservice, min_replicas)
    if not _connect():
        return NOT_RUNNING.copy()
    from ray_apps.app import deploy_config

    deployed = _deployed()
    if deployed is None:
        return NOT_RUNNING.copy()
    config, overrides = deployed["config"], {d["name"]: d for d in deployed["config"].get("deployments", [])}
    names = model_deployments(config.get("args") or {})
    for name in names:
        current = deployed["bounds"][name]
        autoscaling = {**bounds(current, min_replicas),
                       "target_ongoing_requests": current.get("target_ongoing_requests", 4)}
        overrides[name] = {**overrides.get(name, {"name": name}), "autoscaling_config": autoscaling}
    config["deployments"] = list(overrides.values())
    deploy_config(config)  # config-only change: replicas are updated in place, none restarted
    result: Scaled = {"serve": "running", "min_replicas": min_replicas,
                      "max_replicas": {n: overrides[n]["autoscaling_config"]["max_replicas"] for n in names}}
    if request.warm:
        result["warm_s"] = _warm(names)
    return result


def prescale(min_replicas: int | None = None) -> Scaled:
    """Raise the model deployments' minimum replicas (default serve.max_replicas) and warm them."""
    return scale(ScaleRequest(min_replicas if min_replicas is not None else get_settings().serve.max_replicas,
                              warm=True))


def lower() -> Scaled:
    """Back to serve.min_replicas at window end."""
    return scale(ScaleRequest(get_settings().serve.min_replicas, warm=False))
