"""The per-use log of EU AI Act Art 12(3) (issue 28 item 3) against the real services: derived from the audit log,
it survives alert retention (the alert and its crop are gone, the log's match and verifier are not), still
verifies against the audit log, and an edited copy or an edited audit row is found."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import service as alerts
from lfr_core.alerts.service import NewAlert
from lfr_core.audit import use_log
from lfr_core.identity.model import SYSTEM
from lfr_core.watchlist import lifecycle
from lfr_core.workflow.cancel import cancel_deployment
from lfr_core.workflow.purge import purge
from tests.conftest import ADMIN, OPERATOR, PLANNER, make_deployment
from tests.security.conftest import superuser
from tests.watchlist.test_new_user import _live_list

CROP = b"\xff\xd8use-log probe crop\xff\xd9"


@pytest.fixture()
def used(db, services, store, face_engine, identities, stage):
    """A use with one match, confirmed by the operator, then ended by expiry."""
    deployment, version = _live_list(db, services, store, face_engine, identities, stage, 2)
    entry = next(e for e in version["entries"] if e["status"] == "accepted")
    alert = alerts.raise_alert(db, store, services.s3.bucket_alerts, NewAlert(
        deployment["id"], version["id"], entry["subject_ref"], entry["category"], 0.71, "cam-1", "t1",
        datetime.now(UTC), entry["image_uri"]), CROP, SYSTEM)
    alerts.adjudicate(db, store, alert["id"], "confirmed", OPERATOR, "stopped and spoken to")
    lifecycle.expire(db, version["id"], OPERATOR, reason="window ended")
    db.commit()
    return deployment, version, alert


def test_the_use_log_survives_alert_retention_and_verifies(db, services, store, used, tmp_path):
    deployment, version, alert = used
    before = use_log.export(db, str(deployment["id"]), retention_days=services.audit.use_log_retention_days)
    assert before["verified"]["ok"]
    [use] = before["uses"]
    assert use["ended_by"] == "watchlist.expired" and use["start"] < use["end"]
    assert use["reference_database"]["version_id"] == str(version["id"])
    assert use["reference_database"]["snapshot_sha256"] == version["snapshot_sha256"]
    assert use["reference_database"]["model"]["embedder"]["weights_sha256"] == version["embedder_sha256"]
    [match] = use["matches"]
    assert (match["alert_id"], match["probe_crop_sha256"]) == (str(alert["id"]), hashlib.sha256(CROP).hexdigest())
    assert [(v["person"], v["decision"]) for v in match["verified_by"]] == [(OPERATOR.name, "confirmed")]
    assert datetime.fromisoformat(use["keep_until"]) - datetime.fromisoformat(use["end"]) >= timedelta(days=183)
    assert CROP.hex() not in json.dumps(before)  # a reference to the input, never the input

    assert store.list_keys(services.s3.bucket_alerts, f"{deployment['id']}/")  # the crop, until retention
    later = datetime.now(UTC) + timedelta(days=services.alerts.retention_days + 1)
    deleted = alerts.delete_expired(db, store, services.alerts.retention_days, SYSTEM, now=later)
    db.commit()
    assert deleted["deleted"] >= 1
    assert db.execute("SELECT count(*) AS n FROM alerts WHERE id = %s", (alert["id"],)).fetchone()["n"] == 0
    assert store.list_keys(services.s3.bucket_alerts, f"{deployment['id']}/") == []
    receipt = purge(db, store, services, version["id"], ADMIN, reason="window ended")
    db.commit()
    assert receipt["verified"]["embeddings_remaining"] == 0  # the reference database itself is gone too
    after = use_log.export(db, str(deployment["id"]), retention_days=services.audit.use_log_retention_days)
    assert after["uses"] == before["uses"] and after["verified"]["ok"]
    assert use_log.verify(db, before) == []

    from tests.watchlist.test_cli import last_json, lfr

    exported = last_json(lfr("audit", "use-log", str(deployment["id"]), "--json", actor="aud.auditor"))
    assert exported["uses"] == before["uses"] and exported["verified"]["ok"]
    (tmp_path / "kept.json").write_text(json.dumps(before))
    assert last_json(lfr("audit", "use-log", str(deployment["id"]), "--check", str(tmp_path / "kept.json"), "--json",
                         actor="aud.auditor"))["ok"] is True
    before["uses"][0]["matches"][0]["verified_by"] = []
    (tmp_path / "tampered.json").write_text(json.dumps(before))
    tampered = lfr("audit", "use-log", str(deployment["id"]), "--check", str(tmp_path / "tampered.json"),
                   actor="aud.auditor")
    assert tampered.returncode == 1 and "verified_by" in tampered.stdout


def test_a_tampered_copy_is_found(db, services, used):
    deployment, _, _ = used
    kept = use_log.export(db, str(deployment["id"]), retention_days=services.audit.use_log_retention_days)
    for change, where in [
        (lambda log: log["uses"][0]["matches"][0].update(probe_crop_sha256="0" * 64), "probe_crop_sha256"),
        (lambda log: log["uses"][0]["matches"][0]["verified_by"][0].update(person="ivy.operator"), "person"),
        (lambda log: log["uses"][0]["matches"].clear(), "matches"),
        (lambda log: log["uses"][0].update(end=None), "end"),
    ]:
        tampered = copy.deepcopy(kept)
        change(tampered)
        problems = use_log.verify(db, tampered)
        assert problems and any(where in p for p in problems), problems


def test_an_edited_audit_row_is_found(db, services, used):
    deployment, _, alert = used
    kept = use_log.export(db, str(deployment["id"]), retention_days=services.audit.use_log_retention_days)
    with superuser(services) as conn, conn.transaction():
        conn.execute("ALTER TABLE audit.audit_log DISABLE TRIGGER USER")
        conn.execute("""UPDATE audit.audit_log SET details = jsonb_set(details, '{probe_crop_sha256}', '"forged"')
                        WHERE action = 'alert.raise' AND object_id = %s""", (str(alert["id"]),))
        conn.execute("ALTER TABLE audit.audit_log ENABLE TRIGGER USER")
    try:
        problems = use_log.verify(db, kept)
        assert any("probe_crop_sha256" in p for p in problems)
        assert any(p.startswith("audit log:") and "details were edited" in p for p in problems)
    finally:
        with superuser(services) as conn, conn.transaction():
            conn.execute("ALTER TABLE audit.audit_log DISABLE TRIGGER USER")
            conn.execute("""UPDATE audit.audit_log SET details = jsonb_set(details, '{probe_crop_sha256}', %s::jsonb)
                            WHERE action = 'alert.raise' AND object_id = %s""",
                         (json.dumps(hashlib.sha256(CROP).hexdigest()), str(alert["id"])))
            conn.execute("ALTER TABLE audit.audit_log ENABLE TRIGGER USER")
    assert use_log.verify(db, kept) == []


def test_a_cancellation_before_any_use_is_logged(db, services, store):
    deployment = make_deployment(db, services)
    cancel_deployment(db, store, services, str(deployment["id"]), PLANNER, "intelligence withdrawn", take_down=False)
    db.commit()
    log = use_log.derive(db, str(deployment["id"]), retention_days=183)
    [use] = log["uses"]
    assert (use["start"], use["ended_by"], use["matches"]) == (None, "cancellation", [])
    assert use_log.verify(db, log) == []
