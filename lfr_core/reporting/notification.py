"""The notification of each use (Regulation (EU) 2024/1689 Art 5(4), issue 28 item 6): for a deployment whose policy
pack sets `notify_each_use`, a document for the market surveillance authority and the data protection authority,
in JSON and PDF, kept in the reports bucket, with the annual statistics of Art 5(6) beside it.

Art 5(4) forbids "sensitive operational data" in it. So it is built from structured facts only: the pack, the
objective from the pack's closed list, times, counts and whether each rule was met. No free text of the deployment
(place, purpose, legal basis, cancellation reason), no reference (intelligence, DPIA, FRIA, registration), no person
(subject, officer, planner, authoriser) enters it: a field is added here deliberately or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.deployments import policy_store
from lfr_core.deployments import queries as deployments_queries
from lfr_core.deployments import service as deployments
from lfr_core.errors import NotFound, Refused
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.reporting import reports
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import queries as watchlist_queries

TITLE = "Notification of a use of real-time remote biometric identification (Regulation (EU) 2024/1689 Art 5(4))"
NOTIFIED_TO = ["the market surveillance authority", "the national data protection authority"]
ENDED = ("closed", "cancelled", "lapsed")
EXCLUDED = ("No sensitive operational data (Art 5(4)): no data subject, officer or intelligence reference, no place "
            "or free text of the deployment, no image or template.")


# Beside the transparency report, under the prefix the platform's key may write and never delete (storage/policy.py).
def notification_keys(deployment_id: str) -> tuple[str, str]:
    return f"reports/{deployment_id}/notification.json", f"reports/{deployment_id}/notification.pdf"


def annual_key(year: int) -> str:
    return f"reports/art5-6-statistics/{year}.json"


def _authorisation(deployment: dict[str, Any], versions: list[dict[str, Any]]) -> str:
    """The result of the request to authorise the use, as Art 5(6) counts decisions."""
    if any(v["approved_by"] for v in versions):
        return "authorised"
    if deployment["status"] == "lapsed":
        return "not decided before the window ended (lapsed; not used)"
    return "not authorised (refused or withdrawn; not used)"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build(conn: psycopg.Connection[Any], settings: Settings, deployment_id: str) -> dict[str, Any]:
    """The notification of one ended use; Refused when the pack does not ask for one or the use has not ended."""
    deployment = deployments.get(conn, deployment_id)
    loaded = policy_store.of_deployment(conn, deployment)
    if loaded is None or not loaded.pack.notify_each_use:
        which = loaded.pack.ref if loaded else "no policy pack"
        raise Refused(f"deployment {deployment['id']} runs under {which}, which does not require a notification of "
                      f"each use (Art 5(4))")
    if deployment["status"] not in ENDED:
        raise Refused(f"deployment {deployment['id']} is {deployment['status']}: a use is notified after it ends")
    pack = loaded.pack
    case = pack.use_case(deployment["use_case"])
    versions = watchlist_queries.report_versions(conn, deployment["id"])
    used = [v for v in versions if v["activated_at"] is not None]
    report = reports.build_report(conn, str(deployment["id"]))
    alerts = report["alerts"]
    return {
        "title": TITLE,
        "notified_to": NOTIFIED_TO,
        "deployer": settings.public.force_name,
        "use": {
            "deployment": str(deployment["id"]),
            "status": deployment["status"],
            "window_start": deployment["window_start"].isoformat(),
            "window_end": deployment["window_end"].isoformat(),
            "started_at": _iso(min((v["activated_at"] for v in used), default=None)),
            "ended_at": _iso(max((v["expired_at"] for v in used if v["expired_at"]), default=None)),
        },
        "legal_basis": {"policy_pack": pack.ref, "pack_sha256": loaded.content_sha256,
                        "objective": case.label, "reference": case.reference},
        "authorisation": {
            "prior_authorisation_required": pack.external_authorisation.required,
            "urgency_hours": pack.external_authorisation.urgency_hours,
            "result": _authorisation(deployment, versions),
            # The platform records the authoriser's sealing of the list; an external authority's own decision
            # (Art 5(3)) has no record of its own here yet, so the result says what was recorded.
            "result_from": "the authoriser's approval of the watchlist recorded in the platform",
            "fria_completed": bool(deployment.get("fria_ref")),
            "registered": bool(deployment.get("registration_ref")),
            "two_person_verification": pack.two_person_verification,
        },
        "system": {"model": used[-1]["embedder"] if used else None,
                   "threshold": float(used[-1]["threshold"]) if used else None,
                   "watchlist_size": report["watchlist"]["size"]},
        "results": {"faces_seen": report["traffic"]["faces_seen"], "alerts": alerts["total"],
                    "true_alerts": alerts["true_alerts"], "false_alerts": alerts["false_alerts"],
                    "awaiting_decision": alerts["pending"]},
        "excluded": EXCLUDED,
        "generated_at": datetime.now(UTC).isoformat(),
    }


def annual_statistics(conn: psycopg.Connection[Any], year: int) -> dict[str, Any]:
    """Art 5(6): for the uses notified in a year (window opened in it), how many authorisation requests, their
    results, and the uses by objective; counts only."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    rows = [d for d in deployments_queries.deployments_between(conn, start, end) if _notifies(conn, d)]
    versions = watchlist_queries.versions_of_deployments(conn, [d["id"] for d in rows]) if rows else []
    by_deployment: dict[Any, list[dict[str, Any]]] = {}
    for v in versions:
        by_deployment.setdefault(v["deployment_id"], []).append(v)
    results = Counter(_authorisation(d, by_deployment.get(d["id"], [])) for d in rows)
    used = [d for d in rows if any(v["activated_at"] for v in by_deployment.get(d["id"], []))]
    objectives = Counter(f"{d['policy_name']}: {d['use_case']}" for d in used)
    return {"year": year, "authorisation_requests": len(rows), "decisions": dict(sorted(results.items())),
            "uses": len(used), "uses_by_objective": dict(sorted(objectives.items())),
            "generated_at": datetime.now(UTC).isoformat()}


def required(conn: psycopg.Connection[Any], deployment_id: str) -> bool:
    """Whether the deployment's pack asks for a notification of each use."""
    return _notifies(conn, deployments.get(conn, deployment_id))


def _notifies(conn: psycopg.Connection[Any], deployment: dict[str, Any]) -> bool:
    loaded = policy_store.of_deployment(conn, deployment)
    return loaded is not None and loaded.pack.notify_each_use


def _latin1(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def render_pdf(note: dict[str, Any]) -> bytes:
    """The notification on one A4 page: each section's fields as label: value."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", gap: float = 1) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(pdf.epw, size * 0.5, _latin1(text))
        pdf.ln(gap)

    line(note["title"], 13, "B", 3)
    line(f"To: {' and '.join(note['notified_to'])}. From: {note['deployer']}.", 10, "", 3)
    for section in ("use", "legal_basis", "authorisation", "system", "results"):
        line(section.replace("_", " ").capitalize(), 11, "B", 0.5)
        for key, value in note[section].items():
            line(f"{key.replace('_', ' ')}: {'n/a' if value is None else value}")
        line("", 4)
    line(note["excluded"], 9, "I")
    line(f"Generated {note['generated_at']}", 8)
    return bytes(pdf.output())


def publish(conn: psycopg.Connection[Any], store: ObjectStore, settings: Settings, deployment_id: str,
            actor: Actor = SYSTEM) -> dict[str, Any]:
    """Write the notification (JSON and PDF) and its year's statistics to the reports bucket, and audit it."""
    note = build(conn, settings, deployment_id)
    json_key, pdf_key = notification_keys(note["use"]["deployment"])
    bucket = settings.s3.bucket_reports
    stored_json = store.put_json(bucket, json_key, note)
    stored_pdf = store.put_bytes(bucket, pdf_key, render_pdf(note), "application/pdf")
    year = datetime.fromisoformat(note["use"]["window_start"]).year
    stored_year = store.put_json(bucket, annual_key(year), annual_statistics(conn, year))
    with acting(conn, actor):
        audit.append(conn, actor=actor.name, role=actor.role, action="notification.publish", object_type="deployment",
                     object_id=note["use"]["deployment"], details={
                         "json_uri": stored_json.uri, "json_sha256": stored_json.sha256, "pdf_uri": stored_pdf.uri,
                         "pdf_sha256": stored_pdf.sha256, "annual_uri": stored_year.uri})
    return {"json_uri": stored_json.uri, "pdf_uri": stored_pdf.uri, "annual_uri": stored_year.uri,
            "json_sha256": stored_json.sha256, "notification": note}


def read(store: ObjectStore, settings: Settings, deployment_id: str) -> dict[str, Any]:
    """The notification as published, read back; NotFound saying when it is produced."""
    json_key, pdf_key = notification_keys(str(deployment_id))
    bucket = settings.s3.bucket_reports
    if not store.list_keys(bucket, json_key):
        raise NotFound(f"no notification of use is published for deployment {deployment_id}: the deployment DAG "
                       f"produces it after the window when its pack requires one (Art 5(4))")
    raw = store.get_bytes(bucket, json_key)
    return {"json_uri": f"s3://{bucket}/{json_key}", "pdf_uri": f"s3://{bucket}/{pdf_key}",
            "json_sha256": hashlib.sha256(raw).hexdigest(), "notification": json.loads(raw)}
