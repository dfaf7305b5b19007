"""
### lfr_watchlist_expiry: the sweep on the audit checkpoint timer

Every `airflow.expiry_sweep_minutes` minutes (default 15): the same sweep as `lfr_deployment_reconcile`
(every minute; `lfr_core.workflow.sweeps.sweep_watchlists`): a watchlist found **active outside its deployment
window** is deactivated at once (the audit log says "found active outside its window"), an approved list
goes live inside its window, any version whose window ended (plus `watchlist.expiry_grace_minutes`, 0 by
default) is expired and purged with a receipt, a deployment that never went live lapses, and a report a
run left unpublished is published; then a signed audit checkpoint of the whole log. A deployment that
cannot be finished fails the run (the others are still swept) and is retried by the next sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from lfr_task_errors import domain  # airflow_plugins/ (the plugins folder is on sys.path)

from lfr_core.config import get_settings
from lfr_core.workflow import tasks as orchestration


@dag(
    dag_id="lfr_watchlist_expiry",
    doc_md=__doc__,
    schedule=timedelta(minutes=get_settings().airflow.expiry_sweep_minutes),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["lfr", "watchlist", "retention"],
    default_args={"owner": "lfr-platform", "retries": 2, "retry_delay": timedelta(minutes=1)},
)
def lfr_watchlist_expiry():
    @task
    def sweep() -> dict[str, Any]:
        return domain(orchestration.sweep_watchlists, get_settings())

    sweep()


lfr_watchlist_expiry()
