"""Issue 27 item 3 in Airflow, through dag.test(): under eu-ai-act (Art 5(3)) an approved list is not activated, nor
the run failed, while the external authorisation is awaited; it goes live once an authoriser records the grant, and
a refusal ends the run with the authority's reference in the run's note. Real PostgreSQL, S3 and face images."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime

import pytest

from lfr_core.db.connection import connect
from lfr_core.deployments import authorisation
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.workflow import tasks as orchestration
from lfr_ops.demo.data import stage_custody_manifest
from tests.dags.test_deployment_dag import AUTHORISER, _conf, _note, _subjects, deployment_dag  # noqa: F401

EU = {"policy": "eu-ai-act", "use_case": "art5_1_h_iii", "fria_ref": "FRIA-2026-3", "registration_ref": "EU-DB-77"}


def _decide_after_the_window_starts(settings, conf, seen: dict, **decision) -> threading.Thread:
    """Approve the list once built; once the window has started, note what the list is, then record the
    authority's decision."""
    def act():
        approved = orchestration.approve_when_built(settings, conf["intelligence_ref"], AUTHORISER, timeout_s=120)
        deployment_id = uuid.UUID(str(approved["deployment_id"]))
        with connect(settings) as conn:
            start = conn.execute("SELECT window_start FROM deployments WHERE id = %s", (deployment_id,)).fetchone()
        time.sleep(max(0.0, (start["window_start"] - datetime.now(UTC)).total_seconds()) + 4)
        with connect(settings) as conn:
            seen["before"] = lifecycle.get_version(conn, str(approved["id"]))["state"]
            seen["decision"] = authorisation.record_decision(conn, deployment_id, AUTHORISER, **decision)
    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_an_approved_list_waits_for_the_authorisation_then_goes_live(deployment_dag, services):  # noqa: F811
    store = ObjectStore(services)
    manifest = stage_custody_manifest(store, services, _subjects(services, n=3), f"dageu-{uuid.uuid4().hex[:6]}")
    conf = _conf(services, manifest, length_s=12, **EU)
    seen: dict = {}
    actor = _decide_after_the_window_starts(services, conf, seen, authority="Juge des libertés, Lyon",
                                            authority_kind="judicial", decision_ref="ORD-2026-17", decided_on=date(2026, 12, 1),
                                            scope="this window only")
    run = deployment_dag.test(run_conf=conf)
    actor.join(timeout=5)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert seen["before"] == "approved", "inside the window, without the authorisation, the list did not go live"
    with connect(services) as conn:
        version = lifecycle.list_versions(conn, seen["decision"]["deployment_id"])[0]
    assert version["activated_at"] > seen["decision"]["recorded_at"], "it went live once the grant was recorded"
    assert states["wait_for_authorisation"] == "success" and version["state"] == "purged"


@pytest.mark.slow
def test_a_refusal_ends_the_run_with_the_authoritys_reference_in_its_note(deployment_dag, services):  # noqa: F811
    store = ObjectStore(services)
    manifest = stage_custody_manifest(store, services, _subjects(services, n=3), f"dageu-{uuid.uuid4().hex[:6]}")
    conf = _conf(services, manifest, length_s=30, **EU)
    seen: dict = {}
    actor = _decide_after_the_window_starts(services, conf, seen, authority="Court X", authority_kind="judicial",
                                            decision_ref="REF-9", refused=True)
    run = deployment_dag.test(run_conf=conf)
    actor.join(timeout=5)
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert seen["before"] == "approved"
    assert tis["wait_for_authorisation"].state == "failed" and tis["wait_for_authorisation"].try_number == 1
    assert tis["activate"].state == "upstream_failed"
    note = _note(run)
    assert note and note.startswith("**wait_for_authorisation** refused this run: ") and "Court X (REF-9)" in note, note
