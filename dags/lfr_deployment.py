"""
### lfr_deployment: one planned, time-boxed live facial recognition deployment

Triggered by a **planner** from the UI (*Trigger* → the form below, `airflow_plugins/lfr_trigger_form.py`:
place, use case, purpose, legal basis, intelligence reference, window in the force's time zone, authorising
officer, staged folder, threshold). Each task calls one function of `lfr_core.workflow.tasks`:

1. `create_deployment`: validates the terms (window in the future, end after start, not too long), the
   planner and the manifest (readable, known and authorised categories) and only then creates the
   deployment. Bad input fails here, without retries, creates nothing, and the run's note says why.
2. `build_watchlist`: the draft version, built in batches; the counts, and the rejections counted by
   reason, are logged and returned in XCom (no subject is named there: the approval's brief lists the
   entries). `build_key` is the run id, so a retried build yields one version.
3. `approve_watchlist`: a human-in-the-loop task under **Required Actions**. Its body shows what is being
   approved (terms, counts, every rejection's reason, categories, model and threshold, changes since the
   last version). Only the deployment's authorisers may answer (`lfr deployment assign ID --person NAME
   --role authoriser`, or the authorising officer when they are an authoriser here), never the list's builder;
   the answer is applied in the database as that person, where the four-eyes rule is checked again. There
   is no default answer: when `watchlist.approval_timeout_minutes` passes, the draft is purged with a
   receipt, the deployment cancelled and the run fails. *Reject* does the same in the authoriser's name.
   The request closes when the window ends: the database refuses an approval after it, the deployment
   **lapses** (nothing went live; its draft is purged) and the run fails saying so, without retrying.
   Headless runs (`approve_with`: `cli`) skip it and approve with `lfr watchlist approve`.
4. `wait_for_approval`: until the draft is sealed, either way (deferred to the triggerer, which looks
   every `poke_interval_s`). Emits `watchlist://lfr/sealed` with the deployment and version in the extra.
5. `wait_for_window_start` → `wait_for_authorisation` → `activate`: activates at window start and pre-scales Ray
   Serve. Where the pack requires external prior authorisation (`eu-ai-act`) and none is recorded, the approved
   list waits (deferred) until `lfr deployment authorise` records it or an urgent start, or the window ends; a
   refusal fails the run, and its note gives the authority's reference.
6. `wait_for_window_end` → `expire`: deactivates at window end and lowers Serve's scaling.
7. `purge`: deletes templates and image copies, verifies, and stores a receipt.
8. `publish_report`: the transparency report (JSON + Markdown in S3), printed in the log; emits
   `report://lfr/published`.
9. `assign_reviewers`: a Required Action asking the admins to name the reviewer of each alert that needs a
   post-deployment review (a true alert left unconfirmed, a false alert); skipped when there is none, left to
   `lfr alert review assign` when no one answers within a week.
10. `notify_use`: where the deployment's policy pack requires it (`eu-ai-act`: Art 5(4)), the notification of
    this use to the market surveillance and data protection authorities (JSON + PDF, no sensitive operational
    data) and the year's Art 5(6) statistics, in the reports bucket, also after a cancellation; `lfr report
    notification ID` reads it back.

No wait pokes in reschedule mode: the window edges defer to the triggerer until the edge, and the triggerer
ends the task there itself. The platform does not depend on this run surviving: the reconciling sweep
(`lfr_deployment_reconcile`, every minute) activates an approved list inside its window, and expires,
purges and reports at the window's end whatever became of the run, each step once.

A build that accepts no entry cancels the deployment and fails the run with its rejections counted by reason.
`lfr deployment cancel ID --reason ...` ends a run at its next step: what is left is skipped, nothing built
survives (purge receipts name the cancellation).

**Demo and tests**: the API's `conf` (never the form) may also carry `demo`, `poke_interval_s` (1-5 s runs a
window a few seconds ahead), `approval_timeout_minutes`, `approve_with`, a typed `planner` (demo runs nobody
signed in for) and a `manifest_uri` instead of the staged folder (lfr_core.workflow.trigger.RunOptions).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.exceptions import HITLTimeoutError
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import Asset, BaseOperator, Param, dag, get_current_context, task
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from lfr_task_errors import domain as _domain  # airflow_plugins/ (the plugins folder is on sys.path)
from lfr_trigger_form import choices_now, deployment_params
from lfr_triggers import ApprovalSettledTrigger, AuthorisationSettledTrigger

from lfr_core.config import get_settings
from lfr_core.errors import Service, Unavailable
from lfr_core.live import scaling
from lfr_core.workflow import approval, review_request
from lfr_core.workflow import tasks as orchestration
from lfr_core.workflow.trigger import run_options

log = logging.getLogger(__name__)

SEALED = Asset(name="lfr_watchlist_sealed", uri="watchlist://lfr/sealed")
REPORT = Asset(**orchestration.REPORT_ASSET)
# A wait shorter than this is done in the worker (the slot is held that long) rather than deferred: a
# trigger that fires seconds after its task deferred can meet the executor's stale report of the deferring
# attempt and fail the task (apache/airflow#66374, #67287, #72716); after this long that report is processed.
WAIT_IN_WORKER_S = 30.0
REVIEW_REQUEST_TIMEOUT = timedelta(days=7)  # then the reviews are assigned with the CLI
SCALING_TIMEOUT_S = 600.0  # the deploy waits up to 180 s for replicas, then each model is warmed (60 s each)


class WaitForWindowEdge(BaseOperator):
    """Waits for the deployment's window to start or end, holding no worker slot: it defers to the
    triggerer's DateTimeTrigger until the edge, and the triggerer ends the task there itself
    (`end_from_trigger`), so no resumed attempt can meet a stale executor report. An edge under
    WAIT_IN_WORKER_S away is waited for here. A cancelled deployment ends the run (the rest is skipped)."""

    template_fields = ("deployment",)

    def __init__(self, *, deployment: Any, edge: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployment, self.edge = deployment, edge

    def execute(self, context: Any) -> None:
        import time

        moment = _domain(orchestration.window_edge, get_settings(), self.deployment["deployment_id"], self.edge)
        left = (moment - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return
        if left <= WAIT_IN_WORKER_S:
            log.info("window %s at %s: waiting %.1f s here", self.edge, moment.isoformat(), left)
            time.sleep(left)
            return
        log.info("window %s at %s: deferred to the triggerer for %.0f s", self.edge, moment.isoformat(), left)
        self.defer(trigger=DateTimeTrigger(moment=moment, end_from_trigger=True), method_name="execute_complete")

    def execute_complete(self, context: Any, event: Any = None) -> None:
        return None


class WaitForApproval(BaseOperator):
    """Waits until the draft is sealed (approved under Required Actions or with `lfr watchlist approve`), the
    approval times out, or the window ends (the deployment lapses): in the worker for WAIT_IN_WORKER_S, then
    deferred to ApprovalSettledTrigger, which looks every `poke_interval_s`. Emits SEALED with the version."""

    template_fields = ("version",)

    def __init__(self, *, version: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version = version

    def _timeout(self, context: Any) -> float | None:
        return _domain(run_options, context["params"]).approval_timeout_minutes

    def execute(self, context: Any) -> Any:
        import time

        version_id = self.version["version_id"]
        poll = float(_domain(run_options, context["params"]).poke_interval_s)
        in_worker_until = time.monotonic() + WAIT_IN_WORKER_S
        while True:
            sealed = _domain(orchestration.wait_for_approval_state, get_settings(), version_id,
                             self._timeout(context))
            if sealed is not None:
                return self._sealed(context, sealed)
            if time.monotonic() + poll > in_worker_until:
                break
            time.sleep(poll)
        deadline = _domain(orchestration.approval_deadline, get_settings(), version_id, self._timeout(context))
        log.info("waiting for the approval of version %s until %s (deferred)", version_id, deadline.isoformat())
        self.defer(trigger=ApprovalSettledTrigger(version_id=version_id, deadline=deadline.isoformat(), poll_s=poll),
                   method_name="execute_complete")

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        waited_out = bool(event and event.get("waited_out"))
        sealed = _domain(orchestration.wait_for_approval_state, get_settings(), self.version["version_id"],
                         self._timeout(context), waited_out=waited_out)
        if sealed is None:  # not settled after all (a clock step): wait again
            return self.execute(context)
        return self._sealed(context, sealed)

    def _sealed(self, context: Any, sealed: dict[str, Any]) -> dict[str, Any]:
        context["outlet_events"][SEALED].extra = {
            "deployment_id": sealed["deployment_id"], "version_id": sealed["version_id"], "version": sealed["version"],
            "approved_by": sealed["approved_by"], "criteria_sha256": sealed["criteria_sha256"]}
        return sealed


class WaitForAuthorisation(BaseOperator):
    """At the window's start, before activation: where the pack requires external prior authorisation (eu-ai-act,
    Art 5(3)) and none is recorded yet, waits, as WaitForApproval does (in the worker for WAIT_IN_WORKER_S, then
    deferred to AuthorisationSettledTrigger), until it is granted or an urgent start recorded, or the window
    ends. A refusal, or an urgency deadline passed, fails the run with the reason in its note."""

    template_fields = ("deployment",)

    def __init__(self, *, deployment: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployment = deployment

    def execute(self, context: Any) -> Any:
        import time

        deployment_id = self.deployment["deployment_id"]
        poll = float(_domain(run_options, context["params"]).poke_interval_s)
        in_worker_until = time.monotonic() + WAIT_IN_WORKER_S
        while True:
            state = _domain(orchestration.wait_for_authorisation_state, get_settings(), deployment_id)
            if state is not None:
                log.info("external authorisation: %s", state)
                return state
            if time.monotonic() + poll > in_worker_until:
                break
            time.sleep(poll)
        log.info("the list is approved; waiting for the external authorisation of deployment %s (deferred)",
                 deployment_id)
        self.defer(trigger=AuthorisationSettledTrigger(deployment_id=deployment_id, poll_s=poll),
                   method_name="execute_complete")

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return self.execute(context)  # decided in the worker; not settled after all (a clock step): wait again


class ApproveWatchlist(HITLOperator):
    """The authoriser's decision in Airflow's Required Actions. The brief and the respondents are read
    when the task runs (they depend on the built version); the answer is applied in the database as the
    person who gave it. No default answer: a timeout purges the draft and fails, it never approves."""

    template_fields = (*HITLOperator.template_fields, "version")

    def __init__(self, *, version: Any, **kwargs: Any) -> None:
        # The form's fields. The DAG's own params arrive in kwargs too; HITLOperator shows only the task's.
        params = ParamsDict(kwargs.pop("params", None) or {})
        params[approval.EVIDENCE_REASON] = Param(
            None, type=["null", "string"], maxLength=2000, source="task",
            title="Reason to seal it all the same (only where the body says the evidence does not resolve the list)",
            description="Recorded with your approval, in your name, and audited; leave it empty when the evidence "
                        "resolves the list")
        params[approval.GATE_FACE_PX] = Param(
            None, type=["null", "integer"], minimum=8, maximum=1024, source="task",
            title="Live gate face size in px (only to run below the reliable face size the body shows)",
            description="Leave it empty to run at the reliable face size; below it, give the reason next")
        params[approval.GATE_REASON] = Param(
            None, type=["null", "string"], maxLength=2000, source="task",
            title="Reason to run below the reliable face size",
            description="Recorded with the gate size, in your name, and audited")
        super().__init__(subject="Approve the watchlist", options=[approval.APPROVE, approval.REJECT],
                         defaults=None, multiple=False, params=params, **kwargs)
        self.version = version

    def _timeout_minutes(self, context: Any) -> float | None:
        return _domain(run_options, context["params"]).approval_timeout_minutes

    def execute(self, context: Any) -> Any:
        from airflow.configuration import conf

        options = _domain(run_options, context["params"])
        if options.approve_with == "cli":
            raise AirflowSkipException("headless run: the draft is approved with `lfr watchlist approve`")
        if conf.getboolean("core", "simple_auth_manager_all_admins", fallback=False) and not options.demo:
            raise AirflowFailException("[core] simple_auth_manager_all_admins lets anyone answer any approval; "
                                       "it is refused outside demo mode")
        version_id = self.version["version_id"]
        # A cancelled deployment or a draft already sealed headless: nothing to ask.
        if _domain(orchestration.wait_for_approval_state, get_settings(), version_id,
                   self._timeout_minutes(context)) is not None:
            return None
        asked = _domain(approval.brief, get_settings(), version_id, self._timeout_minutes(context))
        if not asked["respondents"]:
            raise AirflowFailException("no one may approve this list: assign an authoriser other than its "
                                       "builder (`lfr deployment assign ID --person NAME --role authoriser`), or "
                                       "name one as the authorising officer")
        self.subject, self.body = asked["subject"], asked["body"]
        self.assigned_users = [{"id": name, "name": name} for name in asked["respondents"]]
        self.response_timeout = timedelta(seconds=max(1.0, asked["seconds_left"]))
        log.info("asking %s to approve version %s", ", ".join(asked["respondents"]), version_id)
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        version_id = self.version["version_id"]
        try:
            super().execute_complete(context, event)
        except HITLTimeoutError:
            # No answer in time: a draft is purged, its deployment cancelled (ApprovalTimedOut) or, when the
            # window ended first, lapsed (DeploymentLapsed), and the run failed; a list sealed headless
            # meanwhile goes on.
            return _domain(orchestration.wait_for_approval_state, get_settings(), version_id,
                           self._timeout_minutes(context), waited_out=True)
        person = event["responded_by_user"]["id"]
        (choice,) = event["chosen_options"]
        given = event.get("params_input") or {}
        result = _domain(approval.answer, get_settings(), version_id, person, choice,
                         evidence_override=given.get(approval.EVIDENCE_REASON) or None,
                         gate_face_px=given.get(approval.GATE_FACE_PX), gate_reason=given.get(approval.GATE_REASON))
        if choice == approval.REJECT:
            raise AirflowFailException(f"{person} rejected watchlist version {version_id}; the draft is purged "
                                       f"and the deployment cancelled")
        log.info("approved by %s: %s", person, result)
        return result


class AssignReviewers(HITLOperator):
    """After the window (issue 28 item 5): asks the admins, under Required Actions, to name a reviewer for the alerts
    that need a post-deployment review. Nothing to review, or a headless run: skipped. No answer in time leaves
    them to `lfr alert review assign`; the run does not fail for it."""

    template_fields = (*HITLOperator.template_fields, "deployment")

    def __init__(self, *, deployment: Any, **kwargs: Any) -> None:
        params = ParamsDict(kwargs.pop("params", None) or {})
        params[review_request.REVIEWER] = Param(
            None, type=["null", "string"], maxLength=200, source="task", title="Reviewer (a person's name)",
            description="An operator, admin or auditor who took no part in these alerts' decisions")
        super().__init__(subject="Assign the post-deployment reviews",
                         options=[review_request.ASSIGN, review_request.LATER], defaults=None, multiple=False,
                         params=params, **kwargs)
        self.deployment = deployment

    def execute(self, context: Any) -> Any:
        if _domain(run_options, context["params"]).approve_with == "cli":
            raise AirflowSkipException("headless run: reviews are assigned with `lfr alert review assign`")
        asked = _domain(review_request.request, get_settings(), self.deployment["deployment_id"])
        if not asked["alerts"]:
            raise AirflowSkipException("no alert of this deployment needs a post-deployment review")
        if not asked["respondents"]:
            raise AirflowSkipException("no admin may assign the reviews; assign them with `lfr alert review assign`")
        self.subject, self.body = asked["subject"], asked["body"]
        self.assigned_users = [{"id": name, "name": name} for name in asked["respondents"]]
        self.response_timeout = REVIEW_REQUEST_TIMEOUT
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        try:
            super().execute_complete(context, event)
        except HITLTimeoutError:
            log.info("no admin assigned the reviews in time: assign them with `lfr alert review assign`")
            return {"assigned": [], "refused": {}, "timed_out": True}
        (choice,) = event["chosen_options"]
        reviewer = (event.get("params_input") or {}).get(review_request.REVIEWER)
        result = _domain(review_request.answer, get_settings(), self.deployment["deployment_id"],
                         event["responded_by_user"]["id"], choice, reviewer)
        log.info("post-deployment reviews: %s", result)
        return result


def _serve_scaling(edge: scaling.Edge) -> scaling.Scaled:
    """Pre-scale or lower the Ray Serve app for the window's edge: lfr_core.live.scaling decides, and `python -m
    ray_apps.scaling` applies it in a process of its own (so the DAG imports nothing of Ray Serve, and the
    worker never attaches to a Ray cluster). The app is optional: where it is not installed the step is logged
    and skipped; a scaling that fails is an outage of the live API, and the task retries."""
    request = scaling.for_window(get_settings(), edge)
    done = subprocess.run([sys.executable, "-m", "ray_apps.scaling", *request.as_args()], capture_output=True,
                          text=True, timeout=SCALING_TIMEOUT_S)
    reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    if done.returncode and "ModuleNotFoundError" in done.stderr:
        log.warning("Ray Serve scaling skipped (%s): ray_apps.scaling is not available", reason)
        return {"serve": f"skipped: {reason}"}
    if done.returncode:
        raise Unavailable(f"scaling Ray Serve at the window's {edge} failed: {reason}", service=Service.LIVE_API)
    result: scaling.Scaled = json.loads(done.stdout.strip().splitlines()[-1])
    log.info("Ray Serve at the window's %s: %s", edge, result)
    return result


@dag(
    dag_id="lfr_deployment",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=4,
    tags=["lfr", "deployment", "watchlist"],
    default_args={"owner": "lfr-platform", "retries": 2, "retry_delay": timedelta(seconds=30)},
    # The trigger form (airflow_plugins/lfr_trigger_form.py); the authorisers and staged folders it offers are
    # read as the file is parsed, free text when the database or the object store does not answer then.
    params=deployment_params(get_settings(), choices_now(get_settings())),
)
def lfr_deployment():
    @task
    def create_deployment() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        planner = _domain(orchestration.run_planner, params, context["dag_run"].triggering_user_name)
        created = _domain(orchestration.create_deployment_from_params, get_settings(), params, planner=planner)
        log.info("deployment %s (%s to %s)", created["deployment_id"], created["window_start"], created["window_end"])
        return created

    @task
    def build_watchlist(created: dict[str, Any]) -> dict[str, Any]:
        run_id = get_current_context()["run_id"]
        version = _domain(orchestration.build_watchlist, get_settings(), created["deployment_id"],
                          created["manifest_uri"], created["planner"], build_key=run_id)
        # Counts and reasons only: the log names no one on the list (the brief and `lfr watchlist show` do).
        for reason, n in version["rejections"].items():
            log.info("rejected %d: %s", n, reason)
        log.info("version %s (v%d): %d accepted, %d rejected; threshold %.4f (%s); awaiting approval by someone "
                 "other than %s", version["version_id"], version["version"], version["entries_accepted"],
                 version["entries_rejected"], version["threshold"], version["threshold_source"], version["built_by"])
        return version

    @task
    def activate(sealed: dict[str, Any]) -> dict[str, Any]:
        result = _domain(orchestration.activate_version, get_settings(), sealed["version_id"])
        log.info("activation: %s", result)
        if result["state"] == "active":
            result["serve"] = _domain(_serve_scaling, scaling.Edge.START)
        return result

    @task
    def expire(sealed: dict[str, Any]) -> dict[str, Any]:
        result = _domain(orchestration.expire_version, get_settings(), sealed["version_id"])
        result["serve"] = _domain(_serve_scaling, scaling.Edge.END)
        return result

    @task
    def purge(sealed: dict[str, Any]) -> dict[str, Any]:
        receipt = _domain(orchestration.purge_version, get_settings(), sealed["version_id"])
        log.info("purge receipt: %s", json.dumps(receipt, indent=2, default=str))
        return receipt

    @task(outlets=[REPORT])
    def publish_report(created: dict[str, Any]) -> dict[str, Any]:
        # Once: if the reconciling sweep published it first, it is read back, not published again.
        published = _domain(orchestration.publish_report, get_settings(), created["deployment_id"], once=True)
        log.info("transparency report (%s):\n%s", published["markdown_uri"], published["markdown"])
        get_current_context()["outlet_events"][REPORT].extra = published["event"]
        return published["summary"]

    # Also after a cancellation (publish_report skipped): a use cut short is notified, and a request refused counts
    # in the year's Art 5(6) statistics.
    @task(trigger_rule="none_failed")
    def notify_use(created: dict[str, Any]) -> dict[str, Any]:
        result = _domain(orchestration.notify_use, get_settings(), created["deployment_id"])
        log.info("notification of use (Art 5(4)): %s", result)
        return result

    created = create_deployment()
    version = build_watchlist(created)
    approved = ApproveWatchlist(task_id="approve_watchlist", version=version)
    sealed = WaitForApproval(task_id="wait_for_approval", version=version, outlets=[SEALED],
                             trigger_rule="none_failed")
    started = WaitForWindowEdge(task_id="wait_for_window_start", deployment=created, edge="start")
    authorised = WaitForAuthorisation(task_id="wait_for_authorisation", deployment=created)
    ended = WaitForWindowEdge(task_id="wait_for_window_end", deployment=created, edge="end")
    activated = activate(sealed.output)
    expired = expire(sealed.output)
    purged = purge(sealed.output)
    report = publish_report(created)
    notified = notify_use(created)
    reviewers = AssignReviewers(task_id="assign_reviewers", deployment=created)

    approved >> sealed >> started >> authorised >> activated >> ended >> expired >> purged >> report >> [notified, reviewers]


lfr_deployment()
