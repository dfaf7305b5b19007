"""
### lfr_alert_retention: delete alerts past their retention period

Daily: alerts (and their probe crops) raised longer ago than their deployment's policy pack keeps them
(`retention.alerts_days`; `alerts.retention_days` for a deployment planned before packs) are deleted, except
those on legal hold; the deletion is audited with the ids removed and the number kept on hold. Calls
`lfr_core.workflow.sweeps.apply_alert_retention`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task
from lfr_task_errors import domain  # airflow_plugins/ (the plugins folder is on sys.path)

from lfr_core.config import get_settings
from lfr_core.workflow import tasks as orchestration


@dag(
    dag_id="lfr_alert_retention",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["lfr", "alerts", "retention"],
    default_args={"owner": "lfr-platform", "retries": 2, "retry_delay": timedelta(minutes=5)},
)
def lfr_alert_retention():
    @task
    def delete_expired_alerts() -> dict[str, int]:
        return domain(orchestration.apply_alert_retention, get_settings())

    delete_expired_alerts()


lfr_alert_retention()
