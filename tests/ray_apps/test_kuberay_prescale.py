"""Pre-scaling on Kubernetes patches the RayService's serveConfigV2 (which KubeRay keeps), read with its
resourceVersion so that a concurrent change is refused, and touches nothing else in the config. The API
server is a small local HTTP server speaking the two calls used: no cluster runs here."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
import yaml

from ray_apps.scaling.kuberay import scale_rayservice, with_min_replicas

SERVE_CONFIG = yaml.safe_dump({
    "proxy_location": "EveryNode", "http_options": {"host": "0.0.0.0", "port": 8000},
    "applications": [{"name": "lfr", "import_path": "ray_apps.app:build_app", "route_prefix": "/",
                      "args": {"detector": {"num_cpus": 1}},
                      "deployments": [{"name": "Detector", "autoscaling_config": {"min_replicas": 1, "max_replicas": 9}},
                                      {"name": "Embedder", "autoscaling_config": {"min_replicas": 1, "max_replicas": 10}}]}],
})


def test_min_replicas_change_and_nothing_else():
    from ray.serve.schema import ServeDeploySchema

    raised = yaml.safe_load(with_min_replicas(SERVE_CONFIG, 12))
    ServeDeploySchema.model_validate(raised)
    bounds = {d["name"]: d["autoscaling_config"] for d in raised["applications"][0]["deployments"]}
    assert bounds == {"Detector": {"min_replicas": 12, "max_replicas": 12},
                      "Embedder": {"min_replicas": 12, "max_replicas": 12}}
    lowered = yaml.safe_load(with_min_replicas(SERVE_CONFIG, 1))
    original = yaml.safe_load(SERVE_CONFIG)
    assert lowered == original
    with pytest.raises(ValueError, match="no application"):
        with_min_replicas(SERVE_CONFIG.replace("name: lfr", "name: other"), 2)


def test_a_fused_detectors_embedder_stays_at_zero_replicas():
    """The detector embeds (fused_detector in the app's args): raising the window's replicas leaves the
    embedder, which no frame reaches, without a replica or a share of a GPU."""
    config = yaml.safe_load(SERVE_CONFIG)
    app = config["applications"][0]
    app["args"]["fused_detector"] = True
    app["deployments"][1]["autoscaling_config"]["min_replicas"] = 0
    raised = yaml.safe_load(with_min_replicas(yaml.safe_dump(config), 12))
    bounds = {d["name"]: d["autoscaling_config"] for d in raised["applications"][0]["deployments"]}
    assert bounds == {"Detector": {"min_replicas": 12, "max_replicas": 12},
                      "Embedder": {"min_replicas": 0, "max_replicas": 10}}


class FakeApiServer(BaseHTTPRequestHandler):
    resource: ClassVar[dict] = {"metadata": {"name": "lfr-serve", "namespace": "lfr", "resourceVersion": "41"},
                "spec": {"serveConfigV2": SERVE_CONFIG, "rayClusterConfig": {"rayVersion": "2.60.0"}}}
    seen: ClassVar[list[tuple[str, str, str, dict | None]]] = []
    changed_after_read = False  # someone else patches between our read and our patch

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self.seen.append(("GET", self.path, self.headers.get("Authorization"), None))
        self._reply(200, self.resource)
        if self.changed_after_read:
            self.resource["metadata"]["resourceVersion"] = str(int(self.resource["metadata"]["resourceVersion"]) + 1)

    def do_PATCH(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(("PATCH", self.path, self.headers.get("Content-Type"), body))
        if body["metadata"]["resourceVersion"] != self.resource["metadata"]["resourceVersion"]:
            return self._reply(409, {"reason": "Conflict"})
        self.resource["spec"]["serveConfigV2"] = body["spec"]["serveConfigV2"]
        self._reply(200, self.resource)

    def log_message(self, *args) -> None:
        pass


def test_scaling_patches_the_rayservice_spec_with_its_resource_version():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = scale_rayservice("lfr/lfr-serve", 6, api=api, token="t0ken")
        path = "/apis/ray.io/v1/namespaces/lfr/rayservices/lfr-serve"
        get, patch = FakeApiServer.seen
        assert get == ("GET", path, "Bearer t0ken", None)
        assert patch[:3] == ("PATCH", path, "application/merge-patch+json")
        assert patch[3]["metadata"] == {"resourceVersion": "41"} and set(patch[3]["spec"]) == {"serveConfigV2"}
        assert result["max_replicas"] == {"Detector": 9, "Embedder": 10} and result["min_replicas"] == 6
        FakeApiServer.changed_after_read = True
        with pytest.raises(httpx.HTTPStatusError, match="409"):
            scale_rayservice("lfr/lfr-serve", 2, api=api, token="t0ken")
        assert yaml.safe_load(FakeApiServer.resource["spec"]["serveConfigV2"])["applications"][0]["deployments"][0][
            "autoscaling_config"]["min_replicas"] == 6  # the refused patch changed nothing
    finally:
        server.shutdown()
