"""The Airflow table (airflow_plugins/lfr_task_errors.py): every domain error ends a DAG task one way, failing at
once what retrying cannot fix, retrying an outage, skipping the rest of a cancelled deployment's run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_plugins.lfr_task_errors import ENDINGS, Ending, domain, ending
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.errors import Incomplete, InvalidInput, LfrError, Misconfigured, NotFound, Refused, Unavailable
from lfr_core.workflow.sweeps import SweepIncomplete
from lfr_core.workflow.tasks import DeploymentCancelled, DeploymentLapsed
from tests.error_classes import domain_errors

BY_KIND = {InvalidInput: Ending.FAIL, NotFound: Ending.FAIL, Refused: Ending.FAIL, Misconfigured: Ending.FAIL,
           Unavailable: Ending.RETRY, Incomplete: Ending.RETRY}


def test_the_table_ends_every_domain_error_as_its_kind_or_its_own_row_says() -> None:
    for cls in domain_errors() - {LfrError}:
        (kind,) = (k for k in BY_KIND if issubclass(cls, k))
        own = next(c for c in cls.__mro__ if c in ENDINGS)
        assert ending(cls) == BY_KIND[kind] or own is not kind, cls
    assert ending(DeploymentCancelled) == Ending.SKIP


def _raising(error: Exception) -> Callable[[], None]:
    def task() -> None:
        raise error
    return task


@pytest.mark.parametrize("error", [InvalidInput("window_end must be after window_start"), NotFound("no deployment x"),
                                   DeploymentLapsed("deployment x lapsed: no approval in time")])
def test_what_retrying_cannot_fix_fails_the_task_at_once(error: LfrError) -> None:
    with pytest.raises(AirflowFailException, match=str(error)):
        domain(_raising(error))


@pytest.mark.parametrize("error", [DatabaseUnavailable("PostgreSQL at 127.0.0.1:9 is unavailable"),
                                   SweepIncomplete("1 of 2 deployments not finished")])
def test_an_outage_or_a_half_done_sweep_is_raised_as_it_is_so_the_task_retries(error: LfrError) -> None:
    with pytest.raises(type(error)) as raised:
        domain(_raising(error))
    assert raised.value is error


def test_a_cancelled_deployment_skips_the_rest_of_its_run() -> None:
    with pytest.raises(AirflowSkipException, match="cancelled"):
        domain(_raising(DeploymentCancelled("deployment x was cancelled: rain")))
    assert domain(lambda a, b=0: a + b, 1, b=2) == 3
