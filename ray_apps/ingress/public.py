"""The public record of each deployment (lfr_core/reporting/public_record.py), open to anyone: the list of
deployments, each one's notice (a web page, and a printable sign and leaflet) and, once its window is over,
its results. No sign-in, nothing about anyone on a watchlist. The routes take the replica's context as a
declared dependency (ray_apps/ingress/context.py)."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BeforeValidator

from lfr_core.errors import NotFound
from lfr_core.reporting import grid, public_record
from lfr_core.reporting.model import Notice
from lfr_core.times import force_zone
from ray_apps.ingress.context import Ctx, IngressContext, uuid_of
from ray_apps.ingress.contract import errors

PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


def _iso_day(value: object) -> object:
    """A day written YYYY-MM-DD only: pydantic would read "0" as 1 January 1970."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]

router = APIRouter()


async def _public_notice(ctx: IngressContext, deployment_id: str) -> Notice:
    """The notice of a deployment the public may see; any other answers as a missing one, word for word."""
    missing = NotFound(f"no deployment {deployment_id!r}")
    dep_id = uuid_of(deployment_id, "deployment")
    try:
        note: Notice = await ctx.db(public_record.notice, ctx.settings, dep_id)
    except NotFound as e:
        raise missing from e
    if note["status"] not in public_record.PUBLIC_STATUSES:
        raise missing
    return note


async def _notice_if_any(ctx: IngressContext, deployment_id: str) -> Notice | None:
    """The notice the public may see, or None where the id names none: for the page, whose answer to a missing
    deployment is a page of its own, not the error table's JSON (every other error still goes to the table)."""
    try:
        return await _public_notice(ctx, deployment_id)
    except (NotFound, HTTPException) as e:
        if isinstance(e, HTTPException) and e.status_code != 404:
            raise
        return None


@router.get("/public/deployments", response_class=HTMLResponse, summary="Public: every deployment, newest first",
            responses=errors(503))
async def public_index(ctx: Ctx) -> HTMLResponse:
    rows = await ctx.db(public_record.public_deployments)
    return HTMLResponse(public_record.render_index(rows, ctx.settings), headers=PUBLIC_CACHE)


@router.get("/public/deployments/{deployment_id}", response_class=HTMLResponse,
            summary="Public: a deployment's notice and, after its window, its results",
            responses=errors(404, 422, 503))
async def public_page(ctx: Ctx, deployment_id: str = Path(max_length=64)) -> HTMLResponse:
    note = await _notice_if_any(ctx, deployment_id)
    if note is None:
        # A person followed a link or typed an address: they read a page (with the way back), not an error's JSON.
        return HTMLResponse(public_record.render_missing(deployment_id, ctx.settings), status_code=404,
                            headers=PUBLIC_CACHE)
    outcome = (await ctx.db(public_record.results_if_kept, note["deployment_id"])
               if note["status"] in public_record.FINISHED_STATUSES else None)
    return HTMLResponse(public_record.render_page(note, outcome), headers=PUBLIC_CACHE)


@router.get("/public/deployments/{deployment_id}/results", summary="Public: a deployment's results (JSON)",
            responses=errors(404, 409, 422, 503))
async def public_results(ctx: Ctx, deployment_id: str = Path(max_length=64)) -> dict[str, Any]:
    note = await _public_notice(ctx, deployment_id)
    if note["status"] not in public_record.FINISHED_STATUSES:
        raise HTTPException(409, "results are published once the deployment's window is over")
    results: dict[str, Any] = await ctx.db(public_record.results, note["deployment_id"])
    return results


@router.get("/public/deployments/{deployment_id}/notice.pdf", response_class=Response,
            summary="Public: the notice as a printable sign or leaflet",
            responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                       **errors(404, 422, 503)})
async def public_notice_pdf(ctx: Ctx, deployment_id: str = Path(max_length=64),
                            format: Literal["sign", "leaflet"] = Query("leaflet")) -> Response:
    note = await _public_notice(ctx, deployment_id)
    pdf = await asyncio.to_thread(public_record.render_pdf, note, format)
    return Response(pdf, media_type="application/pdf", headers={
        **PUBLIC_CACHE, "Content-Disposition": f'inline; filename="lfr-{format}-{note["deployment_id"][:8]}.pdf"'})


@router.get("/public/records", summary="Public: the deployment-record grid (one row per closed deployment, the Met's "
            "columns) and its annual summary, as a page, CSV or JSON", response_class=Response,
            responses={200: {"content": {"text/html": {}, "text/csv": {}, "application/json": {}}}, **errors(422, 503)})
async def public_records(ctx: Ctx, format: Literal["html", "csv", "json"] = Query("html"),
                         since: Day | None = Query(None, description="Deployments from this day (the force's time)")
                         ) -> Response:
    start = datetime.combine(since, time(), force_zone()) if since else None
    built: grid.Grid = await ctx.db(grid.build, start)
    if format == "csv":
        return Response(grid.to_csv(built), media_type="text/csv; charset=utf-8", headers={
            **PUBLIC_CACHE, "Content-Disposition": 'inline; filename="lfr-deployment-records.csv"'})
    if format == "json":
        return JSONResponse(built.as_json(), headers=PUBLIC_CACHE)
    return HTMLResponse(grid.render_page(built, ctx.settings.public.force_name), headers=PUBLIC_CACHE)

