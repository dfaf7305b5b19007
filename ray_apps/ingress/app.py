"""The FastAPI application that the ingress serves (ray_apps/ingress/replica.py). Its routes come in groups,
one module each: the operators' view of the service (operations.py), signing in (sessions.py), the cameras
(cameras.py), the officers (officers.py) and the public record (public.py); each takes the replica's context
and the signed-in person as declared dependencies (context.py). Errors answer in one shape (contract.py),
domain errors from one table (errors.py)."""

from __future__ import annotations

from fastapi import FastAPI

from ray_apps.ingress import cameras, officers, operations, public, sessions
from ray_apps.ingress.contract import use_one_error_shape
from ray_apps.ingress.errors import use_error_table
from ray_apps.ingress.offline_docs import add_offline_docs

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
use_error_table(app)
for group in (operations, sessions, cameras, officers, public):
    app.include_router(group.router)
