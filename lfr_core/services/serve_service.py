"""Placeholder: replaced by the serve issue. Contract: start(settings) -> bool (True if started now),
stop(settings) -> bool (True if something was stopped), status(settings) -> dict with at least
'healthy' (bool), 'address', 'pid' (None when not running)."""

from __future__ import annotations

from typing import Any

from lfr_core.config import Settings


def start(settings: Settings) -> bool:
    raise NotImplementedError("serve is not available yet")


def stop(settings: Settings) -> bool:
    return False


def status(settings: Settings) -> dict[str, Any]:
    return {"healthy": False, "address": None, "pid": None, "note": "not started"}
