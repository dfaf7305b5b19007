"""The matching ingress (FastAPI on Ray Serve): frames in, alerts out.

Per frame: the camera key and its deployment, the deployment's gate (an active sealed version and the clock inside the
window; otherwise 409 and the frame is not even decoded), the batched detector (which decodes the bytes)
and embedder deployments (a face that continues a settled track embedded within `embed_reuse_s` is not
embedded again; see lfr_core.matching.tracker), exact matching against the active version held in
memory, per-camera tracks, and an alert (with its probe crop) only when a track agrees. Everything about
a non-matched face stays in this process's memory and goes when its track ends; logs carry counts only.

The ingress runs as one replica on purpose: the tracks of a camera must live in one place. The model
deployments behind it scale.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import psycopg
from fastapi import FastAPI, Form, Header, HTTPException, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from ray import serve
from ray.serve.handle import DeploymentHandle

from lfr_core import alerts as alerts_lib
from lfr_core import consultations, deployments
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.errors import InvalidInput, NotFound, Refused
from lfr_core.matching.matcher import ExactMatcher, ModelMismatch
from lfr_core.matching.frame import observe, plan_embeddings
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.roles import Actor, SYSTEM, acting
from lfr_core.storage.objectstore import ObjectStoreError, ObjectStoreUnavailable
from ray_apps.access import Access
from ray_apps.console import CONSOLE_HTML
from ray_apps.http_contract import (CAMERA_PATTERN, Adjudication, AlertOut, AlertStatus, AlertView, FrameResult,
                                    NO_NUL, REASON, Flushed, Health, Token, answer_unavailable, camera_key, errors,
                                    person_token, refuse_invalid, use_one_error_shape)
from ray_apps.offline_docs import add_offline_docs
from ray_apps.options import AppOptions

log = logging.getLogger("ray.serve")

SERVICE_ACTOR = Actor("lfr-serve", SYSTEM.role)
IMAGE_TYPES = ("image/jpeg", "image/png")
CROP_MARGIN = 0.25  # probe crop: the face box plus a quarter on each side, so the officer sees the head

app = FastAPI(
    title="LFR live matching",
    version="1",
    description="Frames from a deployment's cameras in, alerts for a human officer out. "
                "Cameras post frames with a camera key (`X-API-Key`) bound to one deployment; people sign in "
                "(`POST /v1/auth/token`, or the force's OIDC provider) and send `Authorization: Bearer`.",
    docs_url=None,  # served from bundled assets below: no CDN on a police network
    redoc_url=None,
)
add_offline_docs(app)
use_one_error_shape(app)
refuse_invalid(app, InvalidInput)
answer_unavailable(app, {psycopg.OperationalError: "PostgreSQL", DatabaseUnavailable: "PostgreSQL",
                         ObjectStoreUnavailable: "the object store"})


@dataclass
class DeploymentState:
    deployment: dict[str, Any]
    version: dict[str, Any] | None
    matcher: ExactMatcher | None
    tracker: Tracker
    checked_at: float
    error: str | None = None


@dataclass
class CameraCounts:
    frames: int = 0
    faces: int = 0
    refused: int = 0


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.frames = Counter("lfr_frames", "Frames processed", ["deployment", "camera"], registry=r)
        self.faces = Counter("lfr_faces", "Faces detected", ["deployment", "camera"], registry=r)
        self.embedded = Counter("lfr_faces_embedded", "Faces embedded (passed the live quality gate)", registry=r)
        self.reused = Counter("lfr_faces_reused", "Faces that continued a settled track and were not embedded "
                              "again (never a hit)", registry=r)
        self.alerts = Counter("lfr_alerts", "Alerts raised", ["deployment"], registry=r)
        self.refused = Counter("lfr_frames_refused", "Frames refused, by reason", ["reason"], registry=r)
        self.dropped = Counter("lfr_frames_dropped", "Frames dropped because the service was behind", registry=r)
        self.batch = Histogram("lfr_batch_size", "Frames per model batch", ["stage"],
                               buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64), registry=r)
        self.latency = Histogram("lfr_latency_seconds", "Time per frame, by stage", ["stage"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75,
                                          1.0, 2.0, 5.0), registry=r)
        self.inflight = Gauge("lfr_frames_inflight", "Frames in progress", registry=r)
        self.tracks = Gauge("lfr_tracks", "Live face tracks held in memory", registry=r)


def _parse_capture_time(value: str | None, max_skew_s: float) -> datetime:
    now = datetime.now(UTC)
    if value is None or not value.strip():
        return now
    try:
        when = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise HTTPException(422, f"capture time {value!r} is neither ISO 8601 nor epoch seconds") from e
    except (OverflowError, OSError) as e:
        raise HTTPException(422, f"capture time {value!r} is out of range") from e
    if when.tzinfo is None:
        raise HTTPException(422, "capture time needs a timezone (e.g. 2026-05-01T12:00:00Z)")
    skew = abs((when - now).total_seconds())
    if skew > max_skew_s:
        raise HTTPException(422, f"capture time is {skew:.0f} s from the server clock (limit {max_skew_s:.0f} s); "
                                 "check the camera's clock")
    return when


def probe_crop_jpeg(image: np.ndarray, box: np.ndarray) -> bytes:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(w, int(x2 + mx)), min(h, int(y2 + my))
    ok, buf = cv2.imencode(".jpg", image[top:bottom, left:right], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding of the probe crop failed")
    return buf.tobytes()


@serve.deployment(name="Ingress", num_replicas=1)
@serve.ingress(app)
class Ingress:
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
        self._deps: dict[uuid.UUID, DeploymentState] = {}
        self._dep_locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._counts: dict[tuple[uuid.UUID, str], CameraCounts] = {}
        self._flusher: asyncio.Task | None = None
        self._inflight = 0
        self._embedder_sha: str | None = None
        log.info("ingress ready (max %d frames in flight)", self.options.max_inflight_frames)

    # -- database (one connection, used from worker threads under a lock) --------------------------------

    def _with_conn(self, fn, *args, **kwargs):
        from lfr_core.db.connection import connect

        with self._db_lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.settings)
                    self._conn.autocommit = True
                try:
                    return fn(self._conn, *args, **kwargs)
                except psycopg.OperationalError:
                    self._conn = None  # reconnect once; a second failure is an outage (503)
                    if attempt == 2:
                        raise

    async def _db(self, fn, *args, **kwargs):
        return await asyncio.to_thread(self._with_conn, fn, *args, **kwargs)

    # -- access --------------------------------------------------------------------------------------------

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

    # -- the deployment's gate and its in-memory matcher -----------------------------------------------------

    async def _embedder_identity(self) -> str:
        if self._embedder_sha is None:
            identity = await self.embedder.model_identity.remote()
            self._embedder_sha = identity["weights_sha256"]
        return self._embedder_sha

    def _load_state(self, conn: psycopg.Connection, dep_id: uuid.UUID, current: DeploymentState | None,
                    embedder_sha: str) -> DeploymentState:
        from lfr_core.watchlist.lifecycle import deployment_active_version

        deployment = deployments.get(conn, dep_id)
        version = deployment_active_version(conn, dep_id)
        tracker = current.tracker if current else Tracker(self.params)
        matcher, error = None, None
        if version is not None:
            if current and current.matcher and current.matcher.version_id == version["id"]:
                matcher = current.matcher
            else:
                matcher = ExactMatcher.load(conn, version["id"])
                try:
                    matcher.check_model(embedder_sha)
                except ModelMismatch as e:
                    matcher, error = None, str(e)
                else:
                    tracker = Tracker(self.params)  # a new list: tracks of the old one carry nothing over
                    log.info("deployment %s: version %s loaded (%d templates)", dep_id, version["version"], len(matcher))
        return DeploymentState(deployment, version, matcher, tracker, time.monotonic(), error)

    async def _state(self, dep_id: uuid.UUID) -> DeploymentState:
        state = self._deps.get(dep_id)
        if state is not None and time.monotonic() - state.checked_at < self.options.version_check_s:
            return state
        lock = self._dep_locks.setdefault(dep_id, asyncio.Lock())
        async with lock:
            state = self._deps.get(dep_id)
            if state is None or time.monotonic() - state.checked_at >= self.options.version_check_s:
                sha = await self._embedder_identity()
                try:
                    state = await self._db(self._load_state, dep_id, state, sha)
                except NotFound as e:
                    raise HTTPException(404, str(e)) from e
                self._deps[dep_id] = state
        return state

    def _gate(self, state: DeploymentState) -> str | None:
        """Why matching may not run now, or None."""
        if state.error:
            return state.error
        if state.deployment["status"] in ("cancelled", "closed"):
            return f"deployment {state.deployment['id']} is {state.deployment['status']}; frames are refused"
        if state.version is None or state.matcher is None:
            return (f"deployment {state.deployment['id']} has no active watchlist version "
                    f"(status {state.deployment['status']}); frames are refused")
        if not deployments.in_window(state.deployment):
            return (f"outside the deployment window {state.deployment['window_start'].isoformat()} to "
                    f"{state.deployment['window_end'].isoformat()}; frames are refused")
        return None

    # -- counters (numbers only, batched) -----------------------------------------------------------------------

    def _count(self, dep_id: uuid.UUID, camera: str, *, frames: int = 0, faces: int = 0, refused: int = 0) -> None:
        c = self._counts.setdefault((dep_id, camera), CameraCounts())
        c.frames += frames
        c.faces += faces
        c.refused += refused
        if self._flusher is None:  # started on first use: the replica's event loop runs by then
            self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        """Write counters on a timer, not on traffic: the last frames before a window closes must reach the
        report even when no frame follows them."""
        while True:
            await asyncio.sleep(self.options.counters_flush_s)
            if self._counts:
                pending, self._counts = self._counts, {}
                await self._flush(pending)

    async def _flush(self, pending: dict[tuple[uuid.UUID, str], CameraCounts]) -> None:
        def write(conn):
            for (dep, cam), c in pending.items():
                alerts_lib.record_counts(conn, dep, cam, frames=c.frames, faces_seen=c.faces, frames_refused=c.refused)

        try:
            await self._db(write)
        except (psycopg.Error, OSError) as e:
            log.warning("counter flush failed (%s); numbers kept for the next flush", type(e).__name__)
            for key, c in pending.items():
                mine = self._counts.setdefault(key, CameraCounts())
                mine.frames, mine.faces, mine.refused = mine.frames + c.frames, mine.faces + c.faces, mine.refused + c.refused

    # -- routes ---------------------------------------------------------------------------------------------------

    @app.get("/healthz", summary="Liveness of the ingress", response_model=Health)
    async def healthz(self) -> Health:
        return Health(ok=True, inflight=self._inflight, deployments=len(self._deps))

    @app.post("/v1/auth/token", summary="Sign in (the platform's local issuer; OAuth2 password form)",
              response_model=Token, responses=errors(401, 403, 404, 422, 503))
    async def sign_in(self, username: str = Form(min_length=1, max_length=63, pattern=NO_NUL),
                      password: str = Form(min_length=1, max_length=1024, pattern=NO_NUL)) -> Token:
        token, lifetime = await self.access.sign_in(username, password)
        return Token(access_token=token, expires_in=lifetime)

    @app.get("/metrics", summary="Prometheus metrics (an admin: the labels name deployments and cameras)",
             response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 403, 503)})
    async def metrics_endpoint(self, auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Response:
        await self.access.person(auth, "admin")
        self.metrics.tracks.set(sum(s.tracker.track_count() for s in self._deps.values()))
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/flush", summary="Write pending per-camera counters now (an admin)", response_model=Flushed,
              responses=errors(401, 403, 503))
    async def flush_now(self, auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Flushed:
        await self.access.person(auth, "admin")
        pending, self._counts = self._counts, {}
        await self._flush(pending)
        return Flushed(cameras=len(pending))

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
        state = await self._state(dep_id)
        camera_id = camera or x_camera_id or "default"
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if ctype not in IMAGE_TYPES:
            self.metrics.refused.labels("content_type").inc()
            raise HTTPException(415, f"content type {ctype or 'missing'!r}; send image/jpeg or image/png")
        limit = self.settings.serve.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            self.metrics.refused.labels("too_large").inc()
            raise HTTPException(413, f"frame of {declared} bytes is above the limit of {limit}")
        reason = self._gate(state)
        if reason:
            self.metrics.refused.labels("gate").inc()
            self._count(dep_id, camera_id, refused=1)
            raise HTTPException(409, reason)
        when = _parse_capture_time(captured_at or x_capture_time, self.settings.serve.max_clock_skew_s)
        if self._inflight >= self.options.max_inflight_frames:
            self.metrics.dropped.inc()
            raise HTTPException(503, "service is behind; frame dropped (send at a lower rate)",
                                headers={"Retry-After": "1"})
        self._inflight += 1
        self.metrics.inflight.set(self._inflight)
        try:
            return await self._process(request, state, dep_id, camera_id, when, started)
        finally:
            self._inflight -= 1
            self.metrics.inflight.set(self._inflight)

    async def _process(self, request: Request, state: DeploymentState, dep_id: uuid.UUID, camera_id: str,
                       when: datetime, started: float) -> FrameResult:
        body = await request.body()
        limit = self.settings.serve.max_body_bytes
        if len(body) > limit:
            self.metrics.refused.labels("too_large").inc()
            raise HTTPException(413, f"frame of {len(body)} bytes is above the limit of {limit}")
        t0 = time.perf_counter()
        try:
            detected = await self.detector.detect.remote(body)  # bytes: the detector decodes (see detector.py)
        except Exception as e:  # noqa: BLE001 - a replica that died mid-request: the frame is dropped, not the feed
            self.metrics.dropped.inc()
            log.warning("detector call failed (%s); frame dropped", type(e).__name__)
            raise HTTPException(503, "detector unavailable; frame dropped, retry shortly") from e
        if "error" in detected:
            reason, message = detected["error"]["reason"], detected["error"]["message"]
            self.metrics.refused.labels("bad_image").inc()
            raise HTTPException(413 if reason in ("too_large", "too_many_pixels") else 400,
                                f"frame refused ({reason}): {message}")
        self.metrics.latency.labels("detect").observe(time.perf_counter() - t0)
        self.metrics.batch.labels("detect").observe(detected["batch_size"])
        faces = detected["faces"]
        now = when.timestamp()
        matcher = state.matcher
        boxes = [f["box"] for f in faces]
        plan = plan_embeddings(state.tracker, camera_id, now, boxes, [f["crop"] is not None for f in faces],
                               matcher, self.options.embed_reuse_margin)
        fresh = plan.fresh
        emb = np.zeros((0, matcher.dim), np.float32)
        if fresh:
            t1 = time.perf_counter()
            try:
                parts = self.options.embed_split if len(fresh) > self.options.embed_split_above else 1
                step = -(-len(fresh) // parts)
                chunks = await asyncio.gather(*(
                    self.embedder.embed.remote(np.stack([faces[i]["crop"] for i in fresh[k:k + step]]))
                    for k in range(0, len(fresh), step)))
            except Exception as e:  # noqa: BLE001 - as above
                self.metrics.dropped.inc()
                log.warning("embedder call failed (%s); frame dropped", type(e).__name__)
                raise HTTPException(503, "embedder unavailable; frame dropped, retry shortly") from e
            self.metrics.latency.labels("embed").observe(time.perf_counter() - t1)
            for chunk in chunks:
                self.metrics.batch.labels("embed").observe(chunk["batch_size"])
            emb = np.concatenate([chunk["embeddings"] for chunk in chunks])
        seen = observe(plan, boxes, emb, matcher)
        self.metrics.embedded.inc(len(fresh))
        self.metrics.reused.inc(len(plan.usable) - len(fresh))
        face_of, matches = seen.face_of, seen.matches
        decisions = state.tracker.update(camera_id, now, seen.observations)
        raised: list[AlertOut] = []
        image = None
        for d in decisions:
            face = faces[face_of[d.index]]
            match = matches[d.index]
            alert = alerts_lib.NewAlert(
                deployment_id=dep_id, version_id=state.version["id"], subject_ref=d.subject_ref,
                category=match.category, score=d.score, camera_id=camera_id, track_id=d.track_id,
                captured_at=when, watchlist_image_uri=match.image_uri)
            if image is None:  # decoded here only for an alert's probe crop, off the event loop
                image = await asyncio.to_thread(self._decode, body)
            crop = await asyncio.to_thread(probe_crop_jpeg, image, face["box"])
            row = await self._db(alerts_lib.raise_alert, self.store, self.settings.s3.bucket_alerts, alert, crop,
                                 SERVICE_ACTOR)
            raised.append(AlertOut(id=str(row["id"]), subject_ref=d.subject_ref, score=d.score, track_id=d.track_id))
            self.metrics.alerts.labels(str(dep_id)).inc()
        if raised:
            log.info("deployment %s camera %s: %d alert(s) raised", dep_id, camera_id, len(raised))
        self.metrics.frames.labels(str(dep_id), camera_id).inc()
        self.metrics.faces.labels(str(dep_id), camera_id).inc(len(faces))
        self.metrics.latency.labels("total").observe(time.perf_counter() - started)
        self._count(dep_id, camera_id, frames=1, faces=len(faces))
        return FrameResult(deployment_id=str(dep_id), camera_id=camera_id, captured_at=when, faces=len(faces),
                           boxes=[[round(float(v), 1) for v in f["box"]] for f in faces], alerts=raised)

    def _decode(self, body: bytes) -> np.ndarray:
        from lfr_core.vision.images import decode_image

        vision = self.settings.vision
        return decode_image(body, max_pixels=vision.max_image_pixels,
                            max_bytes=min(vision.max_image_bytes, self.settings.serve.max_body_bytes))

    @app.get("/v1/deployments/{deployment_id}/alerts", summary="Alerts of a deployment (newest first)",
             response_model=list[AlertView], responses=errors(401, 403, 404, 422, 503))
    async def list_alerts(self, deployment_id: str = Path(max_length=64), status: AlertStatus | None = None,
                          limit: int = Query(200, ge=1, le=1000), reason: str = REASON,
                          auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> list[AlertView]:
        actor = await self.access.person(auth, "operator", "admin", "auditor")
        dep_id = self._uuid(deployment_id, "deployment")
        # An operator sees only deployments they are assigned to; another one answers as an unknown one.
        if not await self._db(self._as, actor, deployments.visible, dep_id):
            raise HTTPException(404, f"no deployment {deployment_id!r} among {actor.name}'s")
        rows = await self._db(self._as, actor, alerts_lib.list_alerts, dep_id, status=status, limit=limit)
        await self._db(consultations.record, actor, "alert_list", "deployment", str(dep_id), reason,
                       status=status, alerts=len(rows))
        return [self._alert_out(r) for r in rows]

    @staticmethod
    def _alert_out(row: dict[str, Any]) -> AlertView:
        keep = ("id", "deployment_id", "version_id", "subject_ref", "category", "score", "camera_id", "track_id",
                "captured_at", "raised_at", "status", "adjudicated_by", "adjudicated_at")
        out = {k: (str(row[k]) if isinstance(row[k], uuid.UUID) else row[k]) for k in keep}
        return AlertView(**out, probe_crop_url=f"/v1/alerts/{row['id']}/probe",
                         watchlist_image_url=f"/v1/alerts/{row['id']}/watchlist-image"
                         if row["watchlist_image_uri"] else None)

    async def _alert_for(self, alert_id: str, auth: HTTPAuthorizationCredentials | None,
                         *roles: str) -> tuple[Actor, dict[str, Any]]:
        """The alert, if this person may see it. Row-level security hides another deployment's alert from
        its operators, so it answers exactly as a missing one does."""
        actor = await self.access.person(auth, *roles)
        try:
            return actor, await self._db(self._as, actor, alerts_lib.get_alert, alert_id)
        except NotFound as e:
            raise HTTPException(404, f"no alert {alert_id[:64]!r} among {actor.name}'s deployments") from e

    @app.post("/v1/alerts/{alert_id}/adjudication", summary="An operator's decision on an alert",
              response_model=AlertView, responses=errors(400, 401, 403, 404, 409, 422, 503))
    async def adjudicate(self, decision: Adjudication, alert_id: str = Path(max_length=64),
                         auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> AlertView:
        actor, _ = await self._alert_for(alert_id, auth, "operator", "admin")
        try:
            row = await self._db(alerts_lib.adjudicate, self.store, alert_id, decision.outcome, actor, decision.note)
        except InvalidInput as e:
            raise HTTPException(422, str(e)) from e
        except Refused as e:
            raise HTTPException(409, str(e)) from e
        return self._alert_out(row)

    async def _image(self, actor: Actor, row: dict[str, Any], what: str, reason: str) -> Response:
        uri = row["probe_crop_uri" if what == "probe_crop" else "watchlist_image_uri"]
        if not uri:
            raise HTTPException(404, "no image for this alert")
        try:
            data = await asyncio.to_thread(self.store.get_uri, uri)
        except ObjectStoreUnavailable as e:
            raise HTTPException(503, "the object store is unavailable; retry shortly", headers={"Retry-After": "5"}) from e
        except ObjectStoreError as e:
            raise HTTPException(404, "this image is no longer stored") from e
        # Logged before it is handed over; if the record cannot be written, the image is not served.
        await self._db(consultations.record, actor, what, "alert", str(row["id"]), reason,
                       deployment_id=str(row["deployment_id"]))
        media = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        return Response(data, media_type=media, headers={"Cache-Control": "no-store"})

    _IMAGE_RESPONSES = {200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}},
                        **errors(401, 403, 404, 422, 503)}

    @app.get("/v1/alerts/{alert_id}/probe", summary="The alert's probe crop (JPEG)", response_class=Response,
             responses=_IMAGE_RESPONSES)
    async def probe_image(self, alert_id: str = Path(max_length=64), reason: str = REASON,
                          auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Response:
        actor, row = await self._alert_for(alert_id, auth, "operator", "admin", "auditor")
        return await self._image(actor, row, "probe_crop", reason)

    @app.get("/v1/alerts/{alert_id}/watchlist-image", summary="The matched watchlist image", response_class=Response,
             responses=_IMAGE_RESPONSES)
    async def watchlist_image(self, alert_id: str = Path(max_length=64), reason: str = REASON,
                              auth: HTTPAuthorizationCredentials | None = Security(person_token)) -> Response:
        actor, row = await self._alert_for(alert_id, auth, "operator", "admin", "auditor")
        return await self._image(actor, row, "watchlist_image", reason)

    @app.get("/console", response_class=HTMLResponse, summary="Operator console (pending alerts)")
    async def console(self) -> HTMLResponse:  # the page reads ?deployment= itself
        return HTMLResponse(CONSOLE_HTML, headers={"Cache-Control": "no-store"})

