"""Airflow triggers of the deployment DAG (dags/lfr_deployment.py), run by the triggerer.

Waits in a deployment run defer here instead of poking in reschedule mode: a rescheduled sensor loses
tries to a scheduler race under load (apache/airflow#71172, unfixed in 3.3.2), and each deferral is one
hand-over to the triggerer and one back, not one per poke. Here, not in lfr_core (which imports no Airflow):
the triggerer imports it by its classpath, `lfr_triggers.ApprovalSettledTrigger`, from the plugins folder,
which Airflow puts on sys.path; the database reads run in a thread, off the triggerer's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class ApprovalSettledTrigger(BaseTrigger):
    """Fires once a draft no longer waits for an approval (sealed, purged, or its deployment cancelled or
    lapsed) or at `deadline` (`orchestration.approval_deadline`), polling the database every `poll_s`; the
    task then decides, in the worker, what that means (`orchestration.wait_for_approval_state`)."""

    def __init__(self, version_id: str, deadline: str, poll_s: float) -> None:
        super().__init__()
        self.version_id, self.deadline, self.poll_s = version_id, deadline, float(poll_s)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"version_id": self.version_id, "deadline": self.deadline, "poll_s": self.poll_s})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from lfr_core.config import get_settings
        from lfr_core.workflow import tasks as orchestration

        deadline = datetime.fromisoformat(self.deadline)
        settings = get_settings()
        while True:
            if await asyncio.to_thread(orchestration.approval_settled, settings, self.version_id):
                yield TriggerEvent({"version_id": self.version_id, "waited_out": False})
                return
            left = (deadline - datetime.now(UTC)).total_seconds()
            if left <= 0:
                yield TriggerEvent({"version_id": self.version_id, "waited_out": True})
                return
            await asyncio.sleep(min(self.poll_s, left))


class AuthorisationSettledTrigger(BaseTrigger):
    """Fires once an approved list's use no longer waits for its external authorisation (granted, refused, an
    urgent start recorded, the deployment cancelled) or its window ends, polling the database every `poll_s`; the
    task then decides in the worker (`orchestration.wait_for_authorisation_state`)."""

    def __init__(self, deployment_id: str, poll_s: float) -> None:
        super().__init__()
        self.deployment_id, self.poll_s = deployment_id, float(poll_s)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"deployment_id": self.deployment_id, "poll_s": self.poll_s})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from lfr_core.config import get_settings
        from lfr_core.workflow import tasks as orchestration

        settings = get_settings()
        while not await asyncio.to_thread(orchestration.authorisation_settled, settings, self.deployment_id):
            await asyncio.sleep(self.poll_s)
        yield TriggerEvent({"deployment_id": self.deployment_id})
