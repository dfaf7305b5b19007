"""Builder functions: the application is assembled here, from validated options, for `serve run`/`serve
deploy` (`import_path: ray_apps.app:build_app`) and for Python (`serve.run(build_app({...}))`)."""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve import Application

from ray_apps.detector import Detector
from ray_apps.embedder import Embedder
from ray_apps.ingress import Ingress
from ray_apps.options import AppOptions, ModelDeploymentOptions

APP_NAME = "lfr"


def build_detector(options: ModelDeploymentOptions) -> Application:
    return Detector.options(**options.deployment_options()).bind()


def build_embedder(options: ModelDeploymentOptions) -> Application:
    return Embedder.options(**options.deployment_options()).bind()


def build_app(args: dict[str, Any] | None = None) -> Application:
    """The whole application. `args` overrides the options derived from settings (`serve.*`), e.g.
    `{"detector": {"max_replicas": 1, "num_cpus": 0.5}, "version_check_s": 1}`."""
    options = AppOptions.from_settings(overrides=args)
    ingress = Ingress.options(
        ray_actor_options={"num_cpus": options.ingress_num_cpus},
        max_ongoing_requests=options.ingress_max_ongoing_requests,
    )
    return ingress.bind(build_detector(options.detector), build_embedder(options.embedder),
                        options.model_dump(exclude={"detector", "embedder"}))


def run(args: dict[str, Any] | None = None, *, host: str, port: int, blocking: bool = False):
    """Start Serve's HTTP proxy on host:port and deploy the application (Ray must be initialised)."""
    serve.start(http_options={"host": host, "port": port})
    return serve.run(build_app(args), name=APP_NAME, route_prefix="/", blocking=blocking)
