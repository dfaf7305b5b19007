"""What the audit view shows (lfr_core/reporting/audit_overview.py), on the real PostgreSQL and S3 server: the
chain checked now, filters by place, date and state, rejected entries with their reasons (the plugin's report
rendering: tests/dags/test_audit_view.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.reporting import audit_overview
from tests.conftest import own_reports_bucket
from tests.rows import insert_deployment, insert_version


def test_deployments_are_filtered_by_place_date_and_state_with_their_rejections(db):
    now = datetime.now(UTC)
    old = insert_deployment(db, window_start=now - timedelta(days=10), window_end=now - timedelta(days=10, hours=-2),
                            status="closed", place="Overview Lane North")
    new = insert_deployment(db, window_start=now + timedelta(days=1), window_end=now + timedelta(days=1, hours=2),
                            place="Overview Lane South")
    version = insert_version(db, new, state="draft", accepted=2, rejected=1)

    def places(**filters):
        return [d["place"] for d in audit_overview.deployments_overview(db, **filters) if "Overview Lane" in d["place"]]

    assert places(place="overview lane") == ["Overview Lane South", "Overview Lane North"]
    assert places(place="Overview", status="closed") == ["Overview Lane North"]
    assert places(place="Overview", since=(now + timedelta(hours=12)).date()) == ["Overview Lane South"]
    assert places(place="Overview", until=(now - timedelta(days=5)).date()) == ["Overview Lane North"]
    assert places(place="Overview", since=date(2001, 1, 1), until=date(2001, 1, 2)) == []
    (south,) = audit_overview.deployments_overview(db, place="Overview Lane South")
    (v,) = south["versions"]
    assert v["id"] == version and [(r["subject_ref"], r["reason"]) for r in v["rejected"]] == [("ROW-002", "no face found")]
    assert [d["id"] for d in audit_overview.deployments_overview(db, place="Overview Lane North")] == [old]
    with pytest.raises(ValueError, match="unknown state"):
        audit_overview.deployments_overview(db, status="sealed")


def test_the_chain_status_is_checked_now_against_the_last_anchor(db, services, store, tmp_path):
    # A key and an object-locked bucket of its own: the session's checkpoints stay signed by the session's key.
    own = own_reports_bucket(services).model_copy(update={
        "audit": services.audit.model_copy(update={"signing_key_file": tmp_path / "sign.pem",
                                                   "verify_key_file": tmp_path / "verify.pem"})})
    written = audit_checkpoints.checkpoint(db, store, own)
    status = audit_overview.chain_status(db, store, own)
    assert status["rows"] >= written["tree_size"] and status["last_anchor_rows"] >= written["tree_size"]
    assert status["checkpoints"] >= 1 and status["last_anchor_at"]
    assert status["ok"] == (not status["problems"])
