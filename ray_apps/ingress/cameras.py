"""The cameras' routes: a frame posted on its own, or a stream of them over one WebSocket per camera. A
camera's key (bound to one deployment) is checked before anything is looked up; then the deployment's gate
(an active sealed list and the clock inside the window; otherwise 409, and the frame is not even decoded),
the frame's own checks (ray_apps/ingress/frames.py) and the frame pipeline (ray_apps/ingress/live.py)."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Security, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from lfr_core.live.wire import CAMERA_ID_HEADER, CAPTURE_TIME_HEADER, NOT_SENT_FIELD, NOT_SENT_HEADER
from ray_apps.ingress import errors as http_errors
from ray_apps.ingress import frames
from ray_apps.ingress.context import Ctx, uuid_of
from ray_apps.ingress.contract import CAMERA_PATTERN, FrameResult, camera_key, errors
from ray_apps.ingress.live import BACKPRESSURE_HEADER

router = APIRouter()


@router.post(
    "/v1/deployments/{deployment_id}/frames",
    response_model=FrameResult,
    summary="Match one camera frame",
    responses=errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra={"requestBody": {"required": True, "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in frames.IMAGE_TYPES}}},
)
async def post_frame(
    ctx: Ctx,
    request: Request,
    response: Response,
    deployment_id: str = Path(max_length=64),
    x_api_key: str | None = Security(camera_key),
    camera: str | None = Query(None, pattern=CAMERA_PATTERN, description="Camera id (or header X-Camera-Id)"),
    captured_at: str | None = Query(None, max_length=64,
                                    description="Capture time, ISO 8601 with a zone or epoch seconds "
                                                "(or X-Capture-Time); at most serve.max_clock_skew_s from "
                                                "the server clock"),
    x_camera_id: str | None = Header(None, alias=CAMERA_ID_HEADER, pattern=CAMERA_PATTERN),
    x_capture_time: str | None = Header(None, alias=CAPTURE_TIME_HEADER, max_length=64),
    x_camera_not_sent: int | None = Header(None, alias=NOT_SENT_HEADER, ge=0,
                                           description="The frames this camera read and did not send, so far"),
) -> FrameResult:
    started = time.perf_counter()
    dep_id = uuid_of(deployment_id, "deployment")
    await ctx.access.camera(x_api_key, dep_id)  # before any lookup: nothing is loaded for a key not bound here
    live = await ctx.live.state(dep_id)
    camera_id = camera or x_camera_id or "default"
    ctx.live.camera_not_sent(dep_id, camera_id, x_camera_not_sent)
    try:
        ctype = frames.content_type(request.headers.get("content-type"))
        frames.check_declared_size(request.headers.get("content-length"), ctx.settings.serve.max_body_bytes)
    except HTTPException as e:
        ctx.live.refused(e)
        raise
    ctx.live.open_gate(live, dep_id, camera_id)  # before the body is read, let alone decoded
    when = frames.capture_time(captured_at or x_capture_time, ctx.settings.serve.max_clock_skew_s)
    response.headers["X-LFR-Replica"] = ctx.live.replica_id  # which replica holds this camera's tracks
    async with ctx.live.camera_slot(dep_id, camera_id):
        return await ctx.live.frame(live, dep_id, camera_id, ctype, when, await request.body(), started)


@router.websocket("/v1/deployments/{deployment_id}/stream")
async def stream_frames(ctx: Ctx, websocket: WebSocket, deployment_id: str,
                        camera: str = Query("default", pattern=CAMERA_PATTERN)) -> None:
    """One long-lived connection per camera (`lfr feed` uses it): each binary message is a frame, its
    capture time (8 bytes, big-endian float64 epoch seconds; 0 for now) then the JPEG or PNG bytes; each
    text message back is that frame's result (a text message from the camera, {"not_sent": N}, reports the
    frames it read and did not send, and is not answered), or `{"status": <HTTP status>, "detail": ...}`, in order.
    A refused connection closes with code 4000 + the HTTP status it would have had. Both answer from the
    app's one error table (ray_apps/ingress/errors.py), which a WebSocket route does not pass through."""
    try:
        dep_id = uuid_of(deployment_id, "deployment")
        await ctx.access.camera(websocket.headers.get("x-api-key"), dep_id)
    except http_errors.ANSWERED as e:  # accepted first, so that the camera reads the code and the reason
        refused = http_errors.answer(e)
        await websocket.accept()
        await websocket.close(code=4000 + refused.status, reason=refused.detail[:120])
        return
    await websocket.accept()
    while True:
        try:
            received = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):  # closed
            return
        if received.get("text") is not None:  # the camera's losses so far; any other text: the camera is done
            not_sent = camera_report(received["text"])
            if not_sent is None:
                return
            ctx.live.camera_not_sent(dep_id, camera, not_sent)
            continue
        message = received.get("bytes")
        if message is None:  # websocket.disconnect
            return
        started = time.perf_counter()
        try:
            live = await ctx.live.state(dep_id)
            value, body = frames.split_streamed(message)
            ctype = frames.sniff_type(body)
            ctx.live.open_gate(live, dep_id, camera)
            when = frames.capture_time(value, ctx.settings.serve.max_clock_skew_s)
            async with ctx.live.camera_slot(dep_id, camera):
                result = await ctx.live.frame(live, dep_id, camera, ctype, when, body, started)
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


def camera_report(text: str) -> int | None:
    """The running total in a camera's text message {"not_sent": N} (lfr_core/live/wire.py), or None."""
    try:
        report = json.loads(text)
    except ValueError:
        return None
    total = report.get(NOT_SENT_FIELD) if isinstance(report, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
