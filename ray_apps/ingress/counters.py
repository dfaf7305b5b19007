"""Per-camera counters (numbers only), written to the database on a timer rather than per frame: the
transparency report's faces seen (and by whether they could have been recognised) and frames refused, and the
console's dropped frames (by the service, and those the camera reported it did not send) and faces below the
reliable size per camera."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from lfr_core.alerts import service as alerts
from lfr_core.alerts.model import NO_FACES, FaceBands

log = logging.getLogger("ray.serve")


@dataclass
class CameraCounts:
    frames: int = 0
    faces: int = 0
    refused: int = 0
    dropped: int = 0
    not_sent: int = 0  # frames the camera read and did not send, as it reported them (lfr_core/live/wire.py)
    bands: FaceBands = field(default_factory=FaceBands)
    reliable_face_px: int | None = None  # what the bands were counted against, the latest

    def add(self, other: CameraCounts) -> None:
        self.frames, self.faces, self.refused, self.dropped, self.not_sent = (
            self.frames + other.frames, self.faces + other.faces, self.refused + other.refused,
            self.dropped + other.dropped, self.not_sent + other.not_sent)
        self.bands += other.bands
        if other.reliable_face_px is not None:
            self.reliable_face_px = other.reliable_face_px


class Counters:
    def __init__(self, db: Callable[..., Awaitable[Any]], flush_every_s: float) -> None:
        self.db = db
        self.flush_every_s = flush_every_s
        self._pending: dict[tuple[uuid.UUID, str], CameraCounts] = {}

    def count(self, deployment_id: uuid.UUID, camera_id: str, *, frames: int = 0, faces: int = 0,
              refused: int = 0, dropped: int = 0, bands: FaceBands = NO_FACES,
              reliable_face_px: int | None = None, not_sent: int = 0) -> None:
        self._pending.setdefault((deployment_id, camera_id), CameraCounts()).add(
            CameraCounts(frames, faces, refused, dropped, not_sent, bands, reliable_face_px))

    async def run_forever(self) -> None:
        """Flush on a timer, not on traffic: the last frames before a window closes must reach the report
        even when no frame follows them."""
        while True:
            await asyncio.sleep(self.flush_every_s)
            await self.flush()

    async def flush(self) -> int:
        """Write what is pending; on failure keep it for the next flush. Returns how many cameras were written."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0

        def write(conn: psycopg.Connection) -> None:
            for (dep, cam), c in pending.items():
                alerts.record_counts(conn, dep, cam, frames=c.frames, faces_seen=c.faces, frames_refused=c.refused,
                                     frames_dropped=c.dropped, bands=c.bands, reliable_face_px=c.reliable_face_px,
                                     frames_not_sent=c.not_sent)

        try:
            await self.db(write)
        except (psycopg.Error, OSError) as e:
            log.warning("counter flush failed (%s); numbers kept for the next flush", type(e).__name__)
            for key, c in pending.items():
                self._pending.setdefault(key, CameraCounts()).add(c)
            return 0
        return len(pending)
