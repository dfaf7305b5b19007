"""An alert raised while the object store is down survives the death of the process that raised it
(issue 25 item 5). It was held in the ingress replica's memory and the camera told "held"; killing the
replica lost it (no row, no crop, no audit record) while the track's cooldown had already suppressed the
person's next frames. Now the row, the audit record and the crop are written to PostgreSQL at once, and the
crop is moved to S3 once it is back, by whichever process comes next, exactly once.

Three checks: a process running the frame pipeline is killed (SIGKILL) right after answering; the Serve
ingress replica itself is killed; and no person can read or write a held crop, except by viewing the alert
through the officers' route, which logs the consultation first."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from lfr_core.alerts import service as alerts
from lfr_core.db.connection import connect
from lfr_core.errors import Refused
from lfr_core.identity import sessions
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.conftest import PASSWORD
from tests.ray_apps import conftest as serve_fixtures

CAMERA = "cam-held"


def live_deployment(deployment_id: uuid.UUID, version_id: uuid.UUID):
    from lfr_core.live.state import LiveDeployment
    from lfr_core.matching.matcher import ExactMatcher
    from lfr_core.matching.tracker import Tracker, TrackParams
    from tests.live.test_pipeline import DIM, WANTED

    now = datetime.now(UTC)
    version = {"id": version_id, "deployment_id": deployment_id, "threshold": 0.5, "embedder_sha256": "fake",
               "embedding_dim": DIM}
    matcher = ExactMatcher(version, WANTED[None, :], [{"entry_id": 1, "subject_ref": "SUBJ-1",
                                                       "category": "wanted_by_court", "image_uri": None}])
    return LiveDeployment({"id": deployment_id, "status": "live", "window_start": now - timedelta(hours=1),
                           "window_end": now + timedelta(hours=1)}, version, matcher,
                          Tracker(TrackParams(hits_to_alert=2, cooldown_s=60)), loaded_at=0.0)


def replica(deployment_id: str, version_id: str) -> None:
    """The process that is killed: the frame pipeline with the real PostgreSQL and S3 (the models scripted),
    two frames of the listed person, then what the camera was told, then it waits to be killed."""
    from lfr_core.config import get_settings
    from lfr_core.live.pipeline import AlertsNotRaised
    from lfr_core.storage.objectstore import ObjectStore
    from tests.live.test_alert_outages import RealStorage
    from tests.live.test_pipeline import FRAME

    settings = get_settings()
    live = live_deployment(uuid.UUID(deployment_id), uuid.UUID(version_id))
    pipeline = RealStorage(settings, ObjectStore(settings)).pipeline()
    t0 = datetime.now(UTC)
    asyncio.run(pipeline.run(live, CAMERA, t0, FRAME))
    try:
        outcome = asyncio.run(pipeline.run(live, CAMERA, t0 + timedelta(seconds=0.2), FRAME))
        told = {"status": 200, "alerts": [str(a.id) for a in outcome.alerts]}
    except AlertsNotRaised as e:
        told = {"status": 503, "detail": str(e), "alerts": []}
    print(json.dumps(told), flush=True)
    time.sleep(600)


def one_alert_with_its_crop_and_audit(services, store, alert_id: str) -> dict:
    """The alert exists once, its crop is in S3 (one object, one version) with the sha256 its audit record
    names, it has one `alert.raise` record, and nothing of it is still held."""
    with connect(services) as conn:
        rows = conn.execute("SELECT * FROM alerts WHERE id = %s", (alert_id,)).fetchall()
        logged = conn.execute("SELECT action, details FROM audit_log WHERE object_id = %s AND action = 'alert.raise'",
                              (alert_id,)).fetchall()
        held = conn.execute("SELECT count(*) AS n FROM held_alert_crops WHERE alert_id = %s", (alert_id,)).fetchone()
    assert len(rows) == 1, rows
    assert len(logged) == 1, logged
    assert held["n"] == 0
    row = rows[0]
    bucket = services.s3.bucket_alerts
    assert row["probe_crop_uri"] == f"s3://{bucket}/{row['deployment_id']}/{alert_id}.jpg"
    assert len(store.list_keys(bucket, f"{row['deployment_id']}/{alert_id}", versions=True)) == 1
    crop = store.get_uri(row["probe_crop_uri"])
    assert crop[:2] == b"\xff\xd8" and hashlib.sha256(crop).hexdigest() == logged[0]["details"]["probe_crop_sha256"]
    return row


def test_an_alert_raised_with_s3_down_survives_the_process_that_raised_it_being_killed(db, services, store):
    from tests.rows import insert_deployment, insert_version

    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1),
                            status="live")
    version = insert_version(db, dep, state="active", accepted=1)
    db.commit()
    s3 = EmbeddedS3.from_settings(services)
    assert s3.stop()
    child = subprocess.Popen(
        [sys.executable, "-c", (f"from tests.security.test_held_alert_survives import replica; "
                                f"replica({str(dep)!r}, {str(version)!r})")],
        stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        told = json.loads(child.stdout.readline() or "{}")
        # The camera was told of an alert; the process that raised it dies before S3 is back.
        assert told.get("status") == 200 and len(told["alerts"]) == 1, told
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        assert s3.start()
    [alert_id] = told["alerts"]
    with connect(services) as conn:  # the next process to come (any ingress replica) moves the crop, once
        assert alerts.move_held_crops(conn, store, SYSTEM) >= 1
        assert alerts.move_held_crops(conn, store, SYSTEM) == 0
    row = one_alert_with_its_crop_and_audit(services, store, alert_id)
    assert row["deployment_id"] == dep and row["camera_id"] == CAMERA


def person(services, name: str) -> psycopg.Connection:
    return psycopg.connect(sessions.person_dsn(services, name, PASSWORD), row_factory=dict_row)


def test_no_person_can_read_or_write_a_held_crop(db, services, store):
    """Held crops are read and written by the live service only: not by a person's own login (psql), nor by
    the service acting as a person; an operator sees one only through the officers' route (audited)."""
    from lfr_core.live.alert_storage import PendingAlert
    from tests.live.test_alert_outages import RealStorage
    from tests.rows import insert_deployment, insert_version

    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1),
                            status="live")
    version = insert_version(db, dep, state="active", accepted=1)
    db.commit()
    pending = PendingAlert(uuid.uuid4(), alerts.NewAlert(
        deployment_id=dep, version_id=version, subject_ref="SUBJ-1", category="wanted_by_court", score=0.9,
        camera_id=CAMERA, track_id=f"{CAMERA}:1", captured_at=now, watchlist_image_uri=None), b"\xff\xd8held\xff\xd9")
    s3 = EmbeddedS3.from_settings(services)
    assert s3.stop()
    try:
        asyncio.run(RealStorage(services, store).store(pending))
    finally:
        assert s3.start()
    alert_id = str(pending.alert_id)
    for name, role in (("olly.operator", "operator"), ("ada.admin", "admin"), ("aud.auditor", "auditor"),
                       ("pat.planner", "planner")):
        for statement in ("SELECT crop FROM held_alert_crops", "DELETE FROM held_alert_crops",
                          "UPDATE held_alert_crops SET crop = 'x'",
                          (f"INSERT INTO held_alert_crops (alert_id, crop, crop_sha256) VALUES ('{alert_id}', 'x', "
                           f"'{'0' * 64}')")):
            with person(services, name) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            with (connect(services) as conn, pytest.raises((psycopg.errors.InsufficientPrivilege, Refused)),
                  acting(conn, Actor(name, role))):
                conn.execute(statement)
    with connect(services) as conn:  # the service itself may not rewrite a held crop, only move it
        with pytest.raises(Refused, match="never changes"), acting(conn, SYSTEM):
            conn.execute("UPDATE held_alert_crops SET crop = 'x' WHERE alert_id = %s", (alert_id,))
        assert alerts.held_crop(conn, alert_id) == pending.probe_crop_jpeg
        assert alerts.move_held_crops(conn, store, SYSTEM) >= 1
        assert alerts.held_crop(conn, alert_id) is None
    one_alert_with_its_crop_and_audit(services, store, alert_id)


# -- the Serve ingress replica killed while an alert's crop is held ---------------------------------------------

# The Serve fixtures (tests/ray_apps/conftest.py), for this module's own application.
live, people, serve_url = serve_fixtures.live, serve_fixtures.people, serve_fixtures.serve_url

WHY = {"reason": "checking the match before engaging"}


def ingress_replicas() -> list[dict]:
    import ray

    return [a for a in ray.util.list_named_actors(all_namespaces=True) if "Ingress" in a["name"]]


@pytest.mark.slow
def test_the_ingress_replica_killed_while_an_alerts_crop_is_held_loses_nothing(serve_url, live, people, services,
                                                                               store, shared_dir):
    import ray

    from tests.ray_apps.test_live_serve import post, video_frames

    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    frames = video_frames(shared_dir)
    start = datetime.now(UTC)
    r = post(serve_url, dep, key, frames[0][1], camera=CAMERA, when=start)  # the list is loaded with S3 up
    assert r.status_code == 200, r.text
    s3 = EmbeddedS3.from_settings(services)
    assert s3.stop()
    try:
        told, replica_id = [], None
        for offset, jpeg in frames[1:]:
            r = post(serve_url, dep, key, jpeg, camera=CAMERA, when=start + timedelta(seconds=offset))
            assert r.status_code == 200, r.text  # the frames are answered, alerts and all, with S3 down
            if r.json()["alerts"]:
                told, replica_id = r.json()["alerts"], r.headers["x-lfr-replica"]
                break
        assert len(told) == 1, "Lin-Manuel Miranda is in the clip: expected an alert while S3 is down"
        alert_id = told[0]["id"]
        with connect(services) as conn:
            held = alerts.held_crop(conn, alert_id)
        assert held is not None and held[:2] == b"\xff\xd8"
        # The officer sees the alert and its crop while S3 is down, the consultation logged first.
        probe = httpx.get(f"{serve_url}/v1/alerts/{alert_id}/probe", params=WHY, headers=people["operator"],
                          timeout=30)
        assert probe.status_code == 200 and probe.content == held
        with connect(services) as conn:
            consulted = conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'consulted.probe_crop' "
                                     "AND object_id = %s", (alert_id,)).fetchone()["n"]
        assert consulted == 1
        # The replica that raised it dies before S3 is back.
        [actor] = [a for a in ingress_replicas() if replica_id in a["name"]]
        ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]), no_restart=True)
    finally:
        assert s3.start()
    # Its replacement moves the crop at its start, with no frame sent to it.
    deadline = time.monotonic() + 120
    with connect(services) as conn:
        while alerts.held_crop(conn, alert_id) is not None and time.monotonic() < deadline:
            conn.rollback()
            time.sleep(1)
    row = one_alert_with_its_crop_and_audit(services, store, alert_id)
    assert row["camera_id"] == CAMERA and row["subject_ref"] == told[0]["subject_ref"]
    assert store.get_uri(row["probe_crop_uri"]) == held
    with connect(services) as conn:
        n = conn.execute("SELECT count(*) AS n FROM alerts WHERE deployment_id = %s AND camera_id = %s",
                         (dep, CAMERA)).fetchone()["n"]
    assert n == 1
