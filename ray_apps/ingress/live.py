"""The cameras' side of an ingress replica: each deployment's live state, the frame pipeline
(lfr_core/live/pipeline.py) with the detector and embedder replicas as its models, the deployment's gate, the
bound on each camera's frames in progress, and the counting of every frame. Everything about a non-matched
face stays in this process's memory and goes when its track ends; logs carry counts only.

A camera new to this replica starts with its cooldowns from the alert log (its frames reach the replica that
holds its tracks: ray_apps/ingress/routing.py). Two tasks run beside the frames: the counters' flusher and
the mover of alert crops held in PostgreSQL while the object store was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import numpy as np
from fastapi import HTTPException

from lfr_core.alerts import service as alerts_lib
from lfr_core.config import Settings
from lfr_core.deployments.cameras import reliable_face_px
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.live.alert_storage import STORAGE_DOWN, PendingAlert
from lfr_core.live.pipeline import (
    AlertsNotRaised,
    DetectorModelMismatch,
    FramePipeline,
    FrameRefused,
    ModelUnavailable,
    PipelineTimeouts,
)
from lfr_core.live.records import DetectedFrame, Embedded, FrameOutcome, RefusedFrame
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.tracker import TrackParams
from lfr_core.storage.objectstore import ObjectStore
from ray_apps.ingress import frames
from ray_apps.ingress.contract import AlertOut, FrameResult
from ray_apps.ingress.counters import Counters
from ray_apps.ingress.metrics import Metrics
from ray_apps.options import AppOptions

log = logging.getLogger("ray.serve")

SERVICE_ACTOR = Actor("lfr-serve", SYSTEM.role)
# Marks the one 503 that means "sent too fast" rather than "a service is down" (lfr_ops/feed.py reads it).
BACKPRESSURE_HEADER = "X-LFR-Backpressure"

Db = Callable[..., Awaitable[Any]]


class LivePath:
    def __init__(self, settings: Settings, options: AppOptions, *, detector: Any, embedder: Any, store: ObjectStore,
                 db: Db, metrics: Metrics, counters: Counters, replica_id: str) -> None:
        self.settings, self.options = settings, options
        self.detector, self.embedder = detector, embedder  # the model deployments' handles
        self.store, self.db, self.metrics, self.counters = store, db, metrics, counters
        self.replica_id = replica_id
        self.params = TrackParams.from_settings(settings.track, reuse_s=options.embed_reuse_s)
        self.pipeline = FramePipeline(
            self._detect, self._embed, self._decode, self._store_alert,
            reuse_margin=options.embed_reuse_margin, reliable_face_px=reliable_face_px(settings)[0],
            min_face_px=settings.quality.min_live_face_px,
            timeouts=PipelineTimeouts(options.model_timeout_s, options.model_timeout_s),
            last_alerts=self._last_alerts)
        self._live: dict[uuid.UUID, LiveDeployment] = {}
        self._live_locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._inflight: dict[tuple[uuid.UUID, str], int] = {}
        self._not_sent: dict[tuple[uuid.UUID, str], int] = {}  # each camera's last reported total: one per camera
        self._background: list[asyncio.Task[None]] = []
        self._embedder_sha: str | None = None

    # -- what the operations' routes read ----------------------------------------------------------------------

    def frames_in_progress(self) -> int:
        return sum(self._inflight.values())

    def deployments_loaded(self) -> int:
        return len(self._live)

    def track_count(self) -> int:
        return sum(s.tracker.track_count() for s in self._live.values())

    # -- the pipeline's models and storage -----------------------------------------------------------------------

    async def _detect(self, body: bytes) -> DetectedFrame | RefusedFrame:
        found: DetectedFrame | RefusedFrame = await self.detector.detect.remote(body)  # the detector decodes
        return found

    async def _embed(self, crops: np.ndarray) -> list[Embedded]:
        """A crowded frame goes out in `embed_split` requests, so the embedder replicas share it."""
        parts = self.options.embed_split if len(crops) > self.options.embed_split_above else 1
        step = -(-len(crops) // parts)
        return list(await asyncio.gather(*(self.embedder.embed.remote(crops[k:k + step])
                                           for k in range(0, len(crops), step))))

    async def _decode(self, body: bytes) -> np.ndarray:
        from lfr_core.vision.images import decode_image

        serve_settings = self.settings.serve
        return await asyncio.to_thread(decode_image, body, max_pixels=serve_settings.max_live_pixels,
                                       max_bytes=serve_settings.max_body_bytes)

    async def _store_alert(self, pending: PendingAlert) -> Any:
        return await self.db(alerts_lib.raise_alert, self.store, self.settings.s3.bucket_alerts, pending.alert,
                             pending.probe_crop_jpeg, SERVICE_ACTOR, alert_id=pending.alert_id)

    async def _last_alerts(self, deployment_id: object, camera_id: str, since: datetime) -> dict[str, float]:
        found: dict[str, float] = await self.db(alerts_lib.last_alerts, deployment_id, camera_id, since)
        return found

    def start_background(self) -> None:
        """The counter flusher and the mover of held crops, started with the replica (or on first use)."""
        if not self._background:
            loop = asyncio.get_running_loop()
            self._background = [loop.create_task(self.counters.run_forever()),
                                loop.create_task(self._move_held_crops())]

    async def _move_held_crops(self) -> None:
        """Crops of alerts raised while the object store was down wait in PostgreSQL (lfr_core/alerts/service.py).
        Every replica moves them once the store is back, at its start and then every `held_crops_retry_s`;
        each crop once (one that another replica is moving is skipped). The store is asked first, outside
        the database lock, so that a store that does not answer does not hold up the frames."""
        while True:
            try:
                held = await self.db(alerts_lib.held_crop_count)
                if held:
                    await asyncio.to_thread(self.store.require_available)
                    moved = await self.db(alerts_lib.move_held_crops, self.store, SERVICE_ACTOR, limit=10)
                    if moved:
                        log.info("%d held alert crop(s) moved to the object store", moved)
                    held = await self.db(alerts_lib.held_crop_count)
                self.metrics.alert_crops_held.set(held)
            except STORAGE_DOWN:
                pass  # still down: the crops stay in PostgreSQL, and the next round tries again
            except Exception:  # the mover must outlive one bad round; said loudly
                log.exception("moving held alert crops failed; trying again in %.0f s", self.options.held_crops_retry_s)
            await asyncio.sleep(self.options.held_crops_retry_s)

    # -- the deployment's live state -------------------------------------------------------------------------------

    async def _embedder_identity(self) -> str:
        """The sha of the weights that embed this ingress's faces: a fused detector's own embedder (the embedder
        deployment then has no replica, and asking it would start one on a GPU for nothing), else the embedder's."""
        if self._embedder_sha is None:
            detector = await self.detector.model_identity.remote()
            identity = detector.get("embedder") or await self.embedder.model_identity.remote()
            self._embedder_sha = str(identity["weights_sha256"])
        return self._embedder_sha

    async def state(self, dep_id: uuid.UUID) -> LiveDeployment:
        """The deployment's live state, loaded again once `version_check_s` old (NotFound: no such deployment)."""
        self.start_background()
        live = self._live.get(dep_id)
        if live is not None and not live.stale(time.monotonic(), self.options.version_check_s):
            return live
        async with self._live_locks.setdefault(dep_id, asyncio.Lock()):
            live = self._live.get(dep_id)
            if live is None or live.stale(time.monotonic(), self.options.version_check_s):
                sha = await self._embedder_identity()
                live = await self.db(LiveDeployment.load, dep_id, sha, self.params, now=time.monotonic(),
                                     current=live)
                self._live[dep_id] = live
        assert live is not None
        return live

    # -- a frame's way through ------------------------------------------------------------------------------------

    def refused(self, e: HTTPException) -> None:
        self.metrics.refused.labels("content_type" if e.status_code == 415 else "too_large").inc()

    def _dropped(self, dep_id: uuid.UUID, camera_id: str) -> None:
        """A frame lost to back-pressure or a model outage: in the metrics and in the camera's tile."""
        self.metrics.dropped.inc()
        self.counters.count(dep_id, camera_id, dropped=1)

    def camera_not_sent(self, dep_id: uuid.UUID, camera_id: str, total: int | None) -> None:
        """The camera's own losses (its running total of frames read and not sent, lfr_core/live/wire.py), counted
        once in its tile: what grew since its last report here; a total below the last is a feed started again."""
        if total is None:
            return
        key = (dep_id, camera_id)
        last = self._not_sent.get(key, 0)
        grew = total - last if total >= last else total
        self._not_sent[key] = total
        if grew > 0:
            self.counters.count(dep_id, camera_id, not_sent=grew)

    def open_gate(self, live: LiveDeployment, dep_id: uuid.UUID, camera_id: str) -> None:
        """The deployment's gate (an active sealed list, the clock inside the window): 409 with its reason."""
        reason = live.gate()
        if reason:
            self.metrics.refused.labels("gate").inc()
            self.counters.count(dep_id, camera_id, refused=1)
            raise HTTPException(409, reason)

    @contextlib.asynccontextmanager
    async def camera_slot(self, dep_id: uuid.UUID, camera_id: str) -> AsyncIterator[None]:
        """Back-pressure per camera: its frames in progress are bounded, and so is this table (only cameras
        with a frame in progress are in it)."""
        slot = (dep_id, camera_id)
        if self._inflight.get(slot, 0) >= self.options.max_inflight_per_camera:
            self._dropped(dep_id, camera_id)
            raise HTTPException(503, f"camera {camera_id} has {self.options.max_inflight_per_camera} frames in "
                                     f"progress; frame dropped (send at a lower rate)",
                                headers={"Retry-After": "1", BACKPRESSURE_HEADER: "1"})
        self._inflight[slot] = self._inflight.get(slot, 0) + 1
        self.metrics.inflight.inc()
        try:
            yield
        finally:
            self.metrics.inflight.dec()
            self._inflight[slot] -= 1
            if not self._inflight[slot]:
                del self._inflight[slot]

    async def frame(self, live: LiveDeployment, dep_id: uuid.UUID, camera_id: str, ctype: str, when: datetime,
                    body: bytes, started: float) -> FrameResult:
        try:
            frames.check_body(body, ctype, self.settings.serve.max_body_bytes)
        except HTTPException as e:
            self.refused(e)
            raise
        # Counted here, answered from the error table (ray_apps/ingress/errors.py): 400/413, 503, 503.
        try:
            outcome = await self.pipeline.run(live, camera_id, when, body)
        except FrameRefused:
            self.metrics.refused.labels("bad_image").inc()
            raise
        except DetectorModelMismatch as e:  # a fused detector on other weights than the list's: said loudly
            self.metrics.refused.labels("model").inc()
            self.counters.count(dep_id, camera_id, refused=1)
            log.warning("deployment %s camera %s: %s", dep_id, camera_id, e)
            raise
        except ModelUnavailable as e:
            self._dropped(dep_id, camera_id)
            log.warning("%s", e)
            raise
        except AlertsNotRaised as e:  # PostgreSQL down: the decisions are taken back, to be made again
            self._account(dep_id, camera_id, e.outcome, started)
            log.warning("deployment %s camera %s: %s", dep_id, camera_id, e)
            raise
        self._account(dep_id, camera_id, outcome, started)
        if outcome.alerts:
            log.info("deployment %s camera %s: %d alert(s) raised", dep_id, camera_id, len(outcome.alerts))
        return FrameResult(deployment_id=str(dep_id), camera_id=camera_id, captured_at=when,
                           faces=len(outcome.faces),
                           boxes=[[round(float(v), 1) for v in f.box] for f in outcome.faces],
                           alerts=[AlertOut(id=str(a.id), subject_ref=a.subject_ref, score=a.score, track_id=a.track_id)
                                   for a in outcome.alerts])

    def _account(self, dep_id: uuid.UUID, camera_id: str, outcome: FrameOutcome, started: float) -> None:
        self.metrics.observe(str(dep_id), camera_id, outcome, time.perf_counter() - started)
        self.counters.count(dep_id, camera_id, frames=1, faces=len(outcome.faces), bands=outcome.bands,
                            reliable_face_px=outcome.reliable_face_px or self.pipeline.reliable_face_px)
