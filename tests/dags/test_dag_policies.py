"""The DAG folder imports cleanly and every DAG follows the house rules (STYLE.md section 4)."""

from __future__ import annotations

import pytest

from lfr_core.config import PROJECT_ROOT

EXPECTED = {"lfr_deployment", "lfr_watchlist_expiry", "lfr_alert_retention", "lfr_deployment_report",
            "lfr_deployment_reconcile"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_dag_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) >= EXPECTED


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


def test_reconciliation_runs_every_minute(dagbag):
    """Issue 31: a deployment whose run died is finished within a minute of its window's end."""
    from datetime import timedelta

    assert dagbag.dags["lfr_deployment_reconcile"].timetable.delta == timedelta(minutes=1)
    assert dagbag.dags["lfr_deployment_reconcile"].max_active_runs == 1


def test_deployment_dag_emits_sealed_and_report_assets(dagbag):
    dag = dagbag.dags["lfr_deployment"]
    uris = {outlet.uri for t in dag.tasks for outlet in t.outlets}
    assert {"watchlist://lfr/sealed", "report://lfr/published"} <= uris


def test_the_use_is_notified_after_the_report_even_when_the_run_was_cancelled(dagbag):
    # Art 5(4) (issue 28 item 6): notify_use follows the report; a cancelled use (the report skipped) is notified too.
    notify = dagbag.dags["lfr_deployment"].get_task("notify_use")
    assert notify.upstream_task_ids >= {"publish_report", "create_deployment"}
    assert notify.trigger_rule == "none_failed" and not notify.downstream_task_ids


def test_no_wait_in_any_dag_pokes_in_reschedule_mode(dagbag):
    """A rescheduled sensor loses tries to a scheduler race under load (apache/airflow#71172): the waits defer."""
    for dag_id, dag in dagbag.dags.items():
        for t in dag.tasks:
            assert getattr(t, "mode", "poke") != "reschedule", f"{dag_id}.{t.task_id} reschedules"
    waits = {t: dagbag.dags["lfr_deployment"].get_task(t) for t in
             ("wait_for_approval", "wait_for_window_start", "wait_for_authorisation", "wait_for_window_end")}
    for task_id, waiting in waits.items():
        assert callable(getattr(waiting, "execute_complete", None)), f"{task_id} cannot resume from a deferral"


def test_window_edges_defer_to_the_triggerer_which_ends_the_task_at_the_edge(dagbag, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from airflow.providers.standard.triggers.temporal import DateTimeTrigger
    from airflow.sdk.exceptions import TaskDeferred

    from lfr_core.workflow import tasks as orchestration

    waiting = dagbag.dags["lfr_deployment"].get_task("wait_for_window_end")
    edge = type(waiting)(task_id="edge", deployment={"deployment_id": "d"}, edge="end")
    moment = datetime.now(UTC) + timedelta(minutes=10)
    monkeypatch.setattr(orchestration, "window_edge", lambda settings, deployment_id, which: moment)
    with pytest.raises(TaskDeferred) as deferred:
        edge.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, DateTimeTrigger) and trigger.moment == moment and trigger.end_from_trigger is True
    # An edge seconds away is waited for in the worker: a trigger firing right after its task deferred can meet
    # the executor's stale report of the deferring attempt (apache/airflow#72716).
    moment = datetime.now(UTC) + timedelta(seconds=0.3)
    edge.execute({})
    assert datetime.now(UTC) >= moment
    assert type(dagbag.dags["lfr_deployment"].get_task("wait_for_window_start")) is type(waiting)


def test_activation_waits_for_the_external_authorisation_deferred_and_goes_on_once_settled(dagbag, monkeypatch):
    """Issue 27 item 3: an approved list whose pack's authorisation is awaited is not activated (nor failed): the
    wait sits between the window's start and activation, and defers to the triggerer until it settles."""
    import sys

    from airflow.sdk.exceptions import TaskDeferred
    from lfr_triggers import AuthorisationSettledTrigger

    from lfr_core.workflow import tasks as orchestration

    dag = dagbag.dags["lfr_deployment"]
    waiting = dag.get_task("wait_for_authorisation")
    assert waiting.upstream_task_ids == {"create_deployment", "wait_for_window_start"}
    assert waiting.downstream_task_ids == {"activate"}
    step = type(waiting)(task_id="authorised", deployment={"deployment_id": "d"})
    answers: list[str | None] = [None]
    monkeypatch.setattr(orchestration, "wait_for_authorisation_state", lambda settings, deployment_id: answers[-1])
    monkeypatch.setattr(sys.modules[type(waiting).__module__], "WAIT_IN_WORKER_S", 0.0)
    with pytest.raises(TaskDeferred) as deferred:
        step.execute({"params": {"poke_interval_s": 2}})
    trigger = deferred.value.trigger
    assert isinstance(trigger, AuthorisationSettledTrigger)
    assert (trigger.deployment_id, trigger.poll_s) == ("d", 2.0)
    assert trigger.serialize() == ("lfr_triggers.AuthorisationSettledTrigger", {"deployment_id": "d", "poll_s": 2.0})
    answers.append("granted")
    assert step.execute_complete({"params": {}}, {"deployment_id": "d"}) == "granted"


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


def test_the_approval_form_asks_only_for_optional_reasons_and_a_gate_size(dagbag):
    """The Required Action's form has the authoriser's reason to seal a list its impostor evidence does not resolve
    (issue 32 item 5), and the live gate's face size with the reason to run below the reliable size (item 2): all
    optional, so a resolved list is approved at its reliable size with the button alone, and none of the run's own
    params (the planner's form) leaks into the authoriser's."""
    from lfr_core.workflow.approval import EVIDENCE_REASON, FORM_FIELDS, GATE_FACE_PX, GATE_REASON, form_answer

    step = dagbag.dags["lfr_deployment"].get_task("approve_watchlist")
    form = step.serialized_params
    assert list(form) == [EVIDENCE_REASON, GATE_FACE_PX, GATE_REASON] == list(FORM_FIELDS)
    # An answer with only some of the fields (the demo's, once) is refused by Airflow: form_answer gives them all.
    probe = type(step)(task_id="probe_form", version={"version_id": "v-1"})
    with pytest.raises(ValueError, match="does not match params"):
        probe.validate_params_input({EVIDENCE_REASON: "r"})
    probe.validate_params_input(form_answer(**{EVIDENCE_REASON: "r"}))
    for field in form.values():
        assert field["value"] is None and "null" in field["schema"]["type"]
    assert "integer" in form[GATE_FACE_PX]["schema"]["type"]


def test_the_approval_answer_carries_the_gate_size_and_its_reason(dagbag, monkeypatch):
    """The form's gate size and reason reach approval.answer with the evidence reason (issue 32 item 2)."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    from lfr_core.workflow import approval

    step = dagbag.dags["lfr_deployment"].get_task("approve_watchlist")
    probe = type(step)(task_id="probe_answer", version={"version_id": "v-1"})
    given: dict = {}
    monkeypatch.setattr(HITLOperator, "execute_complete", lambda self, context, event: None)
    monkeypatch.setattr(approval, "answer", lambda settings, version_id, person, choice, **kw: given.update(
        version_id=version_id, person=person, choice=choice, **kw) or {"state": "approved"})
    event = {"responded_by_user": {"id": "ann.authoriser"}, "chosen_options": [approval.APPROVE],
             "params_input": {approval.EVIDENCE_REASON: None, approval.GATE_FACE_PX: 32,
                              approval.GATE_REASON: "faces pass close to the camera"}}
    assert probe.execute_complete({}, event) == {"state": "approved"}
    assert given == {"version_id": "v-1", "person": "ann.authoriser", "choice": approval.APPROVE,
                     "evidence_override": None, "gate_face_px": 32, "gate_reason": "faces pass close to the camera"}


def test_the_review_request_asks_admins_with_no_default_and_applies_the_answer_as_the_admin(dagbag, monkeypatch):
    """After the window, a Required Action asks an admin to name a reviewer (issue 28 item 5): no default answer,
    skipped in a headless run, and the answer reaches review_request.answer in the admin's name."""
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk.exceptions import AirflowSkipException

    from lfr_core.workflow import review_request

    dag = dagbag.dags["lfr_deployment"]
    step = dag.get_task("assign_reviewers")
    assert step.options == [review_request.ASSIGN, review_request.LATER] and not step.defaults
    assert "publish_report" in step.upstream_task_ids and list(step.serialized_params) == [review_request.REVIEWER]
    probe = type(step)(task_id="probe_reviews", deployment={"deployment_id": "d-1"})
    with pytest.raises(AirflowSkipException, match="headless"):
        probe.execute({"params": {"approve_with": "cli"}})
    given: dict = {}
    monkeypatch.setattr(HITLOperator, "execute_complete", lambda self, context, event: None)
    monkeypatch.setattr(review_request, "answer", lambda settings, dep, person, choice, reviewer: given.update(
        dep=dep, person=person, choice=choice, reviewer=reviewer) or {"assigned": ["a-1"]})
    event = {"responded_by_user": {"id": "ada.admin"}, "chosen_options": [review_request.ASSIGN],
             "params_input": {review_request.REVIEWER: "aud.auditor"}}
    assert probe.execute_complete({}, event) == {"assigned": ["a-1"]}
    assert given == {"dep": "d-1", "person": "ada.admin", "choice": review_request.ASSIGN, "reviewer": "aud.auditor"}
