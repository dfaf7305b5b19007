"""The expiry sweep and alert retention against real database rows and S3 objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.workflow import sweeps
from tests.rows import insert_alert, insert_deployment, insert_version


def _audit(conn, version_id):
    return conn.execute("SELECT action, details FROM audit_log WHERE object_id = %s ORDER BY seq",
                        (str(version_id),)).fetchall()


def test_sweep_deactivates_a_list_active_outside_its_window_and_purges_once_the_window_ended(db, services):
    now = datetime.now(UTC)
    ended_just_now = insert_deployment(db, window_start=now - timedelta(hours=2), window_end=now - timedelta(minutes=1),
                                       status="live")
    not_started = insert_deployment(db, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2))
    long_over = insert_deployment(db, window_start=now - timedelta(days=2), window_end=now - timedelta(days=1))
    approved_over = insert_deployment(db, window_start=now - timedelta(days=2), window_end=now - timedelta(days=1))
    in_window = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1))
    active_late = insert_version(db, ended_just_now, state="active", accepted=2, activated_at=now - timedelta(hours=2))
    active_early = insert_version(db, not_started, state="active", accepted=1, activated_at=now)
    expired_old = insert_version(db, long_over, state="expired", accepted=2)
    approved_old = insert_version(db, approved_over, state="approved", accepted=1)
    active_ok = insert_version(db, in_window, state="active", accepted=1, activated_at=now)
    db.commit()

    result = sweeps.sweep_watchlists(db, ObjectStore(services), services, now=now)

    assert {str(active_late), str(active_early)} <= set(result["deactivated"])
    assert {str(expired_old), str(approved_old), str(active_late)} <= set(result["purged"]), \
        "purged within a minute of the window's end (no grace by default)"
    assert str(active_ok) not in result["purged"] and str(active_early) not in result["purged"]
    assert lifecycle.get_version(db, active_late)["state"] == "purged"
    assert lifecycle.get_version(db, active_early)["state"] == "expired"
    assert lifecycle.get_version(db, active_ok)["state"] == "active"
    for version_id in (expired_old, approved_old):
        version = lifecycle.get_version(db, version_id)
        assert version["state"] == "purged"
        assert version["purge_receipt"]["receipt_uri"].startswith("s3://")
    expired_row = next(r for r in _audit(db, active_late) if r["action"] == "watchlist.expired")
    assert expired_row["details"]["reason"] == "found active outside its window"
    deployment = db.execute("SELECT status FROM deployments WHERE id = %s", (ended_just_now,)).fetchone()
    assert deployment["status"] == "closed"
    db.rollback()

    again = sweeps.sweep_watchlists(db, ObjectStore(services), services, now=now)
    assert not ({str(active_late), str(expired_old)} & set(again["deactivated"] + again["purged"]))


def _past_deployment(db, services):
    """Now, a deployment of two months ago with its expired version, and a time past alert retention."""
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(days=60), window_end=now - timedelta(days=59))
    version = insert_version(db, deployment, state="expired", accepted=1)
    return now, deployment, version, now - timedelta(days=services.alerts.retention_days + 5)


def test_retention_deletes_old_alerts_and_keeps_those_on_legal_hold(db, services):
    store = ObjectStore(services)
    now, deployment, version, old = _past_deployment(db, services)
    crop = store.put_bytes(services.s3.bucket_alerts, f"{deployment}/old.jpg", b"crop", "image/jpeg")
    doomed = insert_alert(db, deployment, version, status="declined", raised_at=old, probe_crop_uri=crop.uri)
    held = insert_alert(db, deployment, version, status="confirmed", raised_at=old, legal_hold=True)
    recent = insert_alert(db, deployment, version, status="pending", raised_at=now - timedelta(days=1))
    db.commit()

    result = sweeps.apply_alert_retention(db, store, services, now=now)

    remaining = {r["id"] for r in db.execute("SELECT id FROM alerts WHERE deployment_id = %s", (deployment,)).fetchall()}
    assert doomed not in remaining and {held, recent} <= remaining
    assert result["deleted"] >= 1 and result["kept_on_hold"] >= 1 and result["crops_deleted"] >= 1
    assert store.list_keys(services.s3.bucket_alerts, f"{deployment}/", versions=True) == []


def test_legal_hold_from_the_cli_keeps_an_alert_through_retention_until_released(db, services):
    from tests.watchlist.test_cli import last_json, lfr

    store = ObjectStore(services)
    now, deployment, version, old = _past_deployment(db, services)
    alert = insert_alert(db, deployment, version, status="confirmed", raised_at=old)
    db.commit()

    no_reason = lfr("alert", "hold", str(alert), "--reason", " ", actor="ada.admin")
    assert no_reason.returncode == 2 and "needs a reason" in no_reason.stderr + no_reason.stdout
    held = last_json(lfr("alert", "hold", str(alert), "--reason", "CPS request 1142", "--json", actor="ada.admin"))
    assert held["legal_hold"] is True
    sweeps.apply_alert_retention(db, store, services, now=now)
    db.commit()  # the sweep's audit row (and its lock on the chain) before the next command appends
    assert db.execute("SELECT 1 FROM alerts WHERE id = %s", (alert,)).fetchone() is not None

    released = last_json(lfr("alert", "release", str(alert), "--reason", "case closed", "--json", actor="ada.admin"))
    assert released["legal_hold"] is False
    sweeps.apply_alert_retention(db, store, services, now=now)
    db.commit()
    assert db.execute("SELECT 1 FROM alerts WHERE id = %s", (alert,)).fetchone() is None
    trail = db.execute("SELECT action, actor, details FROM audit_log WHERE object_id = %s ORDER BY seq",
                       (str(alert),)).fetchall()
    assert [(r["action"], r["actor"], r["details"]["reason"]) for r in trail] == [
        ("alert.hold", "ada.admin", "CPS request 1142"), ("alert.release", "ada.admin", "case closed")]
    unknown = lfr("alert", "hold", "00000000-0000-0000-0000-000000000000", "--reason", "x", actor="ada.admin")
    assert unknown.returncode == 2 and "00000000-0000-0000-0000-000000000000" in unknown.stderr + unknown.stdout
