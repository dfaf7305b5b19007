"""One Ray node (2 CPUs, no dashboard) and one Serve application per test module, on a free port, with a
live deployment whose sealed watchlist holds Lin-Manuel Miranda and five other people."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from lfr_core.db.connection import connect
from lfr_core.deployments import camera_keys as apikeys
from lfr_ops import bench_env
from lfr_ops.bench_env import live_watchlist
from tests.conftest import ADMIN, OPERATOR, PASSWORD, PLANNER, free_port, make_deployment

MIRANDA = "SUBJ-lin-manuel-miranda"

APP_ARGS = {
    "detector": {"min_replicas": 1, "max_replicas": 1, "num_cpus": 0.4},  # 2+2+ingress fit 2 CPUs when prescaled
    "embedder": {"min_replicas": 1, "max_replicas": 1, "num_cpus": 0.4},
    "ingress_num_cpus": 0.25,
    "version_check_s": 1.0,
    "counters_flush_s": 1.0,
}


@pytest.fixture(scope="module")
def live(services, shared_dir, store, face_engine) -> dict:
    """A live deployment (active version, inside its window, olly.operator assigned), an idle one (ivy.operator
    assigned), and a camera key for each."""
    with connect(services) as conn:
        dep, version = live_watchlist(conn, services, store, face_engine, shared_dir)
        idle = make_deployment(conn, services, starts_in_s=3600, operator="ivy.operator")
        keys = {"camera": apikeys.create(conn, "cam-1", ADMIN, deployment_id=dep["id"]),
                "idle_camera": apikeys.create(conn, "cam-idle", ADMIN, deployment_id=idle["id"])}
        conn.commit()
    return {"deployment": dep, "version": version, "idle": idle, "keys": keys}


def sign_in(url: str, name: str, password: str = PASSWORD) -> dict[str, str]:
    """Headers of one of the tests' people, signed in through the ingress's own token route."""
    return bench_env.sign_in(url, name, password)


@pytest.fixture(scope="module")
def people(serve_url) -> dict[str, dict[str, str]]:
    """Signed-in headers by role: the live deployment's operator, the idle one's, a planner, an admin, an auditor."""
    return {"operator": sign_in(serve_url, OPERATOR.name), "idle_operator": sign_in(serve_url, "ivy.operator"),
            "planner": sign_in(serve_url, PLANNER.name), "admin": sign_in(serve_url, ADMIN.name),
            "auditor": sign_in(serve_url, "aud.auditor")}


@contextmanager
def serve_app(args: dict, *, ready_within_s: float = 60) -> Iterator[str]:
    """The Serve application on a free port of 127.0.0.1, as `lfr services up --serve` runs it; its URL once
    /healthz answers."""
    import ray
    from ray import serve

    from ray_apps.app import run
    from ray_apps.launch import use_serve_fast_path

    port = free_port()
    use_serve_fast_path()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run(args, host="127.0.0.1", port=port)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ready_within_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="module")
def serve_url(services, live) -> Iterator[str]:
    with serve_app(APP_ARGS) as url:
        yield url
