"""One Ray node (2 CPUs, no dashboard) and one Serve application per test module, on a free port, with a
live deployment whose sealed watchlist holds Lin-Manuel Miranda and five other people."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lfr_core.db.connection import connect
from lfr_core.deployments import camera_keys as apikeys
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_ops.demo.data import labelled_faces, stage_custody_manifest
from tests.conftest import ADMIN, AUTHORISER, OPERATOR, PASSWORD, PLANNER, free_port, make_deployment, wait_until

MIRANDA = "SUBJ-lin-manuel-miranda"

APP_ARGS = {
    "detector": {"min_replicas": 1, "max_replicas": 1, "num_cpus": 0.4},  # 2+2+ingress fit 2 CPUs when prescaled
    "embedder": {"min_replicas": 1, "max_replicas": 1, "num_cpus": 0.4},
    "ingress_num_cpus": 0.25,
    "version_check_s": 1.0,
    "counters_flush_s": 1.0,
}


def metric_total(url: str, name: str, admin: dict[str, str]) -> float:
    """Sum of a Prometheus counter over its labels, read from the ingress's /metrics (an admin's headers)."""
    response = httpx.get(f"{url}/metrics", headers=admin, timeout=10)
    response.raise_for_status()
    text = response.text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def watchlist_rows(settings, shared_dir: Path) -> list[dict[str, str]]:
    rows = [{"subject_ref": MIRANDA, "category": "wanted_suspect", "rationale": "wanted on warrant W-1",
             "provenance": "CUSTODY-0001", "capture_date": "2025-06-01",
             "path": str(shared_dir / "data" / "faces" / "ageitgey" / "lin-manuel-miranda.png")}]
    others = labelled_faces(settings, ("deepface",))
    for i, (name, images) in enumerate(list(others.items())[:5]):
        rows.append({"subject_ref": f"SUBJ-{name}", "category": "wanted_suspect", "rationale": "wanted on warrant W-2",
                     "provenance": f"CUSTODY-{i + 2:04d}", "capture_date": "2025-06-01", "path": str(images[0].path)})
    return rows


def live_watchlist(conn, settings, store, engine, shared_dir: Path) -> tuple[dict, dict]:
    """A deployment whose window opens within seconds, with the six-person list (Miranda and five others)
    built, approved and, once the window is open, active."""
    dep = make_deployment(conn, settings, starts_in_s=3)
    manifest = stage_custody_manifest(store, settings, watchlist_rows(settings, shared_dir), f"serve-{time.time_ns()}")
    version = build_version(conn, store, engine, settings, deployment_id=str(dep["id"]), manifest_uri=manifest,
                            actor=PLANNER)
    lifecycle.approve(conn, str(version["id"]), AUTHORISER)
    wait_until(dep["window_start"])
    lifecycle.activate(conn, str(version["id"]), OPERATOR)
    return dep, version


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
    """Headers of a person signed in through the ingress's own token route."""
    response = httpx.post(f"{url}/v1/auth/token", data={"username": name, "password": password}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


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
