"""Admin audit view inside the Airflow UI, for admins and auditors: the audit chain checked now (hash chain
and signed checkpoints, with the last anchor), and the deployments, filtered by place, date and state,
each with its watchlist versions (approval, model, threshold, purge receipt), the rejected entries with
their reasons, a link to the Airflow run that built each version, and the published transparency report.

A FastAPI app mounted by the API server at /lfr-audit (server-rendered HTML, every value escaped) plus an
external view, so it appears in the UI's navigation. It requires the Airflow login (the JWT cookie the UI
sets) of a person who is an admin or auditor of the platform (Airflow has no accounts of its own:
airflow_plugins/lfr_auth_manager.py), and reads the LFR database through lfr_core (lfr_core/reporting/audit_overview.py)
with the API server's LFR_* environment.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

PREFIX = "/lfr-audit"
READERS = ("admin", "auditor")
app = FastAPI(title="LFR audit view", docs_url=None, redoc_url=None, openapi_url=None)

STYLE = """<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1240px;margin:0 auto;padding:1rem 1.2rem}
h1{font-size:1.3rem;margin:.3rem 0 .8rem} h2{font-size:1.1rem;margin:1.4rem 0 .3rem}
section{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}
.scroll{overflow-x:auto} table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e1e4ea;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f4f7;white-space:nowrap} code{font-size:.8rem;word-break:break-all}
.ok{color:#1f7a3a;font-weight:600} .bad{color:#b3261e;font-weight:600} .muted{color:#5b6475}
.state-active{color:#1f7a3a;font-weight:600} .state-purged{color:#5b6475}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#5b6475}
form.filters input,form.filters select{font:inherit;padding:.3rem}
details summary{cursor:pointer;color:#0b5cad}
</style>"""


async def current_user(request: Request) -> Any:
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    try:
        return await resolve_user_from_token(request.cookies.get("_token"))
    except HTTPException:
        return None


def may_read(name: str) -> bool:
    """A person who is an admin or auditor of the platform now (the database says)."""
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.identity import people

    with connect(get_settings(), vector=False) as conn:
        return any(r in READERS for r in people.signed_in_roles(conn, name))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                        f"<title>{html.escape(title)}</title>{STYLE}</head><body><main>{body}</main></body></html>",
                        status_code=status)


def _refused(user: Any) -> HTMLResponse | None:
    if user is None:
        return _page("Login required", "<h1>Login required</h1><p><a href='/auth/login/' target='_top'>Log in to "
                     "Airflow</a> to see the LFR audit view.</p>", status=401)
    if not may_read(user.get_name()):
        return _page("Not allowed", f"<h1>Not allowed</h1><p>{_e(user.get_name())} is not an admin or auditor of "
                     f"the platform.</p>", status=403)
    return None


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _t(value: Any) -> str:
    """A time as the force reads it (lfr_core/times.py: "05/12/2026 07:34:34 GMT"), not Python's ISO string with
    microseconds; a receipt's ISO string too; anything else escaped as it is."""
    from lfr_core.times import format_time

    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    return format_time(value) if isinstance(value, datetime) else _e(value)


def _short(value: Any, n: int = 12) -> str:
    text = "-" if value is None else str(value)
    return f"<code title='{_e(text)}'>{_e(text[:n])}{'…' if len(text) > n else ''}</code>"


def _receipt(receipt: dict[str, Any] | None) -> str:
    if not receipt:
        return "-"
    deleted = receipt.get("deleted", {})
    verified = receipt.get("verified", {})
    return (f"{_short(receipt.get('receipt_uri'), 40)}<br>sha256 {_short(receipt.get('receipt_sha256'))}"
            f"<br>deleted {_e(deleted.get('embeddings'))} templates, {_e(deleted.get('image_objects'))} images; "
            f"remaining {_e(verified.get('embeddings_remaining'))}/{_e(verified.get('objects_remaining'))}"
            f"<br>by {_e(receipt.get('purged_by'))} at {_t(receipt.get('purged_at'))}: {_e(receipt.get('reason'))}")


def _chain(status: dict[str, Any]) -> str:
    verdict = ("<span class='ok'>verified</span>" if status["ok"]
               else f"<span class='bad'>{len(status['problems'])} problem(s)</span>")
    problems = "".join(f"<li>{_e(p)}</li>" for p in status["problems"])
    return (f"<section id='chain'><h2>Audit chain: {verdict}</h2>"
            f"<p>{_e(status['rows'])} rows checked at {_t(status['verified_at'])}; head {_short(status['head'], 16)}. "
            f"Last anchor: {_e(status['last_anchor_rows'])} rows signed at {_t(status['last_anchor_at'])} "
            f"({_e(status['checkpoints'])} checkpoints stored).</p>"
            f"{f'<ul>{problems}</ul>' if problems else ''}</section>")


def _filters(place: str, since: date | None, until: date | None, status: str) -> str:
    from lfr_core.deployments.model import STATUSES

    options = "".join(f"<option value='{s}'{' selected' if s == status else ''}>{s or 'any'}</option>"
                      for s in ("", *STATUSES))
    return (f"<form class='filters' method='get' action='{PREFIX}/'>"
            f"<label>Place<input name='place' value='{_e(place if place else '')}'></label>"
            f"<label>From<input type='date' name='since' value='{since or ''}'></label>"
            f"<label>To<input type='date' name='until' value='{until or ''}'></label>"
            f"<label>State<select name='status'>{options}</select></label><button>Filter</button></form>")


def _version_row(v: dict[str, Any]) -> str:
    run = (f"<a target='_top' href='/dags/lfr_deployment/runs/{quote(v['build_key'], safe='')}'>Airflow run</a>"
           if v.get("build_key") else "-")
    rejected = "".join(f"<li>{_e(r['subject_ref'])} #{_e(r['image_index'])}: {_e(r['reason'])}</li>"
                       for r in v["rejected"])
    rejected_cell = (f"<details><summary>{len(v['rejected'])} rejected</summary><ul>{rejected}</ul></details>"
                     if rejected else "none")
    model = (f"{_e(v['detector'].get('name'))} + {_e(v['embedder'].get('name'))} "
             f"{_e(v['embedder'].get('version'))}<br>{_short(v['embedder_sha256'])}, {_e(v['embedding_dim'])}-d")
    return (f"<tr class='state-{_e(v['state'])}'><td>v{_e(v['version'])}<br>{_short(v['id'], 8)}</td>"
            f"<td>{_e(v['state'])}</td><td>{_e(v['built_by'])}<br>{run}</td>"
            f"<td>{_e(v['approved_by'])}<br><span class='muted'>{_t(v['approved_at'])}</span><br>"
            f"criteria {_short(v['criteria_sha256'])}</td><td>{model}</td>"
            f"<td>{float(v['threshold']):.4f}<br><span class='muted'>{_e(v.get('threshold_source'))}</span></td>"
            f"<td>{_e(v['entries_accepted'])} accepted<br>{rejected_cell}</td>"
            f"<td>{_t(v['activated_at'])}<br>{_t(v['expired_at'])}<br>{_t(v['purged_at'])}</td>"
            f"<td>{_receipt(v['purge_receipt'])}</td></tr>")


def overview(place: str, since: date | None, until: date | None, status: str) -> tuple[dict[str, Any], list[dict]]:
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.reporting import audit_overview
    from lfr_core.storage.objectstore import ObjectStore

    settings = get_settings()
    with connect(settings) as conn:
        chain = audit_overview.chain_status(conn, ObjectStore(settings), settings)
        rows = audit_overview.deployments_overview(conn, place=place, since=since, until=until, status=status)
    return chain, rows


@app.get("/", response_class=HTMLResponse)
def index(user: Any = Depends(current_user), place: str = Query("", max_length=200),
          since: date | None = None, until: date | None = None, status: str = Query("", max_length=20)) -> HTMLResponse:
    refused = _refused(user)
    if refused:
        return refused
    try:
        chain, rows = overview(place, since, until, status)
    except ValueError as e:
        return _page("Bad filter", f"<p>{_e(e)}</p>", 422)
    parts = ["<h1>LFR audit: deployments and watchlist versions</h1>", _chain(chain),
             f"<section>{_filters(place, since, until, status)}</section>"]
    if not rows:
        parts.append("<p>No deployment matches.</p>")
    for d in rows:
        parts.append(
            f"<section><h2 id='{_e(d['id'])}'>{_e(d['place'])} <small>({_e(d['status'])})</small></h2>"
            f"<p>Deployment {_short(d['id'], 36)}, window {_t(d['window_start'])} to {_t(d['window_end'])}; "
            f"authorised by {_e(d['authorising_officer'])}; created by {_e(d['created_by'])}. "
            f"<a href='{PREFIX}/reports/{_e(d['id'])}'>Transparency report</a> · "
            f"<a href='{PREFIX}/use-log/{_e(d['id'])}'>Per-use log</a></p>")
        if not d["versions"]:
            parts.append("<p class='muted'>No watchlist versions.</p></section>")
            continue
        parts.append("<div class='scroll'><table><tr><th>version</th><th>state</th><th>built by</th>"
                     "<th>approved by</th><th>model</th><th>threshold</th><th>entries</th>"
                     "<th>activated / expired / purged</th><th>purge receipt</th></tr>")
        parts += [_version_row(v) for v in d["versions"]]
        parts.append("</table></div></section>")
    return _page("LFR audit", "".join(parts))


_BOLD, _CODE, _ITALIC = re.compile(r"\*\*(.+?)\*\*"), re.compile(r"`(.+?)`"), re.compile(r"(?<!\w)_(.+?)_(?!\w)")


def markdown_html(markdown: str) -> str:
    """The report's Markdown (lfr_core/reporting/reports.py render_markdown: headings, lists, tables, bold, code) as
    HTML. Every character is escaped exactly once: the report's own escaping is undone first."""
    out, table = [], []

    def inline(text: str) -> str:
        text = html.escape(html.unescape(text))
        return _ITALIC.sub(r"<em>\1</em>", _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", text)))

    def flush() -> None:
        if table:
            head, *body = [[inline(c.strip()) for c in row.strip("|").split("|")] for row in table
                           if not set(row.replace("|", "").strip()) <= {"-", ":"}]
            out.append("<div class='scroll'><table><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in body)
                       + "</table></div>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 1, 4)
            out.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<ul><li>{inline(line[2:])}</li></ul>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return "".join(out).replace("</ul><ul>", "")


@app.get("/reports/{deployment_id}", response_class=HTMLResponse)
def report(deployment_id: str, user: Any = Depends(current_user)) -> HTMLResponse:
    refused = _refused(user)
    if refused:
        return refused
    from lfr_core.config import get_settings
    from lfr_core.reporting.reports import report_keys
    from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError

    settings = get_settings()
    _, md_key = report_keys(deployment_id)
    try:
        markdown = ObjectStore(settings).get_bytes(settings.s3.bucket_reports, md_key).decode()
    except ObjectStoreError:
        return _page("No report", f"<p>No report published for <code>{_e(deployment_id)}</code> yet.</p>", 404)
    return _page("Transparency report", f"<p><a href='{PREFIX}/'>Back</a></p><section>{markdown_html(markdown)}</section>")


@app.get("/api/versions")
def versions_json(user: Any = Depends(current_user), place: str = Query("", max_length=200),
                  since: date | None = None, until: date | None = None, status: str = Query("", max_length=20)) -> Any:
    if user is None:
        raise HTTPException(status_code=401, detail="Not authenticated")
    if not may_read(user.get_name()):
        raise HTTPException(status_code=403, detail="an admin or auditor of the platform only")
    chain, rows = overview(place, since, until, status)
    return json.loads(json.dumps({"chain": chain, "deployments": rows}, default=str))


def use_log_html(log: dict[str, Any]) -> str:
    """The per-use log (EU AI Act Art 12(3); lfr_core/audit/use_log.py): each use's period, reference database and
    matches with who verified them, each citing its audit row."""
    verified = log["verified"]
    parts = [f"<h1>Per-use log of deployment {_short(log['deployment_id'], 36)}</h1>",
             f"<p>Derived from the audit log, kept {_e(log['retention_days'])} days after each use; audit chain "
             + ("<span class='ok'>verified</span>" if verified["ok"]
                else f"<span class='bad'>{len(verified['problems'])} problem(s)</span>")
             + f" ({_e(verified['audit_rows'])} rows, head {_short(verified['audit_head'], 16)}).</p>"]
    if not log["uses"]:
        parts.append("<p class='muted'>No use: no list of this deployment went live.</p>")
    for n, use in enumerate(log["uses"], 1):
        ref = use["reference_database"] or {}
        model = (ref.get("model") or {}).get("embedder") or {}
        parts.append(
            f"<section><h2>Use {n}: {_t(use['start'])} to {_t(use['end'])} ({_e(use['ended_by'] or 'running')})</h2>"
            f"<p>Reference database: version {_short(ref.get('version_id'), 36)} (v{_e(ref.get('version'))}), "
            f"snapshot sha256 {_short(ref.get('snapshot_sha256'), 16)}, manifest sha256 "
            f"{_short(ref.get('manifest_sha256'), 16)}; model {_e(model.get('name'))} {_e(model.get('version'))} "
            f"{_short(model.get('weights_sha256'))}; threshold {_e(ref.get('threshold'))}. Kept until "
            f"{_t(use['keep_until'])}.</p>")
        if not use["matches"]:
            parts.append("<p class='muted'>No match.</p></section>")
            continue
        parts.append("<div class='scroll'><table><tr><th>alert</th><th>raised</th><th>probe crop sha256</th>"
                     "<th>verified by</th><th>audit row</th></tr>")
        for m in use["matches"]:
            who = "<br>".join(f"{_e(v['person'])} ({_e(v['role'])}): {_e(v['decision'])} at {_t(v['at'])}"
                              for v in m["verified_by"]) or "<span class='muted'>not verified</span>"
            parts.append(f"<tr><td>{_short(m['alert_id'], 36)}</td><td>{_t(m['raised_at'])}</td>"
                         f"<td>{_short(m['probe_crop_sha256'], 16)}</td><td>{who}</td>"
                         f"<td>#{_e(m['raise']['seq'])}</td></tr>")
        parts.append("</table></div></section>")
    return "".join(parts)


@app.get("/use-log/{deployment_id}", response_class=HTMLResponse)
def use_log_page(deployment_id: str, user: Any = Depends(current_user)) -> HTMLResponse:
    refused = _refused(user)
    if refused:
        return refused
    from lfr_core.audit import use_log
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.deployments import policy_store

    settings = get_settings()
    with connect(settings) as conn:
        # kept for the deployment's pack's retention (the setting for one planned before packs)
        log = use_log.export(conn, deployment_id,
                             retention_days=policy_store.use_log_retention_days(conn, settings, deployment_id))
    return _page("Per-use log", f"<p><a href='{PREFIX}/'>Back</a> · <a href='{PREFIX}/api/use-log/"
                                f"{_e(deployment_id)}'>JSON</a></p>{use_log_html(log)}")


@app.get("/api/use-log/{deployment_id}")
def use_log_json(deployment_id: str, user: Any = Depends(current_user)) -> Any:
    if user is None:
        raise HTTPException(status_code=401, detail="Not authenticated")
    if not may_read(user.get_name()):
        raise HTTPException(status_code=403, detail="an admin or auditor of the platform only")
    from lfr_core.audit import use_log
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.deployments import policy_store

    settings = get_settings()
    with connect(settings) as conn:
        return use_log.export(conn, deployment_id,
                              retention_days=policy_store.use_log_retention_days(conn, settings, deployment_id))


class LfrAuditViewPlugin(AirflowPlugin):
    name = "lfr_audit_view"
    # Airflow's plugin interface declares these as plain class attributes; a ClassVar would clash with it.
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "LFR audit view"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {"name": "LFR audit", "href": f"{PREFIX}/", "url_route": "lfr-audit", "destination": "nav", "category": "browse"},
    ]
