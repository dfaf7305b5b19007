"""Builder functions: the application is assembled here, from validated options, for `serve run`/`serve
deploy` (`import_path: ray_apps.app:build_app`) and for Python (`serve.run(build_app({...}))`)."""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.config import RequestRouterConfig

from lfr_core.live.wire import APP_NAME, DETECTOR, EMBEDDER, INGRESS
from ray_apps.ingress.replica import Ingress
from ray_apps.models.detector import Detector
from ray_apps.models.embedder import Embedder
from ray_apps.options import AppOptions, ModelDeploymentOptions

CAMERA_ROUTER = "ray_apps.ingress.routing:CameraAffinityRouter"
MODEL_ROUTER = RequestRouterConfig(request_router_class="ray_apps.ingress.routing:LeastBusyRouter")


# No per-request access log in the proxy or the replicas: four log lines a frame, each written, rotated and
# shipped by Ray's log monitor, cost about 2 ms of CPU a frame (bench/live.py) and say nothing the metrics
# and the audit log do not. Errors and warnings are still logged.
QUIET_LOGS = {"enable_access_log": False}


def build_detector(options: ModelDeploymentOptions) -> Application:
    return Detector.options(**options.deployment_options(), request_router_config=MODEL_ROUTER).bind()


def build_embedder(options: ModelDeploymentOptions) -> Application:
    return Embedder.options(**options.deployment_options(), request_router_config=MODEL_ROUTER).bind()


def build_app(args: dict[str, Any] | None = None) -> Application:
    """The whole application. `args` overrides the options derived from settings (`serve.*`), e.g.
    `{"detector": {"max_replicas": 1, "num_cpus": 0.5}, "version_check_s": 1}`."""
    options = AppOptions.from_settings(overrides=args)
    ingress = Ingress.options(
        ray_actor_options={"num_cpus": options.ingress_num_cpus},
        max_ongoing_requests=options.ingress_max_ongoing_requests,
        autoscaling_config=options.ingress_autoscaling(),
        request_router_config=RequestRouterConfig(request_router_class=CAMERA_ROUTER),
        **({"max_replicas_per_node": options.ingress_max_replicas_per_node}
           if options.ingress_max_replicas_per_node else {}),
    )
    return ingress.bind(build_detector(options.detector), build_embedder(options.embedder),
                        options.model_dump(exclude={"detector", "embedder"}))


def app_config(args: dict[str, Any] | None = None) -> dict[str, Any]:
    """The application as a declarative Serve config (what `serve deploy` takes). The model deployments'
    autoscaling bounds are listed from the start, so that pre-scaling later changes values, not the shape,
    of the config, which Serve applies in place."""
    options = AppOptions.from_settings(overrides=args)
    # Whether the detector embeds is part of the app's args, where pre-scaling reads it (lfr_core/live/scaling.py).
    args = {**(args or {}), "fused_detector": options.fused_detector}
    deployments = [{"name": name, "autoscaling_config": opts.deployment_options()["autoscaling_config"]}
                   for name, opts in ((DETECTOR, options.detector), (EMBEDDER, options.embedder))]
    deployments.append({"name": INGRESS, "autoscaling_config": options.ingress_autoscaling()})
    return {"name": APP_NAME, "route_prefix": "/", "import_path": "ray_apps.app:build_app", "args": args,
            "deployments": deployments, "logging_config": QUIET_LOGS}


def deploy_config(config: dict[str, Any], *, timeout_s: float = 180.0) -> None:
    """Deploy declaratively and wait until every deployment has at least its minimum replicas running.

    Declarative, not `serve.run`: a redeploy that changes only config options (autoscaling bounds, batch
    size) then updates replicas in place, so pre-scaling never restarts the ingress (its tracks and
    pending counters) or the warm model replicas."""
    import time

    from ray.serve.context import _get_global_client
    from ray.serve.schema import ServeDeploySchema

    client = _get_global_client()
    client.deploy_apps(ServeDeploySchema.model_validate({"applications": [config]}))
    wanted = {d["name"]: (d.get("autoscaling_config") or {}).get("min_replicas", 1) for d in config.get("deployments", [])}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app = client.get_serve_details()["applications"].get(APP_NAME)
        if app and app["status"] == "DEPLOY_FAILED":
            raise RuntimeError(f"Serve application failed to deploy: {app.get('message')}")
        if app and app["status"] == "RUNNING" and all(
                sum(r["state"] == "RUNNING" for r in app["deployments"][name]["replicas"]) >= n
                for name, n in wanted.items() if name in app["deployments"]):
            return
        time.sleep(0.5)
    raise TimeoutError(f"Serve application not running after {timeout_s:.0f}s")


def run(args: dict[str, Any] | None = None, *, host: str, port: int) -> None:
    """Start Serve's HTTP proxy on host:port and deploy the application (Ray must be initialised)."""
    serve.start(http_options={"host": host, "port": port}, logging_config=QUIET_LOGS)
    deploy_config(app_config(args))
