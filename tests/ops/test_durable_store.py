"""The embedded S3 server restarted between a build and its purge, and between an alert and its
adjudication: every object is still there, and the purge and the decision go through."""

from __future__ import annotations

from datetime import UTC, datetime

from lfr_core.alerts import service as alerts
from lfr_core.alerts.service import NewAlert
from lfr_core.identity.model import SYSTEM
from lfr_core.storage.objectstore import parse_s3_uri
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.history import history
from lfr_core.workflow.purge import purge
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.conftest import ADMIN, OPERATOR
from tests.watchlist.test_new_user import _live_list


def _restart(settings) -> None:
    server = EmbeddedS3.from_settings(settings)
    assert server.stop() is True
    assert server.start() is True


def test_objects_survive_restarts_between_build_purge_alert_and_decision(db, services, store, face_engine, identities,
                                                                         stage):
    deployment, version = _live_list(db, services, store, face_engine, identities, stage, 2)
    copies = [e["image_uri"] for e in version["entries"] if e["image_uri"]]
    alert = alerts.raise_alert(db, store, services.s3.bucket_alerts, NewAlert(
        deployment["id"], version["id"], version["entries"][0]["subject_ref"], "wanted_suspect", 0.7, "cam-1", "t1",
        datetime.now(UTC), copies[0]), b"\xff\xd8probe\xff\xd9", SYSTEM)
    db.commit()

    _restart(services)  # between the alert and its adjudication
    assert store.get_uri(alert["probe_crop_uri"]) == b"\xff\xd8probe\xff\xd9"
    assert all(store.get_uri(uri) for uri in copies)
    assert store.get_uri(version["snapshot_uri"])  # the object-locked snapshot, by its version id too
    assert store.get_bytes(*parse_s3_uri(version["snapshot_uri"]), version_id=version["snapshot_version"])
    alerts.adjudicate(db, store, alert["id"], "confirmed", OPERATOR, "spoken to")
    db.commit()
    lifecycle.expire(db, str(version["id"]), OPERATOR, reason="test")
    db.commit()

    _restart(services)  # between the build and its purge
    receipt = purge(db, store, services, str(version["id"]), ADMIN, reason="window ended")
    assert receipt["deleted"]["image_objects"] == len(copies) and receipt["already_missing"] == {"image_objects": 0}
    _restart(services)
    assert store.get_uri(receipt["receipt_uri"])
    assert [h["version_id"] for h in history(db, store, version["entries"][0]["subject_ref"])
            if h.get("version_id") == str(version["id"])] == [str(version["id"])]
