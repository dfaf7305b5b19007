"""The matching ingress (FastAPI on Ray Serve): it authenticates, routes and scales; the behaviour is in
lfr_core.

A frame from a camera (its key bound to one deployment) passes the deployment's gate (an active sealed list
and the clock inside the window; otherwise 409, and the frame is not even decoded) and its own checks
(ray_apps/frames.py), then runs through the frame pipeline (lfr_core/live/pipeline.py) with the detector and
embedder replicas as its models. Everything about a non-matched face stays in this process's memory and
goes when its track ends; logs carry counts only. People (operators, admins, auditors) sign in (ray_apps/access.py)
and read or decide alerts through the officers' routes (ray_apps/officer_routes.py).

The ingress scales like the models behind it: every frame of a camera reaches the replica that holds its
tracks (ray_apps/routing.py), and a camera new to a replica starts with its cooldowns from the alert log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from typing import Any

import numpy as np
import psycopg
from fastapi import Form, Header, HTTPException, Path, Query, Request, Security, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from ray import serve
from ray.serve.handle import DeploymentHandle

from lfr_core.alerts import service as alerts_lib
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.live.alert_storage import STORAGE_DOWN, PendingAlert
from lfr_core.live.pipeline import AlertsNotRaised, FramePipeline, FrameRefused, ModelUnavailable, PipelineTimeouts
from lfr_core.live.records import DetectedFrame, Embedded, RefusedFrame
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.tracker import TrackParams
from ray_apps import frames, http_errors
from ray_apps.access import Access
from ray_apps.counters import Counters
from ray_apps.http_app import app
from ray_apps.http_contract import (
    CAMERA_PATTERN,
    NO_NUL,
    AlertOut,
    Flushed,
    FrameResult,
    Health,
    SignedOut,
    Token,
    camera_key,
    errors,
    person_token,
)
from ray_apps.metrics import Metrics
from ray_apps.officer_routes import OfficerRoutes
from ray_apps.options import AppOptions
from ray_apps.public_routes import PublicRoutes

log = logging.getLogger("ray.serve")

SERVICE_ACTOR = Actor("lfr-serve", SYSTEM.role)
# Marks the one 503 that means "sent too fast" rather than "a service is down" (lfr_ops/feed.py reads it).
BACKPRESSURE_HEADER = "X-LFR-Backpressure"
IMAGE_TYPES = frames.IMAGE_TYPES

@serve.deployment(name="Ingress")
@serve.ingress(app)
class Ingress(OfficerRoutes, PublicRoutes):
    def __init__(self, detector: DeploymentHandle, embedder: DeploymentHandle, options: dict[str, Any] | None = None) -> None:
        from lfr_core.config import get_settings
        from lfr_core.storage.objectstore import ObjectStore

        self.settings = get_settings()
        self.options = AppOptions.model_validate(options or {})
        self.detector = detector
        self.embedder = embedder
        self.store = ObjectStore(self.settings)
        self.params = TrackParams.from_settings(self.settings.track, reuse_s=self.options.embed_reuse_s)
        self.metrics = Metrics()
        self._conn: psycopg.Connection | None = None
        self._db_lock = threading.Lock()
        self.access = Access(self.settings, self._db, self.options.auth_cache_s)
        self.counters = Counters(self._db, self.options.counters_flush_s)
        self.pipeline = FramePipeline(
            self._detect, self._embed, self._decode, self._store_alert,
            reuse_margin=self.options.embed_reuse_margin,
            timeouts=PipelineTimeouts(self.options.model_timeout_s, self.options.model_timeout_s),
            last_alerts=self._last_alerts)
        self.replica_id = serve.get_replica_context().replica_id.unique_id
        self._live: dict[uuid.UUID, LiveDeployment] = {}
        self._live_locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._inflight: dict[tuple[uuid.UUID, str], int] = {}
        self._background: list[asyncio.Task] = []
        self._embedder_sha: str | None = None
        with contextlib.suppress(RuntimeError):  # Serve runs the constructor in the replica's event loop
            self._start_background()  # now, so that a new replica moves held crops before any frame comes
        log.info("ingress ready (at most %d frames in flight per camera)", self.options.max_inflight_per_camera)

    # -- database (one connection, used from worker threads under a lock) --------------------------------

    def _with_conn(self, fn, *args, **kwargs):
        from lfr_core.db.connection import connect

        with self._db_lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.settings)
                try:
                    return fn(self._conn, *args, **kwargs)
                except psycopg.OperationalError:
                    self._conn = None  # reconnect once; a second failure is an outage (503)
                    if attempt == 2:
                        raise

    async def _db(self, fn, *args, **kwargs):
        return await asyncio.to_thread(self._with_conn, fn, *args, **kwargs)

    @staticmethod
    def _as(conn: psycopg.Connection, actor: Actor, fn, *args, **kwargs):
        """fn(conn, ...) in one transaction run as the person: the database's row-level security decides which
        alerts they see."""
        with acting(conn, actor):
            return fn(conn, *args, **kwargs)

    @staticmethod
    def _uuid(value: str, what: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError as e:
            raise HTTPException(404, f"no {what} {value!r} (not a UUID)") from e

    # -- the pipeline's models and storage -------------------------------------------------------------------

    async def _detect(self, body: bytes) -> DetectedFrame | RefusedFrame:
        return await self.detector.detect.remote(body)  # bytes: the detector decodes (see detector.py)

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

    async def _store_alert(self, pending: PendingAlert) -> dict[str, Any]:
        return await self._db(alerts_lib.raise_alert, self.store, self.settings.s3.bucket_alerts, pending.alert,
                              pending.probe_crop_jpeg, SERVICE_ACTOR, alert_id=pending.alert_id)

    async def _last_alerts(self, deployment_id: uuid.UUID, camera_id: str, since) -> dict[str, float]:
        return await self._db(alerts_lib.last_alerts, deployment_id, camera_id, since)

    def _start_background(self) -> None:
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
                held = await self._db(alerts_lib.held_crop_count)
                if held:
                    await asyncio.to_thread(self.store.require_available)
                    moved = await self._db(alerts_lib.move_held_crops, self.store, SERVICE_ACTOR, limit=10)
                    if moved:
                        log.info("%d held alert crop(s) moved to the object store", moved)
                    held = await self._db(alerts_lib.held_crop_count)
                self.metrics.alert_crops_held.set(held)
            except STORAGE_DOWN:
                pass  # still down: the crops stay in PostgreSQL, and the next round tries again
            except Exception:  # the mover must outlive one bad round; said loudly
                log.exception("moving held alert crops failed; trying again in %.0f s", self.options.held_crops_retry_s)
            await asyncio.sleep(self.options.held_crops_retry_s)

    # -- the deployment's live state -------------------------------------------------------------------------

    async def _embedder_identity(self) -> str:
        if self._embedder_sha is None:
            identity = await self.embedder.model_identity.remote()
            self._embedder_sha = identity["weights_sha256"]
        return self._embedder_sha

    async def _live_state(self, dep_id: uuid.UUID) -> LiveDeployment:
        self._start_background()
        live = self._live.get(dep_id)
        if live is not None and not live.stale(time.monotonic(), self.options.version_check_s):
            return live
        async with self._live_locks.setdefault(dep_id, asyncio.Lock()):
            live = self._live.get(dep_id)
            if live is None or live.stale(time.monotonic(), self.options.version_check_s):
                sha = await self._embedder_identity()
                live = await self._db(LiveDeployment.load, dep_id, sha, self.params, now=time.monotonic(),
                                      current=live)
                self._live[dep_id] = live
        return live

    # -- routes ---------------------------------------------------------------------------------------------------

    @app.get("/healthz", summary="Liveness of the ingress", response_model=Health)
    async def healthz(self) -> Health:
        return Health(ok=True, inflight=sum(self._inflight.values()), deployments=len(self._live))

    @app.post("/v1/auth/token", summary="Sign in (the platform's local issuer; OAuth2 password form)",
              response_model=Token, responses=errors(401, 403, 404, 422, 503))
    async def sign_in(self, username: str = Form(min_length=1, max_length=63, pattern=NO_NUL),
                      password: str = Form(min_length=1, max_length=1024, pattern=NO_NUL)) -> Token:
        token, lifetime = await self.access.sign_in(username, password)
        return Token(access_token=token, expires_in=lifetime)

    @app.post("/v1/auth/logout", summary="Sign out: this token is refused everywhere until it expires",
              response_model=SignedOut, responses=errors(401, 422, 503))
    async def sign_out(self, auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> SignedOut:
        token = await self.access.sign_out(auth)
        return SignedOut(refused_until=token.expires_at)

    @app.get("/metrics", summary="Prometheus metrics (an admin: the labels name deployments and cameras)",
             response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 403, 503)})
    async def metrics_endpoint(self, auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Response:
        await self.access.person(auth, "admin")
        self.metrics.tracks.set(sum(s.tracker.track_count() for s in self._live.values()))
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/flush", summary="Write pending per-camera counters now (an admin)", response_model=Flushed,
              responses=errors(401, 403, 503))
    async def flush_now(self, auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Flushed:
        await self.access.person(auth, "admin")
        return Flushed(cameras=await self.counters.flush())

    @app.post(
        "/v1/deployments/{deployment_id}/frames",
        response_model=FrameResult,
        summary="Match one camera frame",
        responses=errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
        openapi_extra={"requestBody": {"required": True, "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}}},
    )
    async def post_frame(
        self,
        request: Request,
        response: Response,
        deployment_id: str = Path(max_length=64),
        x_api_key: str | None = Security(camera_key),
        camera: str | None = Query(None, pattern=CAMERA_PATTERN, description="Camera id (or header X-Camera-Id)"),
        captured_at: str | None = Query(None, max_length=64,
                                        description="Capture time, ISO 8601 with a zone or epoch seconds "
                                                    "(or X-Capture-Time); at most serve.max_clock_skew_s from "
                                                    "the server clock"),
        x_camera_id: str | None = Header(None, pattern=CAMERA_PATTERN),
        x_capture_time: str | None = Header(None, max_length=64),
    ) -> FrameResult:
        started = time.perf_counter()
        dep_id = self._uuid(deployment_id, "deployment")
        await self.access.camera(x_api_key, dep_id)  # before any lookup: nothing is loaded for a key not bound here
        live = await self._live_state(dep_id)
        camera_id = camera or x_camera_id or "default"
        try:
            ctype = frames.content_type(request.headers.get("content-type"))
            frames.check_declared_size(request.headers.get("content-length"), self.settings.serve.max_body_bytes)
        except HTTPException as e:
            self._refused(e)
            raise
        self._open_gate(live, dep_id, camera_id)  # before the body is read, let alone decoded
        when = frames.capture_time(captured_at or x_capture_time, self.settings.serve.max_clock_skew_s)
        response.headers["X-LFR-Replica"] = self.replica_id  # which replica holds this camera's tracks
        async with self._camera_slot(dep_id, camera_id):
            return await self._frame(live, dep_id, camera_id, ctype, when, await request.body(), started)

    @app.websocket("/v1/deployments/{deployment_id}/stream")
    async def stream_frames(self, websocket: WebSocket, deployment_id: str,
                            camera: str = Query("default", pattern=CAMERA_PATTERN)) -> None:
        """One long-lived connection per camera (`lfr feed` uses it): each binary message is a frame, its
        capture time (8 bytes, big-endian float64 epoch seconds; 0 for now) then the JPEG or PNG bytes; each
        text message back is that frame's result, or `{"status": <HTTP status>, "detail": ...}`, in order.
        A refused connection closes with code 4000 + the HTTP status it would have had. Both answer from the
        app's one error table (ray_apps/http_errors.py), which a WebSocket route does not pass through."""
        try:
            dep_id = self._uuid(deployment_id, "deployment")
            await self.access.camera(websocket.headers.get("x-api-key"), dep_id)
        except http_errors.ANSWERED as e:  # accepted first, so that the camera reads the code and the reason
            refused = http_errors.answer(e)
            await websocket.accept()
            await websocket.close(code=4000 + refused.status, reason=refused.detail[:120])
            return
        await websocket.accept()
        while True:
            try:
                message = await websocket.receive_bytes()
            except (WebSocketDisconnect, KeyError, RuntimeError):  # closed, or a text message: the camera is done
                return
            started = time.perf_counter()
            try:
                live = await self._live_state(dep_id)
                value, body = frames.split_streamed(message)
                ctype = frames.sniff_type(body)
                self._open_gate(live, dep_id, camera)
                when = frames.capture_time(value, self.settings.serve.max_clock_skew_s)
                async with self._camera_slot(dep_id, camera):
                    result = await self._frame(live, dep_id, camera, ctype, when, body, started)
                answer = {"status": 200, **result.model_dump(mode="json")}
            except http_errors.ANSWERED as e:
                refused = http_errors.answer(e)
                answer = {"status": refused.status, "detail": refused.detail}
                if BACKPRESSURE_HEADER in refused.headers:  # only dropped: no service is down
                    answer["backpressure"] = True
            try:
                await websocket.send_json(answer)
            except (WebSocketDisconnect, RuntimeError):
                return

    def _refused(self, e: HTTPException) -> None:
        self.metrics.refused.labels("content_type" if e.status_code == 415 else "too_large").inc()

    def _dropped(self, dep_id: uuid.UUID, camera_id: str) -> None:
        """A frame lost to back-pressure or a model outage: in the metrics and in the camera's tile."""
        self.metrics.dropped.inc()
        self.counters.count(dep_id, camera_id, dropped=1)

    def _open_gate(self, live: LiveDeployment, dep_id: uuid.UUID, camera_id: str) -> None:
        reason = live.gate()
        if reason:
            self.metrics.refused.labels("gate").inc()
            self.counters.count(dep_id, camera_id, refused=1)
            raise HTTPException(409, reason)

    @contextlib.asynccontextmanager
    async def _camera_slot(self, dep_id: uuid.UUID, camera_id: str):
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

    async def _frame(self, live: LiveDeployment, dep_id: uuid.UUID, camera_id: str, ctype: str, when,
                     body: bytes, started: float) -> FrameResult:
        try:
            frames.check_body(body, ctype, self.settings.serve.max_body_bytes)
        except HTTPException as e:
            self._refused(e)
            raise
        # Counted here, answered from the error table (ray_apps/http_errors.py): 400/413, 503, 503.
        try:
            outcome = await self.pipeline.run(live, camera_id, when, body)
        except FrameRefused:
            self.metrics.refused.labels("bad_image").inc()
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

    def _account(self, dep_id: uuid.UUID, camera_id: str, outcome, started: float) -> None:
        self.metrics.observe(str(dep_id), camera_id, outcome, time.perf_counter() - started)
        self.counters.count(dep_id, camera_id, frames=1, faces=len(outcome.faces))


