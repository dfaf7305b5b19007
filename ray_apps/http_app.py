"""The FastAPI application that the ingress serves. Its routes are methods of the ingress and of the
route groups it inherits (ray_apps/officer_routes.py, ray_apps/public_routes.py): Serve binds every route
whose method is in the ingress class's hierarchy."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.errors import InvalidInput, Refused
from lfr_core.storage.objectstore import ObjectStoreUnavailable
from ray_apps.http_contract import answer_unavailable, refuse_invalid, use_one_error_shape
from ray_apps.offline_docs import add_offline_docs

app = FastAPI(
    title="LFR live matching",
    version="1",
    description="Frames from a deployment's cameras in, alerts for a human officer out. "
                "Cameras post frames with a camera key (`X-API-Key`) bound to one deployment; people sign in "
                "(`POST /v1/auth/token`, or the force's OIDC provider) and send `Authorization: Bearer`. "
                "The public record of each deployment is under `/public/`.",
    docs_url=None,  # served from bundled assets below: no CDN on a police network
    redoc_url=None,
)
add_offline_docs(app)
use_one_error_shape(app)
refuse_invalid(app, InvalidInput)
answer_unavailable(app, {psycopg.OperationalError: "PostgreSQL", DatabaseUnavailable: "PostgreSQL",
                         ObjectStoreUnavailable: "the object store"})


@app.exception_handler(Refused)
async def _refused(_: Request, exc: Refused) -> JSONResponse:
    """What the database refused a person (acting() could not take on their role, a trigger said no) and no
    route answered itself: their rights do not allow it, never a server error."""
    return JSONResponse({"detail": str(exc)}, status_code=403)
