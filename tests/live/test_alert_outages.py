"""No alert lost, none suppressed, no crop without its row: the frame pipeline storing alerts in the real
PostgreSQL and S3 while each of them is stopped and started again (no Ray: the models are scripted, as in
test_pipeline.py). S3 down: the alert is stored at once with its crop held in PostgreSQL, and moved to S3
once it is back. PostgreSQL down: nothing is stored or held, and the track decides again once it is back."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import service as alerts
from lfr_core.db.connection import connect
from lfr_core.identity.model import SYSTEM
from lfr_core.live.pipeline import AlertsNotRaised
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.matcher import ExactMatcher
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.storage.objectstore import ObjectStoreUnavailable
from lfr_ops.local_stack.postgres import EmbeddedPostgres
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.live.test_pipeline import DIM, FRAME, WANTED, Fakes
from tests.rows import insert_deployment, insert_version


@pytest.fixture()
def live(db, services) -> LiveDeployment:
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1),
                            status="live")
    version = {"id": insert_version(db, dep, state="active", accepted=1), "deployment_id": dep, "threshold": 0.5,
               "embedder_sha256": "fake", "embedding_dim": DIM}
    matcher = ExactMatcher(version, WANTED[None, :], [{"entry_id": 1, "subject_ref": "SUBJ-1",
                                                       "category": "wanted_by_court", "image_uri": None}])
    return LiveDeployment({"id": dep, "status": "live", "window_start": now - timedelta(hours=1),
                           "window_end": now + timedelta(hours=1)}, version, matcher,
                          Tracker(TrackParams(hits_to_alert=2, cooldown_s=60)), loaded_at=0.0)


class RealStorage(Fakes):
    def __init__(self, settings, store) -> None:
        super().__init__()
        self.settings, self.store_ = settings, store

    async def store(self, pending) -> dict:
        def write():
            with connect(self.settings) as conn:
                return alerts.raise_alert(conn, self.store_, self.settings.s3.bucket_alerts, pending.alert,
                                          pending.probe_crop_jpeg, SYSTEM, alert_id=pending.alert_id)
        return await asyncio.to_thread(write)


def raised(services, alert_id) -> tuple[list, list]:
    """The alert's rows and its audit records, read on a new connection (a restarted PostgreSQL ended the
    test's own)."""
    with connect(services) as conn:
        rows = conn.execute("SELECT * FROM alerts WHERE id = %s", (alert_id,)).fetchall()
        logged = conn.execute("SELECT action, details FROM audit_log WHERE object_id = %s ORDER BY seq",
                              (str(alert_id),)).fetchall()
    return rows, logged


def held_crops(services, alert_id) -> int:
    with connect(services) as conn:
        return conn.execute("SELECT count(*) AS n FROM held_alert_crops WHERE alert_id = %s",
                            (alert_id,)).fetchone()["n"]


def move_held(services, store) -> int:
    with connect(services) as conn:
        return alerts.move_held_crops(conn, store, SYSTEM)


def test_with_s3_down_an_alert_is_stored_at_once_and_its_crop_moved_to_s3_once_when_it_is_back(db, services, store,
                                                                                                live):
    storage = RealStorage(services, store)
    pipeline = storage.pipeline()
    t0 = datetime.now(UTC)
    asyncio.run(pipeline.run(live, "cam-1", t0, FRAME))  # the first hit
    s3 = EmbeddedS3.from_settings(services)
    assert s3.stop()
    try:
        outcome = asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.2), FRAME))  # the deciding hit
        [alert] = outcome.alerts  # raised: the camera is told so, and it is stored
        rows, logged = raised(services, alert.id)
        bucket, dep = services.s3.bucket_alerts, live.deployment["id"]
        assert [r["probe_crop_uri"] for r in rows] == [f"s3://{bucket}/{dep}/{alert.id}.jpg"]
        assert [r["action"] for r in logged] == ["alert.raise"]
        assert logged[0]["details"]["probe_crop_held"] == "object store unavailable"
        assert held_crops(services, alert.id) == 1
        for i in range(3):  # the person stays in view: stored, so the cooldown rightly holds
            assert not asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.4 + 0.2 * i), FRAME)).alerts
        with pytest.raises(ObjectStoreUnavailable):
            move_held(services, store)  # still down: the crop stays held
        assert held_crops(services, alert.id) == 1
    finally:
        assert s3.start()
    assert move_held(services, store) >= 1 and held_crops(services, alert.id) == 0
    assert move_held(services, store) == 0  # moved once
    rows, logged = raised(services, alert.id)
    assert len(rows) == 1 and [r["action"] for r in logged] == ["alert.raise", "alert.crop_moved"]
    crops = store.list_keys(services.s3.bucket_alerts, f"{live.deployment['id']}/", versions=True)
    assert [key for key, _ in crops] == [f"{live.deployment['id']}/{alert.id}.jpg"]  # one crop, one version
    crop = store.get_uri(rows[0]["probe_crop_uri"])
    assert hashlib.sha256(crop).hexdigest() == logged[0]["details"]["probe_crop_sha256"]
    assert logged[1]["details"]["probe_crop_sha256"] == logged[0]["details"]["probe_crop_sha256"]
    with connect(services) as conn:  # the alert log counts it once
        n = conn.execute("SELECT count(*) AS n FROM alerts WHERE deployment_id = %s",
                         (live.deployment["id"],)).fetchone()["n"]
    assert n == 1


def test_with_postgresql_down_nothing_is_stored_or_held_and_the_track_decides_again(db, services, store, live):
    storage = RealStorage(services, store)
    pipeline = storage.pipeline()
    t0 = datetime.now(UTC)
    asyncio.run(pipeline.run(live, "cam-1", t0, FRAME))  # the first hit
    postgres = EmbeddedPostgres.from_settings(services)
    assert postgres.stop()
    try:
        for i in range(2):  # the deciding hit, then the person still in view: never said to be held
            with pytest.raises(AlertsNotRaised, match="not raised"):
                asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.2 + 0.2 * i), FRAME))
        # No crop without its row: nothing reached S3 either.
        assert store.list_keys(services.s3.bucket_alerts, f"{live.deployment['id']}/", versions=True) == []
    finally:
        assert postgres.start()
    later = [asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.6 + 0.2 * i), FRAME)) for i in range(3)]
    assert [len(o.alerts) for o in later] == [1, 0, 0]  # decided again once it could be stored, and once only
    alert_id = later[0].alerts[0].id
    with connect(services) as conn:
        rows = conn.execute("SELECT id FROM alerts WHERE deployment_id = %s", (live.deployment["id"],)).fetchall()
    assert [r["id"] for r in rows] == [alert_id]
    assert [r["action"] for r in raised(services, alert_id)[1]] == ["alert.raise"]
    crops = store.list_keys(services.s3.bucket_alerts, f"{live.deployment['id']}/", versions=True)
    assert [key for key, _ in crops] == [f"{live.deployment['id']}/{alert_id}.jpg"]


def test_a_retry_of_an_alert_already_stored_stores_nothing_twice(db, services, store, live):
    """A store cut short after its commit (the connection lost before the answer) is retried with the same
    id: one row, one crop, one audit record, whether the crop went to S3 or was held."""
    from lfr_core.live.alert_storage import PendingAlert

    storage = RealStorage(services, store)
    t0 = datetime.now(UTC)
    pending = PendingAlert(uuid.uuid4(), alerts.NewAlert(
        deployment_id=live.deployment["id"], version_id=live.version["id"], subject_ref="SUBJ-1",
        category="wanted_by_court", score=0.9, camera_id="cam-9", track_id="cam-9:1", captured_at=t0,
        watchlist_image_uri=None), b"\xff\xd8probe\xff\xd9")
    s3 = EmbeddedS3.from_settings(services)
    assert s3.stop()
    try:
        first = asyncio.run(storage.store(pending))
        assert asyncio.run(storage.store(pending))["id"] == first["id"] == pending.alert_id
    finally:
        assert s3.start()
    assert asyncio.run(storage.store(pending))["id"] == pending.alert_id  # S3 back: still the held one
    assert held_crops(services, pending.alert_id) == 1
    assert move_held(services, store) >= 1
    rows, logged = raised(services, pending.alert_id)
    assert len(rows) == 1 and [r["action"] for r in logged] == ["alert.raise", "alert.crop_moved"]
    assert store.get_uri(rows[0]["probe_crop_uri"]) == pending.probe_crop_jpeg
