"""How a DAG task ends on each kind of domain error (lfr_core/errors.py): the one Airflow table.

Retrying cannot fix a bad window, a missing deployment, a refusal by the rules or a wrong installation, so
those fail the task at once (AirflowFailException: no retry); a cancelled deployment skips the rest of its
run; a service that did not answer, or an operation that stopped part-way, is raised unchanged, so the
task's retries apply. The DAGs import this module from the plugins folder, which Airflow puts on sys.path
(as they do lfr_triggers); lfr_core itself imports nothing of Airflow.

A task that fails at once also leaves its reason for the run's note (RUN_NOTE_KEY, an XCom): when the run fails,
lfr_run_notes copies it there, so the run's page says why (a planner's refused request, a lapsed deployment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from lfr_core.errors import Incomplete, InvalidInput, LfrError, Misconfigured, NotFound, Refused, Unavailable, row_for
from lfr_core.workflow.tasks import DeploymentCancelled

T = TypeVar("T")

RUN_NOTE_KEY = "lfr_run_note"  # the XCom a failing task leaves its reason in, for its run's note


class Ending(StrEnum):
    FAIL = "fail"  # at once, without retrying
    SKIP = "skip"  # the rest of the run is skipped
    RETRY = "retry"  # the task's retries apply


# Each kind's ending; a class ends as the nearest of its ancestors listed here.
ENDINGS: dict[type[LfrError], Ending] = {
    InvalidInput: Ending.FAIL,
    NotFound: Ending.FAIL,
    Refused: Ending.FAIL,  # approval timed out, the deployment lapsed, the wrong role
    DeploymentCancelled: Ending.SKIP,
    Misconfigured: Ending.FAIL,
    Unavailable: Ending.RETRY,
    Incomplete: Ending.RETRY,
}


def ending(kind: type[LfrError]) -> Ending:
    return row_for(ENDINGS, kind, "the Airflow error table")


@contextmanager
def task_errors() -> Iterator[None]:
    """Domain errors raised inside end the task as the table says."""
    try:
        yield
    except LfrError as e:
        how = ending(type(e))
        if how is Ending.FAIL:
            leave_run_note(str(e))
            raise AirflowFailException(f"{type(e).__name__}: {e}") from e
        if how is Ending.SKIP:
            raise AirflowSkipException(str(e)) from e
        raise


def leave_run_note(reason: str) -> None:
    """Leave `reason` for the note of the running task's DAG run (outside a task, as in the unit tests, nothing)."""
    from airflow.sdk import get_current_context

    try:
        context = get_current_context()
    except RuntimeError:  # no task is running here
        return
    context["ti"].xcom_push(key=RUN_NOTE_KEY, value=reason)


def domain(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) with its domain errors ending the task as the table says."""
    with task_errors():
        return fn(*args, **kwargs)
