"""
### lfr_deployment_report: (re)publish a deployment's transparency report

`lfr_deployment` publishes the report as its last task (and emits `report://lfr/published`). This DAG
rebuilds it on demand, e.g. after late adjudications: trigger it with the deployment id. The report
(watchlist size, faces seen, alerts and outcomes, false alerts per 1,000 faces, projected vs observed
false alerts) goes to `s3://<reports bucket>/reports/<deployment_id>/report.json|.md` and is printed in the
task log. Calls `lfr_core.reporting.reports.publish_report`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task
from lfr_task_errors import domain  # airflow_plugins/ (the plugins folder is on sys.path)

from lfr_core.config import get_settings
from lfr_core.workflow import tasks as orchestration

log = logging.getLogger(__name__)
REPORT = Asset(**orchestration.REPORT_ASSET)


@dag(
    dag_id="lfr_deployment_report",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["lfr", "report", "transparency"],
    default_args={"owner": "lfr-platform", "retries": 2, "retry_delay": timedelta(seconds=30)},
    params={"deployment_id": Param("", type="string", minLength=1, title="Deployment id")},
)
def lfr_deployment_report():
    @task(outlets=[REPORT])
    def publish_report() -> dict[str, Any]:
        deployment_id = get_current_context()["params"]["deployment_id"]
        published = domain(orchestration.publish_report, get_settings(), deployment_id)
        log.info("transparency report (%s):\n%s", published["markdown_uri"], published["markdown"])
        get_current_context()["outlet_events"][REPORT].extra = published["event"]
        return published["summary"]

    publish_report()


lfr_deployment_report()
