"""The ingress's own state for its operators: liveness, Prometheus metrics and writing the counters now."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ray_apps.ingress.context import Admin, Ctx
from ray_apps.ingress.contract import Flushed, Health, errors

router = APIRouter()


@router.get("/healthz", summary="Liveness of the ingress", response_model=Health)
async def healthz(ctx: Ctx) -> Health:
    return Health(ok=True, inflight=ctx.live.frames_in_progress(), deployments=ctx.live.deployments_loaded())


@router.get("/metrics", summary="Prometheus metrics (an admin: the labels name deployments and cameras)",
            response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 403, 503)})
async def metrics_endpoint(ctx: Ctx, _: Admin) -> Response:
    ctx.metrics.tracks.set(ctx.live.track_count())
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/admin/flush", summary="Write pending per-camera counters now (an admin)", response_model=Flushed,
             responses=errors(401, 403, 503))
async def flush_now(ctx: Ctx, _: Admin) -> Flushed:
    return Flushed(cameras=await ctx.counters.flush())
