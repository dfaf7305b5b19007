"""Optional services (Airflow, Ray Serve) that `lfr services` starts on request."""

from __future__ import annotations

from typing import Any

from lfr_core.config import Settings


def up(settings: Settings, *, airflow: bool, serve: bool) -> dict[str, bool]:
    return {}


def down(settings: Settings) -> dict[str, bool]:
    return {}


def status(settings: Settings) -> dict[str, Any]:
    return {}
