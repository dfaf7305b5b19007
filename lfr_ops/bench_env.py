"""What a benchmark needs to run beside others: free ports and a private LFR_HOME for its own PostgreSQL
and S3 server, the people it plans and purges as, and a deployment to build for. The tests use the same
helpers (tests/conftest.py); benches import this module, never test code."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lfr_core.identity.model import Actor

PLANNER = Actor("pat.planner", "planner")
AUTHORISER = Actor("ann.authoriser", "authoriser")
OPERATOR = Actor("olly.operator", "operator")
ADMIN = Actor("ada.admin", "admin")
BENCH_PEOPLE = {actor.name: [actor.role] for actor in (PLANNER, AUTHORISER, OPERATOR, ADMIN)}
BENCH_PASSWORD = "bench-password-not-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_service_env(home: Path) -> dict[str, str]:
    """LFR_HOME and free ports for a private PostgreSQL and S3 server (tests and benches run beside others)."""
    return {"LFR_HOME": str(home), "LFR_DB__PORT": str(free_port()), "LFR_S3__ENDPOINT": f"127.0.0.1:{free_port()}"}


def add_people(settings, people: dict[str, list[str]] | None = None, password: str = BENCH_PASSWORD) -> None:
    """People added by the database administrator (as `lfr person add --bootstrap` does); the bench's by default."""
    import psycopg
    from psycopg.rows import dict_row

    from lfr_core.db.connection import admin_dsn
    from lfr_core.identity import people as people_mod

    dsn = admin_dsn(settings)
    if dsn is None:
        raise RuntimeError("no database administrator's credentials here (LFR_DB__ADMIN_DSN, or the embedded server's)")
    conn: Any
    with psycopg.connect(dsn, row_factory=dict_row) as conn:  # dict rows, as lfr_core.db.connection.connect gives
        known = {p["name"] for p in people_mod.list_people(conn)}
        for name, roles in (people or BENCH_PEOPLE).items():
            if name not in known:
                people_mod.add(conn, name, roles, password)


def make_deployment(conn, settings, *, starts_in_s: float = 3600, length_s: float = 3600, categories=None,
                    operator: str = OPERATOR.name, planner: Actor = PLANNER, use_case: str = "sought_persons",
                    authorising_officer: str = AUTHORISER.name):
    """A deployment planned by `planner` with `operator` assigned, its window `starts_in_s` from now, under the
    default policy pack (uk-app) with its DPIA and EIA referenced."""
    from lfr_core.deployments import service as deployments

    now = datetime.now(UTC)
    data = {
        "place": "Queen Street, Cardiff", "purpose": "locate people wanted on warrant",
        "legal_basis": "common law policing powers; force LFR policy v3", "intelligence_ref": "INT-2026-0042",
        "window_start": now + timedelta(seconds=starts_in_s),
        "window_end": now + timedelta(seconds=starts_in_s + length_s),
        "authorising_officer": authorising_officer, "threshold": settings.match.threshold,
        "use_case": use_case, "dpia_ref": "DPIA-2026-007", "eia_ref": "EIA-2026-007",
        "location_rationale": "intelligence places people wanted on warrant in Queen Street on market days",
    }
    if categories:
        data["allowed_categories"] = categories
    dep = deployments.create(conn, deployments.validate_spec(data, settings), planner, settings)
    deployments.assign(conn, dep["id"], operator, "operator", planner)
    return dep


def wait_until(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def watchlist_rows(settings, shared_dir: Path) -> list[dict[str, str]]:
    """Lin-Manuel Miranda (who walks through the Hamilton clip) and five other people from the shared faces."""
    from lfr_ops.demo.data import labelled_faces

    rows = [{"subject_ref": "SUBJ-lin-manuel-miranda", "category": "wanted_suspect", "rationale": "wanted on warrant W-1",
             "provenance": "CUSTODY-0001", "capture_date": "2025-06-01",
             "legal_basis": "PACE 1984 s.64A (custody image)", "age_band": "18_plus",
             "path": str(shared_dir / "data" / "faces" / "ageitgey" / "lin-manuel-miranda.png")}]
    others = labelled_faces(settings, ("deepface",))
    for i, (name, images) in enumerate(list(others.items())[:5]):
        rows.append({"subject_ref": f"SUBJ-{name}", "category": "wanted_suspect", "rationale": "wanted on warrant W-2",
                     "provenance": f"CUSTODY-{i + 2:04d}", "capture_date": "2025-06-01",
                     "legal_basis": "PACE 1984 s.64A (custody image)", "age_band": "18_plus",
                     "path": str(images[0].path)})
    return rows


def live_watchlist(conn, settings, store, engine, shared_dir: Path) -> tuple[dict, dict]:
    """A deployment whose window opens within seconds, with the six-person list built from its own staging
    folder, approved and, once the window is open, active."""
    from lfr_core.watchlist import lifecycle
    from lfr_core.watchlist.build import build_version
    from lfr_ops.demo.data import stage_custody_manifest

    dep = make_deployment(conn, settings, starts_in_s=3)
    manifest = stage_custody_manifest(store, settings, watchlist_rows(settings, shared_dir), f"bench-{time.time_ns()}")
    version = build_version(conn, store, engine, settings, deployment_id=str(dep["id"]), manifest_uri=manifest,
                            actor=PLANNER)
    # A bench measures speed, not accuracy, and its list is sealed whether or not a calibration of the model
    # resolves it (issue 32 item 5): the authoriser says so, as any deployment would have to.
    lifecycle.approve(conn, str(version["id"]), AUTHORISER,
                      evidence_override="bench list: it measures throughput and latency, not false alerts")
    wait_until(dep["window_start"])
    lifecycle.activate(conn, str(version["id"]), OPERATOR)
    return dep, version


def sign_in(url: str, name: str, password: str = BENCH_PASSWORD) -> dict[str, str]:
    """Headers of a person signed in through the ingress's own token route."""
    import httpx

    response = httpx.post(f"{url}/v1/auth/token", data={"username": name, "password": password}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def metric_total(url: str, name: str, admin: dict[str, str]) -> float:
    """Sum of a Prometheus counter over its labels, read from the ingress's /metrics (an admin's headers)."""
    import httpx

    response = httpx.get(f"{url}/metrics", headers=admin, timeout=10)
    response.raise_for_status()
    return sum(float(line.rsplit(" ", 1)[1]) for line in response.text.splitlines()
               if line.startswith(name) and not line.startswith("#"))
