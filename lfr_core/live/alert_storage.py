"""An alert on its way to storage, and what "storage is down" looks like from the live path.

An alert is raised durably or not at all (lfr_core/alerts/service.py): its row, audit record and probe crop are
stored before the camera is answered, the crop held in PostgreSQL while the object store is down and moved
there later. Nothing is held in a process's memory, so no process's death can lose an alert the camera was
told about. With PostgreSQL down the alert cannot be stored: the pipeline takes the decision back and the
track decides again on a later frame (lfr_core/live/pipeline.py). The alert's id is fixed when it is
decided, so a retry of the same store stores it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from lfr_core.alerts.service import NewAlert
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.storage.objectstore import ObjectStoreUnavailable

# What "storage is down" looks like from here: the alert is not stored, never a server error.
STORAGE_DOWN: tuple[type[BaseException], ...] = (DatabaseUnavailable, psycopg.OperationalError, ObjectStoreUnavailable)


@dataclass(frozen=True)
class PendingAlert:
    alert_id: uuid.UUID
    alert: NewAlert
    probe_crop_jpeg: bytes


StoreAlert = Callable[[PendingAlert], Awaitable[Any]]
