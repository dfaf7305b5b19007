"""Optional services that `lfr services up --airflow/--serve` start: Airflow and Ray Serve."""

from __future__ import annotations

from typing import Any

from lfr_core.config import Settings
from lfr_ops.local_stack import airflow_service, serve_service


def up(settings: Settings, *, airflow: bool, serve: bool) -> dict[str, bool]:
    started: dict[str, bool] = {}
    if airflow:
        started["airflow"] = airflow_service.start(settings)
    if serve:
        started["serve"] = serve_service.start(settings)
    return started


def down(settings: Settings) -> dict[str, bool]:
    return {"serve": serve_service.stop(settings), "airflow": airflow_service.stop(settings)}


def status(settings: Settings) -> dict[str, Any]:
    return {"airflow": airflow_service.status(settings), "serve": serve_service.status(settings)}
