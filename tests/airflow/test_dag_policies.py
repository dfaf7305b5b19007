"""The DAG folder imports cleanly and every DAG follows the house rules (STYLE.md section 4)."""

from __future__ import annotations

import pytest

from lfr_core.config import PROJECT_ROOT

EXPECTED = {"lfr_deployment", "lfr_watchlist_expiry", "lfr_alert_retention", "lfr_deployment_report"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_dag_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert EXPECTED <= set(dagbag.dags)


def test_every_dag_has_tags_owner_retries_no_catchup_and_docs(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} catches up"
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag_id} has no doc_md"
        assert dag.start_date.tzinfo is not None, f"{dag_id} start_date is naive"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id} has no owner"
            assert t.retries >= 2, f"{dag_id}.{t.task_id} retries {t.retries}"


def test_every_dag_runs_from_its_first_start_unpaused(dagbag):
    """Expiry, purge and retention must never wait for an admin to find and unpause them."""
    assert {d: dagbag.dags[d].is_paused_upon_creation for d in EXPECTED} == dict.fromkeys(EXPECTED, False)


def test_expiry_sweep_runs_every_configured_interval(dagbag):
    from datetime import timedelta

    from lfr_core.config import get_settings

    timetable = dagbag.dags["lfr_watchlist_expiry"].timetable
    assert timetable.delta == timedelta(minutes=get_settings().airflow.expiry_sweep_minutes)


def test_deployment_dag_emits_sealed_and_report_assets(dagbag):
    dag = dagbag.dags["lfr_deployment"]
    uris = {outlet.uri for t in dag.tasks for outlet in t.outlets}
    assert {"watchlist://lfr/sealed", "report://lfr/published"} <= uris
    assert dag.task_dict["wait_for_approval"].mode == "reschedule"


def test_window_sensors_wake_at_the_edge_not_a_poll_interval_late(dagbag):
    waiting = dagbag.dags["lfr_deployment"].get_task("wait_for_window_start")
    sensor = type(waiting)(task_id="edge", python_callable=lambda: remaining, poke_interval=60, mode="reschedule")
    for remaining, done, interval in ((500.0, False, 60), (12.5, False, 12.5), (0.2, False, 1.0), (-3.0, True, 1.0)):
        assert sensor.poke({}) is done
        assert sensor.poke_interval == interval
    assert type(dagbag.dags["lfr_deployment"].get_task("wait_for_window_end")) is type(waiting)


def test_the_approval_step_has_no_default_answer_and_refuses_all_admins_outside_demo(dagbag, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    step = dagbag.dags["lfr_deployment"].get_task("approve_watchlist")
    assert step.options == ["Approve", "Reject"] and not step.defaults and step.multiple is False
    assert dagbag.dags["lfr_deployment"].get_task("wait_for_approval").trigger_rule == "none_failed"
    probe = type(step)(task_id="probe", version={"version_id": "00000000-0000-0000-0000-000000000000"})
    with pytest.raises(AirflowSkipException, match="headless"):
        probe.execute({"params": {"approve_with": "cli"}})
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    with pytest.raises(AirflowFailException, match="refused outside demo mode"):
        probe.execute({"params": {"approve_with": "airflow", "demo": False}})
