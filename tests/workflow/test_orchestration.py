"""The DAG task functions are safe to re-run, and an unapproved draft is purged when approval times out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.watchlist import lifecycle
from lfr_core.workflow import tasks as orchestration
from tests.rows import insert_deployment, insert_version


def test_approval_timeout_purges_the_draft_and_cancels_the_deployment(db, services):
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2))
    draft = insert_version(db, deployment, state="draft", accepted=2)
    db.commit()

    assert orchestration.wait_for_approval_state(services, str(draft), 5) is None
    with pytest.raises(orchestration.ApprovalTimedOut, match="approval timed out"):
        orchestration.wait_for_approval_state(services, str(draft), 5, now=now + timedelta(minutes=6))

    version = lifecycle.get_version(db, draft)
    assert version["state"] == "purged" and "approval timed out" in version["purge_receipt"]["reason"]
    assert db.execute("SELECT status FROM deployments WHERE id = %s", (deployment,)).fetchone()["status"] == "cancelled"


def test_activate_expire_and_purge_can_run_again_without_failing(db, services):
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(minutes=1), window_end=now + timedelta(hours=1))
    version = str(insert_version(db, deployment, state="approved", accepted=1))
    db.commit()

    assert orchestration.activate_version(services, version)["state"] == "active"
    assert orchestration.activate_version(services, version)["note"] == "already active"
    assert orchestration.expire_version(services, version)["state"] == "expired"
    assert orchestration.expire_version(services, version)["state"] == "expired"
    first = orchestration.purge_version(services, version)
    assert orchestration.purge_version(services, version)["receipt_sha256"] == first["receipt_sha256"]
    assert orchestration.activate_version(services, version)["state"] == "purged"


def test_a_retried_create_finds_the_deployment_it_already_made(services, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("subject_ref,category,rationale,image_uri,provenance,capture_date\n"
                        "S1,wanted_by_court,warrant,/nowhere.jpg,custody,2024-01-01\n")
    start = datetime.now(UTC) + timedelta(hours=1)
    conf = orchestration.deployment_conf(place="Retry Road", manifest_uri=str(manifest), planner="pat.planner",
                                         window_start=start, window_end=start + timedelta(hours=1), threshold=0.36,
                                         intelligence_ref="INT-RETRY-1")
    first = orchestration.create_deployment_from_params(services, conf, planner=conf["planner"])
    again = orchestration.create_deployment_from_params(services, conf, planner=conf["planner"])
    assert again["deployment_id"] == first["deployment_id"] and again["reused"] is True


def test_seconds_to_window_counts_down_to_each_edge(db, services):
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now + timedelta(minutes=2), window_end=now + timedelta(hours=1))
    db.commit()
    assert orchestration.seconds_to_window(services, str(deployment), "start", now=now) == 120.0
    assert orchestration.seconds_to_window(services, str(deployment), "end", now=now) == 3600.0
    assert orchestration.seconds_to_window(services, str(deployment), "start", now=now + timedelta(minutes=3)) == -60.0
    with pytest.raises(ValueError, match="edge must be"):
        orchestration.seconds_to_window(services, str(deployment), "middle")


def test_the_planner_is_who_triggered_the_run_not_a_typed_name():
    from lfr_core.errors import InvalidInput

    signed_in = {"planner": "", "demo": False}
    assert orchestration.run_planner(signed_in, "pat.planner") == "pat.planner"
    assert orchestration.run_planner({"planner": "pat.planner"}, "pat.planner") == "pat.planner"
    with pytest.raises(InvalidInput, match="cannot be built in the name of"):
        orchestration.run_planner({"planner": "someone.else"}, "pat.planner")  # the form cannot impersonate
    with pytest.raises(InvalidInput, match="signed-in planner"):
        orchestration.run_planner({"planner": "pat.planner", "demo": False}, orchestration.TEST_TRIGGER)
    with pytest.raises(InvalidInput, match="signed-in planner"):
        orchestration.run_planner({"planner": "", "demo": True}, None)
    assert orchestration.run_planner({"planner": "pat.planner", "demo": True}, orchestration.TEST_TRIGGER) == "pat.planner"
