"""The authoriser's face view and probe test inside the Airflow UI (issue 27 item 6), linked from the approval's
Required Action body (lfr_core/workflow/approval.py FACES_VIEW): an authoriser assigned to the deployment pages
through a version's accepted faces (crops, never the custody photographs) and tests probe images against it, each
face's top candidates with their scores against the list's threshold and the projected false-alert rate at its
size.

A FastAPI app mounted by the API server at /lfr-watchlist (server-rendered HTML, every value escaped, the one
script inline: no asset from the internet). It requires the Airflow login of a person of the platform and acts in
their own database role, where lfr_core/db/policy/45_watchlist_inspection.sql checks their assignment and logs
each page and test with its reason before it answers. Face crops go to the browser inline (data: URIs) and a
probe is posted as the request's body and read into memory (a multipart upload could spill to a temporary file):
nothing of either is written anywhere.
"""

from __future__ import annotations

import base64
import functools
import html
from typing import Any
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from lfr_core.workflow.approval import FACES_VIEW

PREFIX = FACES_VIEW
MAX_PROBE_BYTES = 20 * 1024 * 1024
app = FastAPI(title="LFR watchlist faces", docs_url=None, redoc_url=None, openapi_url=None)

STYLE = """<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:1rem 1.2rem} h1{font-size:1.3rem} h2{font-size:1.1rem}
section{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}
.grid{display:flex;flex-wrap:wrap;gap:.8rem} figure{margin:0;width:140px;font-size:.8rem}
figure img{width:140px;height:160px;object-fit:cover;border-radius:4px;background:#ddd}
table{border-collapse:collapse;width:100%;font-size:.85rem} th,td{border-bottom:1px solid #e1e4ea;padding:.3rem;
text-align:left} .alert{color:#b3261e;font-weight:600} .muted{color:#5b6475}
</style>"""

SCRIPT = """<script>
document.getElementById('probe').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const file = document.getElementById('probe-file').files[0];
  const reason = document.getElementById('probe-reason').value;
  const out = document.getElementById('probe-result');
  if (!file) { out.textContent = 'Choose an image.'; return; }
  out.textContent = 'Testing...';
  const r = await fetch(ev.target.action + '?reason=' + encodeURIComponent(reason),
                        {method: 'POST', body: file,
                         headers: {'Content-Type': 'application/octet-stream', 'X-LFR-Probe': '1'}});
  out.innerHTML = await r.text();  // server-rendered, every value escaped
  document.getElementById('probe-file').value = '';
});
</script>"""


async def current_user(request: Request) -> Any:
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    try:
        return await resolve_user_from_token(request.cookies.get("_token"))
    except HTTPException:
        return None


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                        f"<title>{_e(title)}</title>{STYLE}</head><body><main>{body}</main></body></html>",
                        status_code=status)


def _error(e: Exception) -> tuple[str, int]:
    """A domain error as its message and HTTP status, from the domain's one table (lfr_core/errors.py)."""
    from lfr_core.errors import HTTP_STATUS, LfrError, row_for

    return str(e), row_for(HTTP_STATUS, type(e), "the HTTP status table") if isinstance(e, LfrError) else 500


@functools.cache
def _engine() -> Any:
    """The face engine, loaded once per API server process."""
    from lfr_core.config import get_settings
    from lfr_core.vision.engine import build_engine

    return build_engine(get_settings())


def _actor(user: Any) -> Any:
    from lfr_core.identity.model import Actor

    return Actor(user.get_name(), "authoriser")


def faces_html(version_id: str, shown: Any, reason: str) -> str:
    """A page of face crops with paging links that keep the reason (each page is its own logged consultation)."""
    tiles = "".join(
        f"<figure><img alt='face of {_e(f.subject_ref)}' src='data:image/jpeg;base64,"
        f"{base64.b64encode(f.jpeg).decode()}'><figcaption>{_e(f.subject_ref)} #{_e(f.image_index)}<br>"
        f"<span class='muted'>{_e(f.category)}</span></figcaption></figure>" for f in shown.faces)
    link = f"{PREFIX}/{quote(version_id)}/?reason={quote(reason)}&page="
    nav = " ".join(f"<a href='{_e(link + str(p))}'>{p}</a>" if p != shown.page else f"<strong>{p}</strong>"
                   for p in range(1, shown.pages + 1))
    return (f"<section><h2>Accepted faces: page {shown.page} of {shown.pages} ({shown.total} in all)</h2>"
            f"<div class='grid'>{tiles or '<p>No face on this page.</p>'}</div><p>Pages: {nav}</p></section>")


def probe_html(result: Any) -> str:
    """Each probe face's candidates against the threshold, and the projection at the list's size."""
    from lfr_core.watchlist.inspection import projected_line

    parts = [f"<p>Threshold {result.threshold:.4f}; {_e(projected_line(result))}.</p>"]
    if not result.faces:
        parts.append("<p>No face found in the probe.</p>")
    for n, face in enumerate(result.faces, 1):
        rows = "".join(f"<tr><td>{_e(c.subject_ref)} #{_e(c.image_index)}</td><td>{_e(c.category)}</td>"
                       f"<td>{c.score:.4f}</td><td>{'<span class=alert>alert</span>' if c.would_alert else 'no'}"
                       f"</td></tr>" for c in face.candidates)
        parts.append(f"<h3>Face {n}: {_e(face.note)}</h3>" + (
            f"<table><tr><th>candidate</th><th>category</th><th>score</th><th>at threshold</th></tr>{rows}</table>"
            if rows else ""))
    return "".join(parts)


@app.get("/{version_id}/", response_class=HTMLResponse)
def faces(version_id: str, user: Any = Depends(current_user), reason: str = Query("", max_length=500),
          page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
    if user is None:
        return _page("Login required", "<p><a href='/auth/login/' target='_top'>Log in to Airflow</a>.</p>", 401)
    ask = (f"<form method='get' action='{PREFIX}/{_e(quote(version_id))}/'><label>Why are you viewing these faces? "
           f"<input name='reason' required minlength='3' maxlength='500' size='50' value='{_e(reason)}'></label> "
           f"<button>View faces</button></form>")
    head = f"<h1>Watchlist version {_e(version_id)}</h1><section>{ask}<p class='muted'>Each page and each probe " \
           f"test is logged in your name with this reason.</p></section>"
    if not reason.strip():
        return _page("Watchlist faces", head)
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.errors import LfrError
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.watchlist import inspection

    settings = get_settings()
    try:
        with connect(settings) as conn:
            shown = inspection.faces(conn, ObjectStore(settings), _actor(user), version_id, reason=reason, page=page)
    except LfrError as e:
        message, status = _error(e)
        return _page("Not shown", head + f"<section><p class='alert'>{_e(message)}</p></section>", status)
    probe_form = (f"<section><h2>Test a probe image against this list</h2><form id='probe' method='post' "
                  f"action='{PREFIX}/{_e(quote(version_id))}/probe'><input type='file' id='probe-file' "
                  f"accept='image/*'> <input id='probe-reason' type='hidden' value='{_e(reason)}'> "
                  f"<button>Test</button></form><div id='probe-result'></div>"
                  f"<p class='muted'>The image is searched in memory and never stored.</p></section>")
    return _page("Watchlist faces", head + faces_html(version_id, shown, reason) + probe_form + SCRIPT)


@app.post("/{version_id}/probe", response_class=HTMLResponse)
async def probe(version_id: str, request: Request, user: Any = Depends(current_user),
                reason: str = Query("", max_length=500)) -> HTMLResponse:
    if user is None:
        return HTMLResponse("<p class='alert'>Log in to Airflow first.</p>", 401)
    if request.headers.get("x-lfr-probe") != "1":  # only this page's script: no other site can post a probe
        return HTMLResponse("<p class='alert'>Post probes from the faces page.</p>", 400)
    data = await request.body()  # in memory, never spooled to disk
    if not data or len(data) > MAX_PROBE_BYTES:
        return HTMLResponse(f"<p class='alert'>Send one image of at most {MAX_PROBE_BYTES // 2**20} MiB.</p>", 422)
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.errors import LfrError
    from lfr_core.watchlist import inspection

    settings = get_settings()
    try:
        with connect(settings) as conn:
            result = inspection.probe(conn, _engine(), settings, _actor(user), version_id, data,
                                      reason=reason)
    except LfrError as e:
        message, status = _error(e)
        return HTMLResponse(f"<p class='alert'>{_e(message)}</p>", status)
    return HTMLResponse(probe_html(result))


class LfrWatchlistViewPlugin(AirflowPlugin):
    name = "lfr_watchlist_view"
    # Airflow's plugin interface declares these as plain class attributes; a ClassVar would clash with it.
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "LFR watchlist faces"}]  # noqa: RUF012
