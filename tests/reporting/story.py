"""A closed deployment with a known story (issue 28): nine alerts decided through the platform's own functions, one
for each way a decision can end, so the four counts, three outcomes and the grid's arithmetic are known by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lfr_core.alerts import service as alerts
from lfr_core.alerts.model import FaceBands
from lfr_core.deployments import service as deployments
from lfr_core.identity.model import SYSTEM
from lfr_core.identity.roles import acting
from ray_apps.ingress import public
from ray_apps.ingress.context import context
from tests.conftest import OPERATOR, add_people
from tests.rows import insert_deployment, insert_version

# (viability, result, outcome) per alert; a result from before migration 0025 ("arrested") stands for both.
DECISIONS: tuple[tuple[str, str | None, str | None], ...] = (
    ("declined", None, None),  # false alert, unconfirmed
    ("confirmed", "subject", "arrest"),  # true alert, confirmed
    ("confirmed", "subject", "other"),
    ("confirmed", "subject", "no_action"),
    ("confirmed", "someone_else", "no_action"),  # false alert, confirmed
    ("confirmed", "someone_else", "other"),
    ("confirmed", "evaded", None),  # true alert, unconfirmed
    ("not_engaged", None, None),  # viable, officers decided not to engage: true alert, unconfirmed
    ("confirmed", "arrested", None),  # the old name: subject, arrest
)
# By hand: 4 true confirmed (1, 2, 3, 8), 2 true unconfirmed (6, 7), 2 false confirmed (4, 5), 1 false unconfirmed (0);
# arrests 2 (1, 8), other 2 (2, 5), no action 2 (3, 4).
COUNTS = {"true_confirmed": 4, "true_unconfirmed": 2, "false_confirmed": 2, "false_unconfirmed": 1}
OUTCOMES = {"arrest": 2, "other": 2, "no_action": 2}
FACES = 36_360  # 3 false alerts: 1 in 12,120 = 0.008%, as the Met writes it
RECOGNISABLE = 30_000  # of FACES, seen at least the reliable size wide (issue 32 item 4)


def scripted_deployment(conn, settings, store, place: str, decisions=DECISIONS, *, faces: int = FACES) -> tuple[str, list[str]]:
    """The deployment (its window ended an hour ago, closed) and its alerts' ids in the order of `decisions`."""
    add_people(settings)
    now = datetime.now(UTC)
    dep = insert_deployment(conn, window_start=now - timedelta(hours=2), window_end=now - timedelta(hours=1),
                            status="live", place=place)
    version = insert_version(conn, dep, state="expired", accepted=5, activated_at=now - timedelta(hours=2))
    deployments.assign(conn, dep, OPERATOR.name, "operator", SYSTEM)
    ids = []
    for i, (viability, result, outcome) in enumerate(decisions):
        alert = alerts.raise_alert(conn, store, settings.s3.bucket_alerts, alerts.NewAlert(
            deployment_id=dep, version_id=version, subject_ref=f"STORY-{i}", category="wanted_by_court", score=0.6,
            camera_id="cam-1", track_id=f"t{i}", captured_at=now - timedelta(minutes=90), watchlist_image_uri=None),
            b"\xff\xd8 not a real crop", SYSTEM)
        ids.append(str(alert["id"]))
        if viability != "pending":
            alerts.adjudicate(conn, store, alert["id"], viability, OPERATOR, f"decision {i}")
        if result is not None:
            alerts.record_engagement(conn, alert["id"], result, OPERATOR, f"result {i}", disposal=outcome)
    bands = FaceBands(refused_small=1_000, below_reliable=faces - RECOGNISABLE - 1_000, reliable=RECOGNISABLE)
    alerts.record_counts(conn, dep, "cam-1", frames=500, faces_seen=faces, bands=bands, reliable_face_px=32)
    with acting(conn, SYSTEM):
        deployments.set_status(conn, dep, "closed", SYSTEM, "window over")
    return str(dep), ids


def public_client(db: Any, settings: Any) -> TestClient:
    """The ingress's public routes over this test's database connection."""

    async def on_db(fn, *args):
        return fn(db, *args)

    app = FastAPI()
    app.include_router(public.router)
    app.dependency_overrides[context] = lambda: SimpleNamespace(settings=settings, db=on_db)
    return TestClient(app)
