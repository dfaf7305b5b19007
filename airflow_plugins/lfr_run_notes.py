"""Why a run stopped, on the run's page: a failed DAG run's note says what a task refused and why.

A task that fails on what retrying cannot fix (lfr_task_errors: bad input, a refusal by the rules) leaves its
reason in an XCom under lfr_task_errors.RUN_NOTE_KEY; when the run fails, this listener, which Airflow runs in the scheduler
(and in `dag.test()`), copies the reasons into the run's note, which the run's page shows above its tasks. So a
planner whose deployment was refused by the run's first task reads the reason there, not in a task log.

Why a listener: in Airflow 3.3 a task cannot set its run's note (the Task SDK has no call for it,
apache/airflow#64890; apache/airflow#69403 adds one), and the REST API would need a person's token in the
worker; the scheduler holds the run in its own database session when it marks the run failed.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin
from lfr_task_errors import RUN_NOTE_KEY  # airflow_plugins/ (the plugins folder is on sys.path)

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

log = logging.getLogger(__name__)

NOTE_LIMIT = 1000  # dag_run_note.content is a String(1000)


def run_note(reasons: list[tuple[str, str]]) -> str:
    """The note for a run whose tasks refused with these (task id, reason) pairs, first first."""
    text = "\n\n".join(f"**{task_id}** refused this run: {reason}" for task_id, reason in reasons)
    return text if len(text) <= NOTE_LIMIT else text[:NOTE_LIMIT - 1] + "…"


@hookimpl
def on_dag_run_failed(dag_run: DagRun, msg: str) -> None:
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    # The scheduler's run is in its session; `dag.test()` hands over a detached copy, which it merges into its
    # session (the thread's scoped one) after this: the note goes on the session's own instance.
    session, run = object_session(dag_run), dag_run
    if session is None and settings.Session is not None:
        session = settings.Session()
        run = session.get(DagRun, dag_run.id)
    if session is None or run is None:
        log.warning("run %s failed outside a database session: its note is not set", dag_run.run_id)
        return
    rows: Any = session.scalars(
        select(XComModel).where(XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id,
                                XComModel.key == RUN_NOTE_KEY).order_by(XComModel.timestamp))
    reasons = [(row.task_id, str(XComModel.deserialize_value(row))) for row in rows]
    if reasons:
        run.note = run_note(reasons)


class LfrRunNotesPlugin(AirflowPlugin):
    name = "lfr_run_notes"
    # Airflow's plugin interface declares this as a plain class attribute; a ClassVar would clash with it.
    listeners = [sys.modules[__name__]]  # noqa: RUF012
