"""Alerts held while storage is down, so that an outage loses none and suppresses none.

An alert is raised durably or not at all: stored (row, audit record and probe crop together:
lfr_core/alerts.py) or, when PostgreSQL or the object store is unavailable, held here and retried until
it is stored, once (the alert's id is fixed when it is decided). The outbox is bounded: when it is full
the decision is taken back, so the same person is decided again on a later frame instead of being quietly
dropped. What it holds, a matched person's probe crop, lives only in this process's memory.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from lfr_core.alerts import NewAlert
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.storage.objectstore import ObjectStoreUnavailable

# What "storage is down" looks like from here: retry later, never a server error.
STORAGE_DOWN: tuple[type[BaseException], ...] = (DatabaseUnavailable, psycopg.OperationalError, ObjectStoreUnavailable)


@dataclass(frozen=True)
class PendingAlert:
    alert_id: uuid.UUID
    alert: NewAlert
    probe_crop_jpeg: bytes


StoreAlert = Callable[[PendingAlert], Awaitable[Any]]


class AlertOutbox:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: deque[PendingAlert] = deque()

    def __len__(self) -> int:
        return len(self._held)

    def held(self) -> list[PendingAlert]:
        return list(self._held)

    def hold(self, pending: PendingAlert) -> bool:
        """Keep an alert for a later try; False when the outbox is full."""
        if len(self._held) >= self.capacity:
            return False
        self._held.append(pending)
        return True

    async def drain(self, store: StoreAlert) -> int:
        """Store what is held, oldest first, until storage fails again; returns how many were stored."""
        stored = 0
        while self._held:
            try:
                await store(self._held[0])
            except STORAGE_DOWN:
                break
            self._held.popleft()
            stored += 1
        return stored
