"""The deployment-record grid as forces publish it (issue 28 item 4): one row per closed deployment with the Met's
2025 columns in their order, and an annual summary beside it. Each row's counts come from the public results
(public_record.results: the audit log replayed, reconciled with the alerts still stored); a row whose alerts await
a decision or a result, whose post-deployment reviews are not all done, or whose alerts do not reconcile, is marked
provisional in the column after the Met's. Counts only: no subject, category or officer."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from lfr_core.deployments import queries as deployments_queries
from lfr_core.reporting import public_record
from lfr_core.reporting.model import PublicResults
from lfr_core.times import local

COLUMNS: tuple[str, ...] = (
    "Deployment Location", "Date", "Duration", "LFR Use Case", "Watchlist Size", "Min Threshold Setting",
    "Total Alerts", "True Alerts Confirmed", "True Alerts Unconfirmed", "False Alerts Confirmed",
    "False Alerts Unconfirmed", "False Alert Rate", "Outcome - Arrest", "Outcome - Other", "Outcome - No action",
    "Faces seen (estimate)")
# Ours, after the Met's columns: of the faces seen, those the cameras saw at least the reliable size wide (issue 32
# item 4), and whether the row is final, or provisional and why.
RECOGNISABLE = "Faces that could have been recognised"
RECORD = "Record"
OURS: tuple[str, ...] = (RECOGNISABLE, RECORD)
NOT_RECORDED = "not recorded"  # a deployment without a use case (a column the policy-pack issue adds)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "Year", "Deployments", "Faces seen (estimate)", "Total Alerts", "False Alerts", "False alerts per face",
    "False alerts per alert", "Arrests")


def false_alert_rate(false_alerts: int, faces: int) -> str:
    """As the Met writes it: false alerts divided by faces seen, "1 in 12,120 = 0.008%"."""
    if faces <= 0:
        return "-"
    if false_alerts == 0:
        return "0"
    return f"1 in {faces / false_alerts:,.0f} = {false_alerts * 100 / faces:.3f}%"


def duration(start: datetime, end: datetime) -> str:
    """The window's length, "2h 30m"."""
    minutes = round((end - start).total_seconds() / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def grid_row(deployment: dict[str, Any], out: PublicResults) -> dict[str, Any]:
    threshold = out["threshold"]
    reasons = list(out["provisional_reasons"])
    if not out["reconciled_with_audit_log"]:
        reasons.append("the alert records do not agree with the audit log")
    false_alerts = out["false_alerts_confirmed"] + out["false_alerts_unconfirmed"]
    values = (
        deployment["place"], f"{local(deployment['window_start']):%d/%m/%Y}",
        duration(deployment["window_start"], deployment["window_end"]),
        deployment.get("use_case") or NOT_RECORDED, out["watchlist_size"],
        "-" if threshold is None else f"{float(threshold):.3f}", out["alerts"], out["true_alerts_confirmed"],
        out["true_alerts_unconfirmed"], out["false_alerts_confirmed"], out["false_alerts_unconfirmed"],
        false_alert_rate(false_alerts, out["faces_seen"]), out["engagement_outcomes"].get("arrest", 0),
        out["engagement_outcomes"].get("other", 0), out["engagement_outcomes"].get("no_action", 0), out["faces_seen"])
    return {**dict(zip(COLUMNS, values, strict=True)), RECOGNISABLE: out["faces_recognisable"],
            RECORD: ("provisional: " + "; ".join(reasons)) if reasons else "final"}


@dataclass(frozen=True)
class Grid:
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"columns": [*COLUMNS, *OURS], "rows": self.rows, "summary_columns": list(SUMMARY_COLUMNS),
                "summary": self.summary}


def build(conn: psycopg.Connection, since: datetime | None = None) -> Grid:
    rows = [grid_row(d, public_record.results(conn, d["id"]))
            for d in deployments_queries.closed_deployments(conn, since)]
    return Grid(rows, annual_summary(rows))


def annual_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per calendar year of the rows' dates: deployments, faces, alerts, false alerts per face and per alert,
    arrests."""
    years: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        years.setdefault(r["Date"][-4:], []).append(r)
    out = []
    for year, group in sorted(years.items()):
        faces = sum(r["Faces seen (estimate)"] for r in group)
        alerts = sum(r["Total Alerts"] for r in group)
        false_alerts = sum(r["False Alerts Confirmed"] + r["False Alerts Unconfirmed"] for r in group)
        out.append(dict(zip(SUMMARY_COLUMNS, (
            year, len(group), faces, alerts, false_alerts, false_alert_rate(false_alerts, faces),
            f"{false_alerts * 100 / alerts:.1f}%" if alerts else "-", sum(r["Outcome - Arrest"] for r in group)),
            strict=True)))
    return out


def to_csv(grid: Grid) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*COLUMNS, *OURS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(grid.rows)
    return buffer.getvalue()


def render_page(grid: Grid, force: str) -> str:
    """The public page: the grid, its annual summary and how to read them; links to the CSV and the JSON."""
    e = html.escape

    def table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
        head = "".join(f"<th>{e(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{e(str(r[c]))}</td>" for c in columns) + "</tr>" for r in rows)
        return f"<div style='overflow-x:auto'><table><tr>{head}</tr>{body}</table></div>"

    parts = [f'<div class="banner">{e(force)}</div>', "<h1>Live facial recognition: deployment records</h1>",
             "<p>One row per completed deployment, in the columns forces publish. A true alert is confirmed when "
             "officers engaged the person and found the subject, and unconfirmed when the subject evaded officers or "
             "officers decided not to engage; a false alert is confirmed when an engagement found someone else, and "
             "unconfirmed when the officer judged the match not viable on the images. The false alert rate is false "
             "alerts divided by faces seen; of those faces, the cameras saw some too small to be recognised reliably, and the "
             "last but one column counts the others. A row stays provisional until every alert is decided and every "
             "post-deployment review is done.</p>",
             table((*COLUMNS, *OURS), grid.rows) if grid.rows else "<p>No completed deployment yet.</p>",
             "<h2>By year</h2>", table(SUMMARY_COLUMNS, grid.summary) if grid.summary else "<p>-</p>",
             '<p class="muted noprint">Also as <a href="/public/records?format=csv">CSV</a> and '
             '<a href="/public/records?format=json">JSON</a>. Counted from the platform\'s audit log and reconciled '
             "with the alert records.</p>"]
    return public_record.page(f"{force}: live facial recognition deployment records", "".join(parts))
