"""
### lfr_deployment_reconcile: every deployment where its clock says, whatever became of its run

Every minute, `lfr_core.workflow.sweeps.sweep_watchlists` finishes what a deployment's own run (`lfr_deployment`)
left undone, so that no deployment depends on one Airflow task surviving:

- an approved list of a planned deployment goes live inside its window (a run that died before activating);
- a list active outside its window is taken down;
- within a minute of the window's end, every version is expired and purged with a receipt;
- a deployment whose window ended without it going live **lapses** (`deployment.lapsed`, with the reason);
- a closed deployment's transparency report is published once, if its run did not publish it.

Each step runs under the deployment's lock and reads its state again first, so the run and this sweep never
both do it; with nothing to do, a run reads one query and writes nothing (no audit row, no checkpoint).
Each decision is checkpointed at once. `lfr_watchlist_expiry` runs the same sweep on the checkpoint timer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from lfr_task_errors import domain  # airflow_plugins/ (the plugins folder is on sys.path)

from lfr_core.config import get_settings
from lfr_core.workflow import tasks as orchestration

# Within a minute of a window's end (issue 31): the run's own expiry is at the edge; this is the net.
EVERY = timedelta(minutes=1)


@dag(
    dag_id="lfr_deployment_reconcile",
    doc_md=__doc__,
    schedule=EVERY,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["lfr", "deployment", "watchlist", "retention"],
    default_args={"owner": "lfr-platform", "retries": 2, "retry_delay": timedelta(seconds=10)},
)
def lfr_deployment_reconcile():
    @task
    def reconcile() -> dict[str, Any]:
        return domain(orchestration.reconcile_deployments, get_settings())

    reconcile()


lfr_deployment_reconcile()
