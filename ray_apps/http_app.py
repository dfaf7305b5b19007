"""The FastAPI application that the ingress serves. Its routes are methods of the ingress and of the
route groups it inherits (ray_apps/officer_routes.py, ray_apps/public_routes.py): Serve binds every route
whose method is in the ingress class's hierarchy. Errors answer in one shape, domain errors from one table
(ray_apps/http_errors.py)."""

from __future__ import annotations

from fastapi import FastAPI

from ray_apps.http_contract import use_one_error_shape
from ray_apps.http_errors import use_error_table
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
use_error_table(app)
