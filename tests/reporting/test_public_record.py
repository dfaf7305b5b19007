"""The public record of a deployment (lfr_core/reporting/public_record.py) on the real PostgreSQL and S3 server: the
notice names no one on the list, the results are counted from the audit log and reconciled with the alert
table, and the sign and leaflet are PDFs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from lfr_core.alerts import service as alerts
from lfr_core.db.connection import admin_dsn
from lfr_core.deployments import service as deployments
from lfr_core.identity.model import SYSTEM
from lfr_core.identity.roles import acting
from lfr_core.reporting import public_record
from tests.conftest import OPERATOR, add_people
from tests.rows import insert_deployment, insert_version

SUBJECTS = ("PUB-SECRET-001", "PUB-SECRET-002", "PUB-SECRET-003")


def closed_deployment_with_alerts(conn, settings, store, place: str) -> str:
    """A deployment whose window is over, with three alerts: one confirmed and an arrest, one declined, one
    still pending. Raised, decided and closed through the platform's own functions (all audited)."""
    add_people(settings)
    now = datetime.now(UTC)
    dep = insert_deployment(conn, window_start=now - timedelta(hours=2), window_end=now - timedelta(hours=1),
                            status="live", place=place)
    version = insert_version(conn, dep, state="expired", accepted=3, activated_at=now - timedelta(hours=2))
    deployments.assign(conn, dep, OPERATOR.name, "operator", SYSTEM)
    raised = [alerts.raise_alert(conn, store, settings.s3.bucket_alerts, alerts.NewAlert(
        deployment_id=dep, version_id=version, subject_ref=ref, category="wanted_by_court", score=0.6,
        camera_id="cam-1", track_id=f"t{i}", captured_at=now - timedelta(minutes=90), watchlist_image_uri=None),
        b"\xff\xd8 not a real crop", SYSTEM) for i, ref in enumerate(SUBJECTS)]
    alerts.adjudicate(conn, store, raised[0]["id"], "confirmed", OPERATOR, "engaged")
    alerts.record_engagement(conn, raised[0]["id"], "arrested", OPERATOR)
    alerts.adjudicate(conn, store, raised[1]["id"], "declined", OPERATOR)
    alerts.record_counts(conn, dep, "cam-1", frames=500, faces_seen=1200)
    with acting(conn, SYSTEM):
        deployments.set_status(conn, dep, "closed", SYSTEM, "window over")
    return str(dep)


def test_results_come_from_the_audit_log_and_are_reconciled_with_the_alerts(db, services, store):
    dep = closed_deployment_with_alerts(db, services, store, "Results Row")
    out = public_record.results(db, dep)
    assert (out["alerts"], out["true_alerts"], out["false_alerts"], out["awaiting_decision"], out["arrests"],
            out["engagements"], out["faces_seen"], out["watchlist_size"]) == (3, 1, 1, 1, 1, 1, 1200, 3)
    assert out["reconciled_with_audit_log"] and out["provisional"]
    # An alert changed behind the platform's back (the superuser switches triggers off, so the change writes no
    # audit row) no longer reconciles.
    with psycopg.connect(admin_dsn(services), autocommit=True) as admin:
        admin.execute("SET session_replication_role = replica")
        admin.execute("UPDATE alerts SET status = 'declined' WHERE deployment_id = %s AND status = 'pending'", (dep,))
    assert public_record.results(db, dep)["reconciled_with_audit_log"] is False


def test_the_notice_and_the_page_name_no_one_on_the_list(db, services, store):
    dep = closed_deployment_with_alerts(db, services, store, "Notice Row")
    note = public_record.notice(db, services, dep)
    page = public_record.render_page(note, public_record.results(db, dep))
    for shown in ("Notice Row", "test purpose", "test basis", services.public.contact, "deletes it at once",
                  f"{services.alerts.retention_days} days", "Arrests", "Results", "provisional"):
        assert shown in page, shown
    for secret in (*SUBJECTS, "wanted_by_court", OPERATOR.name, "Supt Rows", "INT-"):
        assert secret not in page, secret
    before = public_record.render_page({**note, "status": "planned"}, None)
    assert "Results" not in before and "Notice Row" in before
    for kind in ("sign", "leaflet"):
        pdf = public_record.render_pdf(note, kind)
        assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf and len(pdf) > 1000
    index = public_record.render_index(public_record.public_deployments(db), services)
    assert f"/public/deployments/{dep}" in index and "Notice Row" in index


def test_an_unknown_notice_format_is_refused():
    import pytest

    with pytest.raises(ValueError, match="sign or leaflet"):
        public_record.render_pdf({"deployment_id": str(uuid.uuid4())}, "poster")
