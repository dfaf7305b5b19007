"""No alert lost, none suppressed, no crop without its row: the frame pipeline storing alerts in the real
PostgreSQL and S3 while each of them is stopped and started again (no Ray: the models are scripted, as in
test_pipeline.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core import alerts
from lfr_core.db.connection import connect
from lfr_core.live.outbox import AlertOutbox
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.matcher import ExactMatcher
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.roles import SYSTEM
from lfr_core.services.postgres import EmbeddedPostgres
from lfr_core.services.s3server import EmbeddedS3
from tests.airflow.rows import insert_deployment, insert_version
from tests.live.test_pipeline import DIM, FRAME, WANTED, Fakes


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


@pytest.mark.parametrize("server", [EmbeddedS3, EmbeddedPostgres], ids=["S3 down", "PostgreSQL down"])
def test_an_alert_raised_during_an_outage_is_stored_once_when_it_ends(db, services, store, live, server):
    storage, outbox = RealStorage(services, store), AlertOutbox(8)
    pipeline = storage.pipeline(outbox)
    t0 = datetime.now(UTC)
    asyncio.run(pipeline.run(live, "cam-1", t0, FRAME))  # the first hit
    stopped = server.from_settings(services)
    assert stopped.stop()
    try:
        with pytest.raises(Exception) as held:
            asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.2), FRAME))  # the deciding hit
        assert type(held.value).__name__ == "AlertsHeld" and len(outbox) == 1
        for i in range(3):  # the person stays in view: no second decision while the first is held
            asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.4 + 0.2 * i), FRAME))
        assert len(outbox) == 1
        assert asyncio.run(outbox.drain(storage.store)) == 0  # still down: kept, and nothing half-written
    finally:
        assert stopped.start()
    [pending] = outbox.held()
    assert asyncio.run(outbox.drain(storage.store)) == 1 and len(outbox) == 0
    alert_id = held.value.outcome.alerts[0].id
    with connect(services) as conn:  # a new connection: a restarted PostgreSQL ended the test's own
        rows = conn.execute("SELECT * FROM alerts WHERE deployment_id = %s", (live.deployment["id"],)).fetchall()
        assert [r["id"] for r in rows] == [alert_id]
        audited = conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'alert.raise' AND object_id = %s",
                               (str(alert_id),)).fetchone()["n"]
        assert audited == 1
    crops = store.list_keys(services.s3.bucket_alerts, f"{live.deployment['id']}/", versions=True)
    assert [key for key, _ in crops] == [f"{live.deployment['id']}/{alert_id}.jpg"]  # one crop, one version
    # A retry of an alert already stored (a drain cut short after the commit) stores nothing twice.
    assert asyncio.run(storage.store(pending))["id"] == alert_id
    assert len(store.list_keys(services.s3.bucket_alerts, f"{live.deployment['id']}/", versions=True)) == 1
    with connect(services) as conn:
        assert conn.execute("SELECT count(*) AS n FROM alerts WHERE id = %s", (alert_id,)).fetchone()["n"] == 1
