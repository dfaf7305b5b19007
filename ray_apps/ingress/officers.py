"""The routes officers use (the operator console and its API): their deployments, a deployment's alerts
(listed, or pushed as server-sent events), decisions with a note and a short undo, what came of an
engagement, the two face crops of an alert, the dashboard and the camera tiles, and the post-deployment reviews
assigned to the person with their findings.

Each route takes the replica's context and the signed-in person as declared dependencies
(ray_apps/ingress/context.py). Every read of alerts or their images runs as the signed-in person, and is logged
with the reason they gave before anything is handed over (lfr_core/identity/consultations.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from lfr_core.alerts import reviews as reviews_lib
from lfr_core.alerts import service as alerts_lib
from lfr_core.deployments import service as deployments
from lfr_core.errors import NotFound
from lfr_core.identity import consultations
from lfr_core.identity.model import Actor
from lfr_core.live.pipeline import face_crop_jpeg
from lfr_core.reporting import officer_view
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable
from ray_apps.ingress.console import console_page
from ray_apps.ingress.context import OFFICERS, Credentials, Ctx, Decider, IngressContext, Officer, uuid_of
from ray_apps.ingress.contract import (
    REASON,
    Adjudication,
    AlertStatus,
    AlertView,
    CameraTile,
    Dashboard,
    DeploymentSummary,
    Engagement,
    Finding,
    ReviewView,
    errors,
)
from ray_apps.ingress.errors import ANSWERED, answer
from ray_apps.ingress.frames import IMAGE_TYPES

STREAM_POLL_S = 1.0
STREAM_KEEPALIVE_S = 15.0
STREAM_MAX_S = 600.0  # then the console reconnects (and the view is logged again, with its reason)
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}},
    **errors(401, 403, 404, 422, 503),
}

router = APIRouter()


async def _visible_deployment(ctx: IngressContext, actor: Actor, deployment_id: str) -> uuid.UUID:
    """The deployment, if this person may look into it; another one answers exactly as a missing one."""
    dep_id = uuid_of(deployment_id, "deployment")
    if not await ctx.as_person(actor, deployments.visible, dep_id):
        raise HTTPException(404, f"no deployment {deployment_id!r} among {actor.name}'s")
    return dep_id


def _alert_out(row: dict[str, Any], undo: timedelta, viewer: str) -> AlertView:
    row = alerts_lib.as_seen_by(row, viewer)  # the second verifier decides without seeing the first (issue 28)
    keep = ("id", "deployment_id", "version_id", "subject_ref", "category", "score", "camera_id", "track_id",
            "captured_at", "raised_at", "status", "adjudicated_by", "adjudicated_at", "engagement",
            "disposal", "engagement_by", "verification", "second_status", "second_by", "second_at")
    out = {k: (str(row[k]) if isinstance(row[k], uuid.UUID) else row[k]) for k in keep}
    undo_until = (row["adjudicated_at"] + undo
                  if row["adjudicated_at"] is not None and not row["engagement"] else None)
    return AlertView(**out, rationale=row.get("rationale"), note=row["outcome"], undo_until=undo_until,
                     probe_crop_url=f"/v1/alerts/{row['id']}/probe",
                     watchlist_image_url=f"/v1/alerts/{row['id']}/watchlist-image"
                     if row["watchlist_image_uri"] else None)


async def _alert_for(ctx: IngressContext, actor: Actor, alert_id: str) -> dict[str, Any]:
    """The alert, if this person may see it. Row-level security hides another deployment's alert from
    its operators, so it answers exactly as a missing one does."""
    try:
        row: dict[str, Any] = await ctx.as_person(actor, alerts_lib.get_alert, alert_id)
    except NotFound as e:  # said as the person sees it: another deployment's alert is missing to them
        raise NotFound(f"no alert {alert_id[:64]!r} among {actor.name}'s deployments") from e
    return row


async def _change(ctx: IngressContext, actor: Actor, alert_id: str,
                  apply: Callable[[psycopg.Connection, Actor], Any]) -> AlertView:
    """A decision, an undo or an outcome: `apply(conn, actor)` as the person; the database has the last
    word on each. Answers with the alert as it now stands."""
    await _alert_for(ctx, actor, alert_id)
    await ctx.db(apply, actor)
    row = await ctx.as_person(actor, alerts_lib.get_alert_view, alert_id)
    return _alert_out(row, await ctx.undo_window(), actor.name)


@router.get("/v1/me/deployments", summary="The deployments this officer is assigned to",
            response_model=list[DeploymentSummary], responses=errors(401, 403, 503))
async def my_deployments(ctx: Ctx, actor: Officer) -> list[DeploymentSummary]:
    rows = await ctx.as_person(actor, officer_view.my_deployments)
    return [DeploymentSummary(**{**r, "id": str(r["id"])}) for r in rows]


@router.get("/v1/deployments/{deployment_id}/alerts", summary="Alerts of a deployment (newest first)",
            response_model=list[AlertView], responses=errors(401, 403, 404, 422, 503))
async def list_alerts(ctx: Ctx, actor: Officer, deployment_id: str = Path(max_length=64),
                      status: AlertStatus | None = None, limit: int = Query(200, ge=1, le=1000),
                      reason: str = REASON) -> list[AlertView]:
    dep_id = await _visible_deployment(ctx, actor, deployment_id)
    rows = await ctx.as_person(actor, alerts_lib.list_alerts, dep_id, status=status, limit=limit)
    await ctx.db(consultations.record, actor, "alert_list", "deployment", str(dep_id), reason,
                 status=status, alerts=len(rows))
    undo = await ctx.undo_window()
    return [_alert_out(r, undo, actor.name) for r in rows]


@router.get("/v1/deployments/{deployment_id}/alerts/stream", response_class=StreamingResponse,
            summary="A deployment's alerts pushed as server-sent events (the whole list whenever it changes)",
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
                       **errors(401, 403, 404, 422, 503)})
async def stream_alerts(ctx: Ctx, actor: Officer, auth: Credentials, request: Request,
                        deployment_id: str = Path(max_length=64), limit: int = Query(50, ge=1, le=200),
                        reason: str = REASON) -> StreamingResponse:
    dep_id = await _visible_deployment(ctx, actor, deployment_id)
    await ctx.db(consultations.record, actor, "alert_list", "deployment", str(dep_id), reason, stream=True)
    undo = await ctx.undo_window()

    async def events() -> AsyncIterator[str]:
        last, quiet, ends = None, 0.0, time.monotonic() + STREAM_MAX_S
        while not await request.is_disconnected() and time.monotonic() < ends:
            # Checked again each round: a disabled person or an expired token ends the stream.
            try:
                await ctx.access.person(auth, *OFFICERS)
            except ANSWERED as e:  # the stream has answered 200 already: the reason goes in its last event
                yield f"event: end\ndata: {json.dumps({'detail': answer(e).detail})}\n\n"
                return
            rows = await ctx.as_person(actor, alerts_lib.list_alerts, dep_id, limit=limit)
            snapshot = [_alert_out(r, undo, actor.name).model_dump(mode="json") for r in rows]
            if snapshot != last:
                last, quiet = snapshot, 0.0
                yield f"event: alerts\ndata: {json.dumps(snapshot)}\n\n"
            elif quiet >= STREAM_KEEPALIVE_S:
                quiet = 0.0
                yield ": still here\n\n"
            await asyncio.sleep(STREAM_POLL_S)
            quiet += STREAM_POLL_S

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/v1/alerts/{alert_id}/adjudication", summary="An operator's decision on an alert, with a note",
             response_model=AlertView, responses=errors(400, 401, 403, 404, 409, 422, 503))
async def adjudicate(ctx: Ctx, actor: Decider, decision: Adjudication,
                     alert_id: str = Path(max_length=64)) -> AlertView:
    return await _change(ctx, actor, alert_id, lambda conn, actor: alerts_lib.adjudicate(
        conn, ctx.store, alert_id, decision.outcome, actor, decision.note))


@router.post("/v1/alerts/{alert_id}/undo", summary="Take back one's own decision within the undo window",
             response_model=AlertView, responses=errors(401, 403, 404, 409, 422, 503))
async def undo(ctx: Ctx, actor: Decider, alert_id: str = Path(max_length=64)) -> AlertView:
    return await _change(ctx, actor, alert_id, lambda conn, actor: alerts_lib.undo(conn, alert_id, actor))


@router.post("/v1/alerts/{alert_id}/engagement", summary="The engagement result after a viable match, and its outcome",
             response_model=AlertView, responses=errors(400, 401, 403, 404, 409, 422, 503))
async def engagement(ctx: Ctx, actor: Decider, outcome: Engagement,
                     alert_id: str = Path(max_length=64)) -> AlertView:
    return await _change(ctx, actor, alert_id, lambda conn, actor: alerts_lib.record_engagement(
        conn, alert_id, outcome.outcome, actor, outcome.note, outcome.disposal))


def _review_out(row: dict[str, Any]) -> ReviewView:
    return ReviewView(**{k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in row.items()
                         if k in ReviewView.model_fields})


@router.get("/v1/me/reviews", summary="The post-deployment reviews assigned to this officer and still open",
            response_model=list[ReviewView], responses=errors(401, 403, 503))
async def my_reviews(ctx: Ctx, actor: Officer) -> list[ReviewView]:
    return [_review_out(r) for r in await ctx.db(reviews_lib.open_for, actor)]


@router.post("/v1/alerts/{alert_id}/review", summary="The assigned reviewer's finding on an alert, once",
             response_model=ReviewView, responses=errors(400, 401, 403, 404, 409, 422, 503))
async def record_review(ctx: Ctx, actor: Officer, body: Finding, alert_id: str = Path(max_length=64)) -> ReviewView:
    row = await ctx.db(reviews_lib.record, uuid_of(alert_id, "alert"), body.finding, actor)
    return _review_out(row)


def _stored_image(store: ObjectStore, uri: str) -> bytes:
    """The image's bytes; an object the store answers for but no longer holds is missing (404), while a
    store that does not answer stays an outage (503)."""
    try:
        return store.get_uri(uri)
    except ObjectStoreUnavailable:
        raise
    except ObjectStoreError as e:
        raise NotFound("this image is no longer stored") from e


async def _image(ctx: IngressContext, actor: Actor, alert_id: str, what: str, reason: str) -> Response:
    row = await _alert_for(ctx, actor, alert_id)
    uri = row["probe_crop_uri" if what == "probe_crop" else "watchlist_image_uri"]
    if not uri:
        raise HTTPException(404, "no image for this alert")
    # A probe crop of an alert raised while the store was down waits in PostgreSQL until it is moved
    # there (lfr_core/alerts/service.py); it is read with the service's rights, the person having been shown the
    # alert, and its consultation is logged below as for any other.
    held = await ctx.db(alerts_lib.held_crop, row["id"]) if what == "probe_crop" else None
    data = held if held is not None else await asyncio.to_thread(_stored_image, ctx.store, uri)
    if what == "watchlist_image":  # the face, framed as the probe crop is, not the whole custody photograph
        box = await ctx.as_person(actor, officer_view.watchlist_face_box, row)
        data = await asyncio.to_thread(face_crop_jpeg, data, box)
    # Logged before it is handed over; if the record cannot be written, the image is not served.
    await ctx.db(consultations.record, actor, what, "alert", str(row["id"]), reason,
                 deployment_id=str(row["deployment_id"]))
    media = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return Response(data, media_type=media, headers={"Cache-Control": "no-store"})


@router.get("/v1/alerts/{alert_id}/probe", summary="The alert's probe crop (JPEG)", response_class=Response,
            responses=IMAGE_RESPONSES)
async def probe_image(ctx: Ctx, actor: Officer, alert_id: str = Path(max_length=64), reason: str = REASON) -> Response:
    return await _image(ctx, actor, alert_id, "probe_crop", reason)


@router.get("/v1/alerts/{alert_id}/watchlist-image", summary="The matched watchlist face (cropped as the probe)",
            response_class=Response, responses=IMAGE_RESPONSES)
async def watchlist_image(ctx: Ctx, actor: Officer, alert_id: str = Path(max_length=64),
                          reason: str = REASON) -> Response:
    return await _image(ctx, actor, alert_id, "watchlist_image", reason)


@router.get("/v1/deployments/{deployment_id}/dashboard", summary="The window, the live list and the counts so far",
            response_model=Dashboard, responses=errors(401, 403, 404, 422, 503))
async def dashboard(ctx: Ctx, actor: Officer, deployment_id: str = Path(max_length=64)) -> Dashboard:
    dep_id = await _visible_deployment(ctx, actor, deployment_id)
    # Aggregate numbers only (no alert is listed), read by the service once the person may see them.
    return Dashboard(**await ctx.db(officer_view.dashboard, dep_id))


@router.get("/v1/deployments/{deployment_id}/cameras", summary="Each camera's frames, faces, refusals and drops",
            response_model=list[CameraTile], responses=errors(401, 403, 404, 422, 503))
async def cameras(ctx: Ctx, actor: Officer, deployment_id: str = Path(max_length=64)) -> list[CameraTile]:
    dep_id = await _visible_deployment(ctx, actor, deployment_id)
    return [CameraTile(**r) for r in await ctx.as_person(actor, officer_view.cameras, dep_id)]


@router.get("/console", response_class=HTMLResponse, summary="Operator console")
async def console(ctx: Ctx) -> HTMLResponse:  # one self-contained page: no asset from outside
    return HTMLResponse(console_page(ctx.settings.time_zone), headers={"Cache-Control": "no-store"})
