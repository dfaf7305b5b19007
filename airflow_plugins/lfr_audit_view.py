"""Admin audit view inside the Airflow UI: every deployment's watchlist versions with state, builder,
approver, model, counts, manifest hash and purge receipt, and the published transparency reports.

A FastAPI app mounted by the API server at /lfr-audit (server-rendered HTML, every value escaped) plus an
external view, so it appears in the UI's navigation. It requires the Airflow login (the JWT cookie the UI
sets) and reads the LFR database through lfr_core with the API server's LFR_* environment.
"""

from __future__ import annotations

import html
import json
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

PREFIX = "/lfr-audit"
app = FastAPI(title="LFR audit view", docs_url=None, redoc_url=None, openapi_url=None)

STYLE = """<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;
margin-bottom:2rem;font-size:.85rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.8rem}.purged{color:#777}.active{color:#070;font-weight:bold}</style>"""


async def current_user(request: Request) -> Any:
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    try:
        return await resolve_user_from_token(request.cookies.get("_token"))
    except HTTPException:
        return None


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                        f"{STYLE}</head><body>{body}</body></html>", status_code=status)


def _login_required() -> HTMLResponse:
    return _page("Login required", "<h1>Login required</h1><p><a href='/auth/login/' target='_top'>Log in to "
                 "Airflow</a> to see the LFR audit view.</p>", status=401)


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _receipt(receipt: dict[str, Any] | None) -> str:
    if not receipt:
        return "-"
    deleted = receipt.get("deleted", {})
    verified = receipt.get("verified", {})
    return (f"<code>{_e(receipt.get('receipt_uri'))}</code><br>sha256 <code>{_e(receipt.get('receipt_sha256'))}</code>"
            f"<br>deleted {_e(deleted.get('embeddings'))} templates, {_e(deleted.get('image_objects'))} images; "
            f"remaining {_e(verified.get('embeddings_remaining'))}/{_e(verified.get('objects_remaining'))}"
            f"<br>by {_e(receipt.get('purged_by'))} at {_e(receipt.get('purged_at'))}: {_e(receipt.get('reason'))}")


def audit_rows() -> list[dict[str, Any]]:
    from lfr_core import deployments
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.watchlist import lifecycle

    with connect(get_settings()) as conn:
        return [{"deployment": d, "versions": lifecycle.list_versions(conn, d["id"])}
                for d in deployments.list_all(conn)]


@app.get("/", response_class=HTMLResponse)
def index(user: Any = Depends(current_user)) -> HTMLResponse:
    if user is None:
        return _login_required()
    parts = ["<h1>LFR audit: deployments and watchlist versions</h1>"]
    rows = audit_rows()
    if not rows:
        parts.append("<p>No deployments yet.</p>")
    for item in rows:
        d = item["deployment"]
        parts.append(
            f"<h2 id='{_e(d['id'])}'>{_e(d['place'])} <small>({_e(d['status'])})</small></h2>"
            f"<p>Deployment <code>{_e(d['id'])}</code>, window {_e(d['window_start'])} to {_e(d['window_end'])}; "
            f"authorised by {_e(d['authorising_officer'])}; created by {_e(d['created_by'])}; "
            f"threshold {_e(d['threshold'])}. <a href='{PREFIX}/reports/{_e(d['id'])}'>Transparency report</a></p>")
        if not item["versions"]:
            parts.append("<p>No watchlist versions.</p>")
            continue
        parts.append("<table><tr><th>version</th><th>id</th><th>state</th><th>built by</th><th>approved by</th>"
                     "<th>model</th><th>entries (accepted/rejected)</th><th>manifest sha256</th><th>criteria sha256</th>"
                     "<th>activated / expired / purged</th><th>purge receipt</th></tr>")
        for v in item["versions"]:
            model = f"{_e(v['detector'].get('name'))} + {_e(v['embedder'].get('name'))}<br><code>{_e(v['embedder_sha256'][:16])}</code>"
            parts.append(
                f"<tr class='{_e(v['state'])}'><td>{_e(v['version'])}</td><td><code>{_e(v['id'])}</code></td>"
                f"<td>{_e(v['state'])}</td><td>{_e(v['built_by'])}</td><td>{_e(v['approved_by'])}</td><td>{model}</td>"
                f"<td>{_e(v['entries_total'])} ({_e(v['entries_accepted'])}/{_e(v['entries_rejected'])})</td>"
                f"<td><code>{_e(v['manifest_sha256'])}</code></td><td><code>{_e(v['criteria_sha256'])}</code></td>"
                f"<td>{_e(v['activated_at'])}<br>{_e(v['expired_at'])}<br>{_e(v['purged_at'])}</td>"
                f"<td>{_receipt(v['purge_receipt'])}</td></tr>")
        parts.append("</table>")
    return _page("LFR audit", "".join(parts))


@app.get("/reports/{deployment_id}", response_class=HTMLResponse)
def report(deployment_id: str, user: Any = Depends(current_user)) -> HTMLResponse:
    if user is None:
        return _login_required()
    from lfr_core.config import get_settings
    from lfr_core.reports import report_keys
    from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError

    settings = get_settings()
    _, md_key = report_keys(deployment_id)
    try:
        markdown = ObjectStore(settings).get_bytes(settings.s3.bucket_reports, md_key).decode()
    except ObjectStoreError:
        return _page("No report", f"<p>No report published for <code>{_e(deployment_id)}</code> yet.</p>", 404)
    return _page("Transparency report", f"<p><a href='{PREFIX}/'>Back</a></p><pre>{html.escape(markdown)}</pre>")


@app.get("/api/versions")
def versions_json(user: Any = Depends(current_user)) -> Any:
    if user is None:
        raise HTTPException(status_code=401, detail="Not authenticated")
    return json.loads(json.dumps(audit_rows(), default=str))


class LfrAuditViewPlugin(AirflowPlugin):
    name = "lfr_audit_view"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "LFR audit view"}]
    external_views = [{"name": "LFR audit", "href": f"{PREFIX}/", "url_route": "lfr-audit", "destination": "nav",
                       "category": "browse"}]
