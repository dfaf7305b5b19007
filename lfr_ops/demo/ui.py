"""The calls the user interfaces make, for the demo to walk the story through them: Airflow's REST API as
the planner who triggers a run and the authoriser who answers its Required Action (the Trigger form and
the Approve button), and the live service's API as the operator on the console. Plain HTTP: nothing here
imports Airflow or Ray."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from lfr_core.config import Settings
from lfr_core.errors import Refused
from lfr_core.workflow.approval import EVIDENCE_REASON, form_answer

DAG_ID = "lfr_deployment"
APPROVAL_TASK = "approve_watchlist"
ANSWER_AFTER_S = 5.0
DEMO_EVIDENCE_REASON = ("demonstration on the embedded default: no calibration of the model is recorded here, so "
                        "no impostor evidence can resolve the list; sealed to show the live path, not to deploy")


class AirflowAs:
    """Airflow's REST API as a person of the platform, signed in with their own name and platform password
    (Airflow checks it with PostgreSQL: airflow_plugins/lfr_auth_manager.py)."""

    def __init__(self, settings: Settings, user: str, password: str) -> None:
        from lfr_ops.local_stack import airflow_service

        self.base = airflow_service.status(settings)["address"]
        token = httpx.post(f"{self.base}/auth/token", json={"username": user, "password": password}, timeout=30)
        token.raise_for_status()
        self.api = httpx.Client(base_url=f"{self.base}/api/v2", timeout=30,
                                headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    def trigger(self, conf: dict[str, Any]) -> str:
        """What the Trigger form does: a run of the deployment DAG with these parameters."""
        run = self.api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        run.raise_for_status()
        return run.json()["dag_run_id"]

    def _hitl(self, run_id: str) -> str:
        return f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{APPROVAL_TASK}/-1/hitlDetails"

    def required_action(self, run_id: str) -> dict[str, Any] | None:
        """The approval request, once its task waits for an answer (as a person finds it under Required
        Actions): an answer sent while the task is still parking itself is not seen by it."""
        task = self.api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{APPROVAL_TASK}")
        if task.status_code != 200 or task.json().get("state") != "awaiting_input":
            return None
        found = self.api.get(self._hitl(run_id))
        return found.json() if found.status_code == 200 else None

    def answer(self, run_id: str, choice: str, reason: str | None = None) -> dict[str, Any]:
        """What the Approve (or Reject) button under Required Actions does. Not within seconds of the task
        parking itself: Airflow 3.3's scheduler then still expects the parking run's end, takes the resumed
        task for an outside change and retries it, and the retry asks again (a person never answers so fast)."""
        time.sleep(ANSWER_AFTER_S)
        body: dict[str, Any] = {"chosen_options": [choice]}
        if reason is not None:  # the form's one field: a reason to seal a list its evidence does not resolve
            body["params_input"] = form_answer(**{EVIDENCE_REASON: reason})
        answered = self.api.patch(self._hitl(run_id), json=body)
        answered.raise_for_status()
        return answered.json()

    def answer_if_asked(self, run_id: str, choice: str) -> bool:
        """Answer the approval request if it waits for an answer no one has given: on a loaded machine Airflow
        may take an answer given seconds after the task parked for an outside change and retry the task, and
        the retry asks again, as a person would then see it asked again under Required Actions."""
        asked = self.required_action(run_id)
        if not asked or asked.get("response_received"):
            return False
        # The demo records no calibration of the model (that takes a labelled evaluation set and minutes), so no
        # impostor evidence resolves its list and the body asks for a reason to seal it all the same: the
        # authoriser gives one, recorded in their name, as a person must (docs/authoriser.md).
        body = asked.get("body") or ""
        needs_reason = choice == "Approve" and ("needs a recorded reason" in body or "must record the decision" in body)
        self.answer(run_id, choice, DEMO_EVIDENCE_REASON if needs_reason else None)
        return True

    def run_state(self, run_id: str) -> str:
        return self.api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}").json()["state"]

    def ui(self, path: str) -> str:
        return f"{self.base}{path}"


class ConsoleAs:
    """The live service's API as a signed-in person: the operator console's own calls."""

    def __init__(self, address: str, name: str, password: str, reason: str) -> None:
        token = httpx.post(f"{address}/v1/auth/token", data={"username": name, "password": password}, timeout=30)
        token.raise_for_status()
        self.reason = reason
        self.api = httpx.Client(base_url=address, timeout=30,
                                headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    def pending(self, deployment_id: str) -> list[dict[str, Any]]:
        listed = self.api.get(f"/v1/deployments/{deployment_id}/alerts",
                              params={"status": "pending", "reason": self.reason})
        listed.raise_for_status()
        return listed.json()

    def decide(self, alert_id: str, outcome: str, note: str) -> dict[str, Any]:
        decided = self.api.post(f"/v1/alerts/{alert_id}/adjudication", json={"outcome": outcome, "note": note})
        decided.raise_for_status()
        return decided.json()

    def record_outcome(self, alert_id: str, outcome: str, note: str, *, disposal: str | None = None) -> dict[str, Any]:
        recorded = self.api.post(f"/v1/alerts/{alert_id}/engagement",
                                 json={"outcome": outcome, "disposal": disposal, "note": note})
        recorded.raise_for_status()
        return recorded.json()

    def dashboard(self, deployment_id: str) -> dict[str, Any]:
        return self.api.get(f"/v1/deployments/{deployment_id}/dashboard").json()


REPORT_EVERY_S = 10.0  # a wait says how it stands this often: long enough not to flood a terminal or a log


class DemoStopped(Refused):
    """The story cannot go on (the deployment lapsed or was cancelled, its run failed): the reason, at once."""


def wait(fetch: Callable[[], Any], done: Callable[[Any], Any], timeout_s: float, what: str, poll_s: float = 1.0,
         stop: Callable[[Any], str | None] | None = None, *, report: Callable[[str], None] | None = None,
         detail: Callable[[Any], str | None] | None = None, every_s: float = REPORT_EVERY_S,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Poll `fetch` until `done`; `stop(value)` returning a reason ends the wait at once with DemoStopped.

    Every `every_s` seconds `report` is told what is awaited, for how long so far and how long is left (with
    `detail(value)`, what the last answer said), so a person at the terminal knows the demo is alive and why.
    A poll the server does not answer in its client's time (a loaded Airflow API server) is a poll that found
    nothing yet: the wait goes on until its own deadline, and says so if that comes."""
    started = clock()
    deadline = started + timeout_s
    next_report = started + every_s
    value: Any = None
    while clock() < deadline:
        try:
            value = fetch()
        except httpx.TimeoutException as slow:
            value = f"no answer in time ({type(slow).__name__})"
            sleep(poll_s)
            continue
        if done(value):
            return value
        why = stop(value) if stop else None
        if why:
            raise DemoStopped(f"stopped waiting for {what}: {why}")
        now = clock()
        if report is not None and now >= next_report:
            said = detail(value) if detail else None
            report(f"waiting for {what}: {_duration(now - started)} so far, {_duration(deadline - now)} left"
                   + (f" ({said})" if said else ""))
            next_report = now + every_s
        sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {value})")


def _duration(seconds: float) -> str:
    """"2 min 05 s" or "45 s"."""
    s = max(0, round(seconds))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
