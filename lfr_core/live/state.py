"""A deployment as the live service holds it: its gate, its active list in memory, its cameras' tracks.

Reloaded from the database every few seconds (`stale`): a newly activated version replaces the matcher
and starts the tracks afresh (tracks of the old list carry nothing over); an expired, cancelled or
closed deployment closes the gate, so its frames are refused before they are even decoded.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from lfr_core.deployments import service as deployments
from lfr_core.matching.matcher import ExactMatcher, ModelMismatch
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.watchlist.lifecycle import deployment_active_version, load_matcher

log = logging.getLogger(__name__)


@dataclass
class LiveDeployment:
    deployment: dict[str, Any]
    version: dict[str, Any] | None
    matcher: ExactMatcher | None
    tracker: Tracker
    loaded_at: float  # monotonic seconds
    error: str | None = None

    @classmethod
    def load(cls, conn: psycopg.Connection, deployment_id: uuid.UUID, embedder_sha256: str, params: TrackParams,
             *, now: float, current: LiveDeployment | None = None) -> LiveDeployment:
        """The deployment as the database has it now; the matcher and tracks are kept while its active
        version stays the same. A list made with another embedder is refused (scores would not compare)."""
        deployment = deployments.get(conn, deployment_id)
        version = deployment_active_version(conn, deployment_id)
        tracker = current.tracker if current else Tracker(params)
        matcher, error = None, None
        if version is not None:
            if current and current.matcher and current.matcher.version_id == version["id"]:
                matcher = current.matcher
            else:
                matcher = load_matcher(conn, version["id"])
                try:
                    matcher.check_model(embedder_sha256)
                except ModelMismatch as e:
                    matcher, error = None, str(e)
                else:
                    tracker = Tracker(params)  # a new list: tracks of the old one carry nothing over
                    log.info("deployment %s: version %s loaded (%d templates)", deployment_id, version["version"],
                             len(matcher))
        return cls(deployment, version, matcher, tracker, now, error)

    def face_sizes(self, min_face_px: int, reliable_face_px: int) -> tuple[int, int]:
        """(the face size the live gate admits from, the size faces count as recognisable from) for the active
        version: as it recorded them when built, with an authoriser's decided gate (lfr_core/watchlist/gate.py);
        a version built before they were recorded keeps the configured minimum and the model's reliable size."""
        v = self.version or {}
        reliable = int(v.get("reliable_face_px") or reliable_face_px)
        gate = int(v.get("gate_face_px") or v.get("reliable_face_px") or min_face_px)
        return gate, reliable

    def stale(self, now: float, max_age_s: float) -> bool:
        return now - self.loaded_at >= max_age_s

    def gate(self, now: datetime | None = None) -> str | None:
        """Why matching may not run now, or None."""
        if self.error:
            return self.error
        if self.deployment["status"] in ("cancelled", "closed"):
            return f"deployment {self.deployment['id']} is {self.deployment['status']}; frames are refused"
        if self.version is None or self.matcher is None:
            return (f"deployment {self.deployment['id']} has no active watchlist version "
                    f"(status {self.deployment['status']}); frames are refused")
        if not deployments.in_window(self.deployment, now):
            return (f"outside the deployment window {self.deployment['window_start'].isoformat()} to "
                    f"{self.deployment['window_end'].isoformat()}; frames are refused")
        return None
