"""API docs that work on a police network with no internet: Swagger UI served from the bundled
`swagger-ui-bundle-v2` package (Apache-2.0) instead of FastAPI's default CDN links."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css",
          "favicon-32x32.png": "image/png"}
PREFIX = "/docs/assets"


def add_offline_docs(app: FastAPI) -> None:
    """`/docs` and its assets, from this machine only (create the app with `docs_url=None, redoc_url=None`)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title}: API docs",
                                   swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{PREFIX}/swagger-ui.css",
                                   swagger_favicon_url=f"{PREFIX}/favicon-32x32.png")

    @app.get(PREFIX + "/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, "no such docs asset")
        return Response((swagger_ui_path / name).read_bytes(), media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
