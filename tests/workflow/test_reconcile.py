"""Issue 31: a deployment finishes on its clock whatever became of its DAG run, each step once; one whose
window passes without going live lapses; an approval after the window is refused and says why.

The run's death is what a failed or killed `wait_for_window_start`/`wait_for_window_end` leaves: the
deployment's rows as they were, and nothing more called for it. The reconciling sweep (every minute,
dags/lfr_deployment_reconcile.py) is then all there is."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lfr_core.db.connection import connect
from lfr_core.reporting import public_record
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.workflow import approval, sweeps
from lfr_core.workflow import tasks as orchestration
from tests.rows import insert_deployment, insert_version

WINDOW_S = 6.0
STEPS = ("watchlist.active", "watchlist.expired", "watchlist.purged", "deployment.live", "deployment.closed",
         "report.publish")


def _counts(conn, deployment_id, version_id) -> dict[str, int]:
    rows = conn.execute(
        """SELECT action, count(*) AS n FROM audit_log WHERE object_id = ANY(%s) GROUP BY action""",
        ([str(deployment_id), str(version_id)],)).fetchall()
    conn.rollback()
    found = {r["action"]: r["n"] for r in rows}
    return {step: found.get(step, 0) for step in STEPS}


def _sweep(services):
    return orchestration.reconcile_deployments(services)


def _until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.2)


def _approved_in_time(db, *, starts_in_s: float) -> tuple:
    """A deployment whose list was approved before its window (by someone other than its builder)."""
    start = datetime.now(UTC) + timedelta(seconds=starts_in_s)
    deployment = insert_deployment(db, window_start=start, window_end=start + timedelta(seconds=WINDOW_S))
    return deployment, insert_version(db, deployment, state="approved", accepted=2), start + timedelta(seconds=WINDOW_S)


def test_a_list_approved_in_time_goes_live_and_is_finished_once_although_its_run_died(db, services):
    """The run died waiting for the window to start: the sweep activates the list inside the window, and at
    its end expires, purges and reports it, each exactly once however often it runs."""
    deployment, version, end = _approved_in_time(db, starts_in_s=-1.0)

    _sweep(services)
    _sweep(services)
    with connect(services) as conn:
        assert conn.execute("SELECT state FROM watchlist_versions WHERE id = %s", (version,)).fetchone()["state"] \
            == "active", "the list is live inside its window although no run activated it"
        assert conn.execute("SELECT status FROM deployments WHERE id = %s", (deployment,)).fetchone()["status"] == "live"
        assert _counts(conn, deployment, version) == {**dict.fromkeys(STEPS, 0), "watchlist.active": 1,
                                                      "deployment.live": 1}
    _until(end)
    _sweep(services)
    _sweep(services)
    with connect(services) as conn:
        assert _counts(conn, deployment, version) == dict.fromkeys(STEPS, 1)
        state = conn.execute("SELECT state, purge_receipt FROM watchlist_versions WHERE id = %s", (version,)).fetchone()
    assert state["state"] == "purged" and state["purge_receipt"]["verified"]["embeddings_remaining"] == 0
    report = ObjectStore(services).get_bytes(services.s3.bucket_reports, f"reports/{deployment}/report.json")
    assert b'"status": "closed"' in report


def test_a_run_that_died_mid_window_leaves_nothing_live_after_the_window(db, services):
    """The run activated its list, then its `wait_for_window_end` failed: the list stays live inside the
    window, and the sweep expires, purges and reports it once the window is over."""
    deployment, version, end = _approved_in_time(db, starts_in_s=-1.0)
    assert orchestration.activate_version(services, str(version))["state"] == "active"  # the run's `activate`
    _sweep(services)  # mid-window: nothing to do
    with connect(services) as conn:
        assert conn.execute("SELECT state FROM watchlist_versions WHERE id = %s", (version,)).fetchone()["state"] \
            == "active"
    _until(end)
    _sweep(services)
    again = _sweep(services)
    assert str(deployment) not in again["reports_published"] and str(version) not in again["purged"]
    with connect(services) as conn:
        assert _counts(conn, deployment, version) == dict.fromkeys(STEPS, 1)


def test_the_run_and_the_sweep_finishing_together_do_each_step_once(db, services):
    """A run that is alive after all races the sweep at the window's end: each step still happens once, and the
    run's report task reads back the report the sweep published (or the other way round)."""
    deployment, version, end = _approved_in_time(db, starts_in_s=-1.0)
    orchestration.activate_version(services, str(version))
    _until(end)
    errors: list[BaseException] = []

    def run_finishes():
        try:
            orchestration.expire_version(services, str(version))
            orchestration.purge_version(services, str(version))
            orchestration.publish_report(services, str(deployment), once=True)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    runs = [threading.Thread(target=run_finishes), threading.Thread(target=lambda: _sweep(services))]
    for t in runs:
        t.start()
    for t in runs:
        t.join(timeout=120)
    assert not errors, errors
    _sweep(services)
    with connect(services) as conn:
        assert _counts(conn, deployment, version) == dict.fromkeys(STEPS, 1)


def _lapse_rows(conn, deployment_id):
    rows = conn.execute("SELECT actor, role, details FROM audit_log WHERE object_id = %s AND action = "
                        "'deployment.lapsed'", (str(deployment_id),)).fetchall()
    conn.rollback()
    return rows


def test_a_deployment_whose_window_passed_without_going_live_lapses_and_the_public_read_not_used(db, services):
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(minutes=20), window_end=now - timedelta(minutes=12),
                                   place="Lapsed Lane")
    draft = insert_version(db, deployment, state="draft", accepted=2)

    _sweep(services)
    _sweep(services)
    with connect(services) as conn:
        status = conn.execute("SELECT status FROM deployments WHERE id = %s", (deployment,)).fetchone()["status"]
        (lapsed,) = _lapse_rows(conn, deployment)
        draft_state = conn.execute("SELECT state FROM watchlist_versions WHERE id = %s", (draft,)).fetchone()["state"]
        note = public_record.notice(conn, services, deployment)
        results = public_record.results(conn, deployment)
        listed = {str(r["id"]): r for r in public_record.public_deployments(conn)}
    assert status == "lapsed" and draft_state == "purged"
    assert lapsed["role"] == "system" and "before any authoriser approved" in lapsed["details"]["reason"]
    assert results["used"] is False and results["faces_seen"] == 0 and results["alerts"] == 0
    assert "nothing was scanned" in results["summary"]
    page = public_record.render_page(note, results)
    assert "live facial recognition not used" in page and "in use" not in page and "nothing was scanned" in page
    index = public_record.render_index([listed[str(deployment)]], services)
    assert "not used" in index and "lapsed" not in index


def test_an_approval_after_the_window_is_refused_saying_why_and_the_deployment_lapses(db, services):
    """The path Airflow's Required Action takes (`approval.answer`, as the person who answered)."""
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(minutes=11), window_end=now - timedelta(minutes=3))
    draft = insert_version(db, deployment, state="draft", accepted=2)
    with pytest.raises(approval.ApprovalRefused) as refused:
        approval.answer(services, str(draft), "ann.authoriser", approval.APPROVE)
    message = str(refused.value)
    assert "window ended" in message and "lapsed" in message and "nothing went live" in message
    with connect(services) as conn:
        assert conn.execute("SELECT status FROM deployments WHERE id = %s", (deployment,)).fetchone()["status"] == "lapsed"
        assert conn.execute("SELECT state FROM watchlist_versions WHERE id = %s", (draft,)).fetchone()["state"] == "purged"
        assert not conn.execute("SELECT 1 FROM audit_log WHERE object_id = %s AND action = 'watchlist.approved'",
                                (str(draft),)).fetchall()
        assert len(_lapse_rows(conn, deployment)) == 1


def test_a_run_waiting_for_an_approval_when_the_window_ends_fails_saying_the_deployment_lapsed(db, services):
    """What the run's approval wait (and its Required Action's timeout) meets at the window's end."""
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(minutes=11), window_end=now - timedelta(seconds=1))
    draft = insert_version(db, deployment, state="draft", accepted=1)
    assert orchestration.approval_deadline(services, str(draft)) <= now
    assert orchestration.approval_settled(services, str(draft)) is False
    with pytest.raises(orchestration.DeploymentLapsed, match="before any authoriser approved"):
        orchestration.wait_for_approval_state(services, str(draft), waited_out=True)
    assert orchestration.approval_settled(services, str(draft)) is True
    with connect(services) as conn:
        assert len(_lapse_rows(conn, deployment)) == 1
    with pytest.raises(orchestration.DeploymentLapsed):  # asked again: the same answer, nothing done twice
        orchestration.wait_for_approval_state(services, str(draft))
    with connect(services) as conn:
        assert len(_lapse_rows(conn, deployment)) == 1


def test_a_sweep_with_nothing_to_do_writes_nothing(db, services):
    _sweep(services)
    with connect(services) as conn:
        before = conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"]
        conn.rollback()
    result = _sweep(services)
    assert result["checked"] == 0 and not any(result[k] for k in ("activated", "deactivated", "expired", "purged",
                                                                 "lapsed", "reports_published"))
    with connect(services) as conn:
        assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == before
    assert sweeps.OUTSIDE_WINDOW


def test_the_approval_trigger_fires_when_the_draft_is_settled_or_at_its_deadline(db, services, monkeypatch):
    """What the triggerer runs for `wait_for_approval` (the database read in a thread, off its event loop)."""
    import asyncio

    # Airflow puts its plugins folder on sys.path and finds the trigger by that module name; so does the test, alone.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "airflow_plugins"))
    from lfr_triggers import ApprovalSettledTrigger

    def first_event(trigger):
        async def run():
            return await anext(trigger.run())
        return asyncio.run(asyncio.wait_for(run(), timeout=30)).payload

    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2))
    draft = insert_version(db, deployment, state="draft", accepted=1)
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    classpath, kwargs = ApprovalSettledTrigger(version_id=str(draft), deadline=soon, poll_s=0.5).serialize()
    assert classpath == "lfr_triggers.ApprovalSettledTrigger"
    assert first_event(ApprovalSettledTrigger(**kwargs)) == {"version_id": str(draft), "waited_out": True}
    approved = insert_version(db, deployment, state="approved", accepted=1, number=2)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert first_event(ApprovalSettledTrigger(version_id=str(approved), deadline=later, poll_s=0.5)) == \
        {"version_id": str(approved), "waited_out": False}
