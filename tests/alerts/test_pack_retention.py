"""The policy pack's retention (issue 28 item 2's brief): alerts are deleted after their deployment's pack's
`retention.alerts_days` and the per-use log is kept for its `retention.use_log_days`; the settings
(alerts.retention_days, audit.use_log_retention_days) stay the fallback for a deployment planned before packs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lfr_core.alerts import service as alerts
from lfr_core.deployments import policy_store
from lfr_core.identity.model import SYSTEM
from tests.rows import _write, insert_deployment, insert_version

CROP = b"\xff\xd8 retention probe crop"


def a_deployment_with_alert(db, settings, store, place: str, *, pack: bool) -> tuple[str, str]:
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1),
                            status="live", place=place)
    if pack:  # uk-app v2: alerts kept 31 days, the per-use log 183
        _write("UPDATE deployments SET policy_name = 'uk-app', policy_version = 2, use_case = 'sought_persons', "
               "location_rationale = 'wanted people are seen here' WHERE id = %s", (dep,))
    version = insert_version(db, dep, state="active", accepted=1, activated_at=now - timedelta(hours=1))
    alert = alerts.raise_alert(db, store, settings.s3.bucket_alerts, alerts.NewAlert(
        deployment_id=dep, version_id=version, subject_ref="RET-1", category="wanted_by_court", score=0.6,
        camera_id="cam-1", track_id="t", captured_at=now, watchlist_image_uri=None), CROP, SYSTEM)
    return str(dep), str(alert["id"])


def stored(db, alert_id: str) -> bool:
    return db.execute("SELECT count(*) AS n FROM alerts WHERE id = %s", (alert_id,)).fetchone()["n"] == 1


def test_alerts_are_deleted_after_their_packs_retention_the_setting_for_one_without(db, services, store):
    pack_dep, under_pack = a_deployment_with_alert(db, services, store, "Pack Retention Street", pack=True)
    _, without = a_deployment_with_alert(db, services, store, "No Pack Retention Street", pack=False)
    db.commit()
    # A fallback of 60 days, 40 days on: past the pack's 31, not past the setting's 60.
    deleted = alerts.delete_expired(db, store, 60, SYSTEM, now=datetime.now(UTC) + timedelta(days=40))
    db.commit()
    assert not stored(db, under_pack) and stored(db, without)
    assert store.list_keys(services.s3.bucket_alerts, f"{pack_dep}/") == []
    assert deleted["deleted"] >= 1
    row = db.execute("SELECT details FROM audit.audit_log WHERE action = 'alert.retention_delete' "
                     "ORDER BY seq DESC LIMIT 1").fetchone()
    assert row["details"]["retention_days_by_deployment"][pack_dep] == 31
    assert under_pack in row["details"]["alert_ids"] and without not in row["details"]["alert_ids"]
    # 61 days on, the setting's fallback takes the other.
    alerts.delete_expired(db, store, 60, SYSTEM, now=datetime.now(UTC) + timedelta(days=61))
    db.commit()
    assert not stored(db, without)


def test_the_use_log_is_kept_for_the_packs_retention_the_setting_for_one_without(db, services, store, monkeypatch):
    pack_dep, _ = a_deployment_with_alert(db, services, store, "Pack Log Street", pack=True)
    bare_dep, _ = a_deployment_with_alert(db, services, store, "No Pack Log Street", pack=False)
    db.commit()
    longer = services.model_copy(update={"audit": services.audit.model_copy(update={"use_log_retention_days": 400})})
    assert policy_store.use_log_retention_days(db, longer, pack_dep) == 183
    assert policy_store.use_log_retention_days(db, longer, bare_dep) == 400

    from tests.watchlist.test_cli import last_json, lfr

    monkeypatch.setenv("LFR_AUDIT__USE_LOG_RETENTION_DAYS", "400")
    assert last_json(lfr("audit", "use-log", pack_dep, "--json", actor="aud.auditor"))["retention_days"] == 183
    assert last_json(lfr("audit", "use-log", bare_dep, "--json", actor="aud.auditor"))["retention_days"] == 400
