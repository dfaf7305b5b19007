"""The notification of each use (Regulation (EU) 2024/1689 Art 5(4), issue 28 item 6): for a deployment whose policy
pack sets `notify_each_use`, a document for the market surveillance authority and the data protection authority,
in JSON and PDF, kept in the reports bucket, with the annual statistics of Art 5(6) beside it.

Art 5(4) forbids "sensitive operational data" in it. So it is built from structured facts only: the pack, the
objective from the pack's closed list, times, counts and whether each rule was met. No free text of the deployment
(place, purpose, legal basis, cancellation reason), no reference (intelligence, DPIA, FRIA, registration, the
authority's decision), no person (subject, officer, planner, authoriser) and no authority's name enters it: a field
is added here deliberately or not at all. The authorisation's result is the external authority's decision as an
authoriser recorded it (lfr_core/deployments/authorisation.py), with its date and the kind of authority.

A use whose authorisation was refused or lapsed (Art 5(3), issue 28 item 7) was discarded with a deletion receipt:
its notification states only that the use was stopped and its outputs deleted, and when; no result, no system
figure, and the year's statistics count its decision but not its use. A notification written before the refusal
is superseded: its objects are deleted when the reports bucket allows it, and otherwise (object lock) a new
version marking the earlier one withdrawn is written over it, the earlier one staying only as a locked noncurrent
version.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.audit import queries as audit_queries
from lfr_core.config import Settings
from lfr_core.deployments import policy_store
from lfr_core.deployments import queries as deployments_queries
from lfr_core.deployments import service as deployments
from lfr_core.deployments.model import AuthorisationState
from lfr_core.errors import NotFound, Refused
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.reporting import reports
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError
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


STOPPED = ("The use was stopped and all its data, results and outputs were deleted (Art 5(3)); only the audit log "
           "and the deletion receipt are kept.")


# Art 5(3) names two kinds of authority; the authoriser records which decided (migration 0034), and the
# notification names only the kind, never the authority.
AUTHORITY_KIND_WORDS = {"judicial": "judicial authority", "administrative": "independent administrative authority"}


def external_authorisation(conn: psycopg.Connection[Any], deployment: dict[str, Any], pack: Any,
                           discarded: dict[str, Any] | None = None) -> dict[str, Any]:
    """The external authority's decision on the use as Art 5(6) counts it (its result, the kind of authority, the
    day it decided, whether an urgent start got its decision within the pack's deadline), from the records an
    authoriser made of it (lfr_core/deployments/authorisation.py). The decision's reference, the authority's name,
    the scope and the urgency's justification are operational and stay out."""
    rule = pack.external_authorisation
    state = AuthorisationState(deployments_queries.authorisation_state(conn, deployment["id"]))
    rows = deployments_queries.authorisations(conn, deployment["id"]) if rule.required else []
    decided = next((r for r in rows if r["kind"] in ("granted", "refused")), None)
    urgent = next((r for r in rows if r["kind"] == "urgent_start"), None)
    in_time: bool | None = None
    if urgent is not None and decided is not None:
        in_time = decided["recorded_at"] <= urgent["deadline"]
    elif urgent is not None and state is AuthorisationState.LAPSED:
        in_time = False
    return {
        "prior_authorisation_required": rule.required,
        "urgency_hours": rule.urgency_hours,
        "state": str(state),
        "result": _result(deployment, state, urgent is not None, in_time, rule.urgency_hours, discarded),
        "authority_kind": AUTHORITY_KIND_WORDS.get(decided["authority_kind"]) if decided else None,
        "decided_on": decided["decided_on"].isoformat() if decided and decided["decided_on"] else None,
        "urgent_start": urgent is not None,
        "decided_within_urgency_deadline": in_time,
    }


def _result(deployment: dict[str, Any], state: AuthorisationState, urgent: bool, in_time: bool | None,
            hours: float, discarded: dict[str, Any] | None) -> str:
    """The result of the request to authorise the use, in the words the year's statistics count."""
    if discarded is not None:
        return f"not authorised ({discarded['deleted']['authorisation']}; use stopped and its outputs deleted)"
    if state is AuthorisationState.NOT_REQUIRED:
        return "no prior authorisation required by the policy pack"
    if state is AuthorisationState.GRANTED:
        return ("authorised after an urgent start" + (", within the deadline" if in_time else ", after the deadline")
                if urgent else "authorised")
    if state is AuthorisationState.REFUSED:
        return "not authorised (refused)" + (" after an urgent start" if urgent else "")
    if state is AuthorisationState.LAPSED:
        return f"not authorised (lapsed: no decision within {hours:g} hours of the urgent start)"
    if state is AuthorisationState.URGENT:
        return "urgent start; the authority's decision is not yet recorded"
    if deployment["status"] == "lapsed":
        return "not decided before the window ended (lapsed; not used)"
    return "not authorised (no decision recorded; not used)"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def receipt_of(conn: psycopg.Connection[Any], deployment_id: Any) -> dict[str, Any] | None:
    """The deletion receipt of a use discarded under Art 5(3), if it was."""
    return deployments_queries.deletion_receipt(conn, deployment_id)


def _stopped(deployment: dict[str, Any], receipt: dict[str, Any]) -> dict[str, Any]:
    """What the notification of a discarded use says in place of its results: that, and when. The receipt's reason
    names the authority's decision reference, so it stays out."""
    return {"use_stopped": True, "authorisation": receipt["deleted"]["authorisation"],
            "outputs_deleted_at": receipt["deleted_at"].isoformat(), "statement": STOPPED}


def build(conn: psycopg.Connection[Any], settings: Settings, deployment_id: str) -> dict[str, Any]:
    """The notification of one ended use; Refused when the pack does not ask for one or the use has not ended (a
    discarded use has ended whatever its status says)."""
    deployment = deployments.get(conn, deployment_id)
    loaded = policy_store.of_deployment(conn, deployment)
    if loaded is None or not loaded.pack.notify_each_use:
        which = loaded.pack.ref if loaded else "no policy pack"
        raise Refused(f"deployment {deployment['id']} runs under {which}, which does not require a notification of "
                      f"each use (Art 5(4))")
    receipt = receipt_of(conn, deployment["id"])
    if deployment["status"] not in ENDED and receipt is None:
        raise Refused(f"deployment {deployment['id']} is {deployment['status']}: a use is notified after it ends")
    pack = loaded.pack
    case = pack.use_case(deployment["use_case"])
    versions = watchlist_queries.report_versions(conn, deployment["id"])
    if receipt is not None:
        return _stopped_note(conn, settings, deployment, loaded, case, receipt)
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
            **external_authorisation(conn, deployment, pack),
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


def _stopped_note(conn: psycopg.Connection[Any], settings: Settings, deployment: dict[str, Any], loaded: Any,
                  case: Any, receipt: dict[str, Any]) -> dict[str, Any]:
    """A discarded use's notification: the use's frame, its legal basis and its refusal or lapse, nothing it made."""
    pack = loaded.pack
    return {
        "title": TITLE,
        "notified_to": NOTIFIED_TO,
        "deployer": settings.public.force_name,
        "use": {"deployment": str(deployment["id"]), "status": deployment["status"],
                "window_start": deployment["window_start"].isoformat(),
                "window_end": deployment["window_end"].isoformat()},
        "legal_basis": {"policy_pack": pack.ref, "pack_sha256": loaded.content_sha256,
                        "objective": case.label, "reference": case.reference},
        "authorisation": external_authorisation(conn, deployment, pack, receipt),
        "stopped": _stopped(deployment, receipt),
        "excluded": EXCLUDED,
        "generated_at": datetime.now(UTC).isoformat(),
    }


def annual_statistics(conn: psycopg.Connection[Any], year: int) -> dict[str, Any]:
    """Art 5(6): for the uses notified in a year (window opened in it), how many requests for authorisation, the
    authorities' decisions by result and by kind of authority, the urgent starts and whether their decision came
    in time, and the uses by objective; counts only, from the recorded external authorisations."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    between = deployments_queries.deployments_between(conn, start, end)
    loaded = {d["id"]: policy_store.of_deployment(conn, d) for d in between}
    packs = {i: p.pack for i, p in loaded.items() if p is not None and p.pack.notify_each_use}
    rows = [d for d in between if d["id"] in packs]
    versions = watchlist_queries.versions_of_deployments(conn, [d["id"] for d in rows]) if rows else []
    by_deployment: dict[Any, list[dict[str, Any]]] = {}
    for v in versions:
        by_deployment.setdefault(v["deployment_id"], []).append(v)
    # A discarded use's decision is counted; the use itself, and anything it produced, is not.
    discarded = deployments_queries.discarded_deployments(conn)
    gone = {d["id"]: receipt_of(conn, d["id"]) for d in rows if d["id"] in discarded}
    notes = [external_authorisation(conn, d, packs[d["id"]], gone.get(d["id"])) for d in rows]
    requested = [n for n in notes if n["prior_authorisation_required"]]
    urgent = [n for n in requested if n["urgent_start"]]
    used = [d for d in rows if d["id"] not in gone and any(v["activated_at"] for v in by_deployment.get(d["id"], []))]
    objectives = Counter(f"{d['policy_name']}: {d['use_case']}" for d in used)
    return {"year": year, "authorisation_requests": len(requested),
            "decisions": dict(sorted(Counter(n["result"] for n in notes).items())),
            "decisions_by_authority": dict(sorted(Counter(n["authority_kind"] for n in requested
                                                          if n["authority_kind"]).items())),
            "urgent_starts": len(urgent),
            "urgent_decided_within_deadline": sum(1 for n in urgent if n["decided_within_urgency_deadline"]),
            "uses": len(used), "uses_by_objective": dict(sorted(objectives.items())),
            "generated_at": datetime.now(UTC).isoformat()}


def required(conn: psycopg.Connection[Any], deployment_id: str) -> bool:
    """Whether the deployment's pack asks for a notification of each use."""
    return _notifies(conn, deployments.get(conn, deployment_id))


def _notifies(conn: psycopg.Connection[Any], deployment: dict[str, Any]) -> bool:
    loaded = policy_store.of_deployment(conn, deployment)
    return loaded is not None and loaded.pack.notify_each_use


def current(conn: psycopg.Connection[Any], deployment: dict[str, Any], discarded: bool) -> bool:
    """Whether the notification published for this use is the one it should have: there is one since its window
    opened and, for a discarded use, it is the one saying the use was stopped."""
    published = audit_queries.logged_since(conn, object_type="deployment", object_id=str(deployment["id"]),
                                           action="notification.publish", since=deployment["window_start"])
    if not published or not discarded:
        return published
    return audit_queries.latest_detail(conn, object_type="deployment", object_id=str(deployment["id"]),
                                       action="notification.publish", key="use_stopped") == "true"


def missing(conn: psycopg.Connection[Any], *, now: datetime, lookback: timedelta) -> list[str]:
    """The uses whose window ended (and opened within `lookback`) under a pack that notifies each use, with no
    notification or one written before the use was discarded: what the reconciling sweep writes."""
    discarded = deployments_queries.discarded_deployments(conn)
    out = []
    for d in deployments_queries.deployments_between(conn, now - lookback, now):
        gone = d["id"] in discarded
        if d["window_end"] > now or (d["status"] not in ENDED and not gone):
            continue
        if _notifies(conn, d) and not current(conn, d, gone):
            out.append(str(d["id"]))
    return out


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
    for section in (s for s in ("use", "legal_basis", "authorisation", "system", "results", "stopped") if s in note):
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
    if "stopped" in note:
        earlier = supersede_earlier(store, settings, note["use"]["deployment"])
        if earlier is not None:
            note["stopped"]["earlier_notification"] = earlier
    stored_json = store.put_json(bucket, json_key, note)
    stored_pdf = store.put_bytes(bucket, pdf_key, render_pdf(note), "application/pdf")
    year = datetime.fromisoformat(note["use"]["window_start"]).year
    stored_year = store.put_json(bucket, annual_key(year), annual_statistics(conn, year))
    with acting(conn, actor):
        audit.append(conn, actor=actor.name, role=actor.role, action="notification.publish", object_type="deployment",
                     object_id=note["use"]["deployment"], details={
                         "json_uri": stored_json.uri, "json_sha256": stored_json.sha256, "pdf_uri": stored_pdf.uri,
                         "pdf_sha256": stored_pdf.sha256, "annual_uri": stored_year.uri,
                         "use_stopped": "stopped" in note,
                         "earlier_notification": note.get("stopped", {}).get("earlier_notification")})
    return {"json_uri": stored_json.uri, "pdf_uri": stored_pdf.uri, "annual_uri": stored_year.uri,
            "json_sha256": stored_json.sha256, "notification": note}


def supersede_earlier(store: ObjectStore, settings: Settings, deployment_id: str) -> dict[str, Any] | None:
    """Before a discarded use's notification is written: an earlier notification that gave its results is deleted
    (every version) when the reports bucket has no object lock and the key may delete there, and otherwise is left
    to be superseded by the new version written over it. Returns what happened to it; None when there was none, or
    the one there already says the use was stopped."""
    json_key, _ = notification_keys(deployment_id)
    bucket = settings.s3.bucket_reports
    if not store.list_keys(bucket, json_key):
        return None
    raw = store.get_bytes(bucket, json_key)
    if "stopped" in json.loads(raw):
        return None
    earlier = {"json_sha256": hashlib.sha256(raw).hexdigest(), "disposition": "withdrawn"}
    if not store.object_locked(bucket):
        try:
            store.delete_prefix(bucket, f"reports/{deployment_id}/notification.")
            earlier["disposition"] = "deleted"
        except ObjectStoreError:  # the platform's key may not delete under reports/ (storage/policy.py)
            pass
    return earlier


def published(store: ObjectStore, settings: Settings, deployment_id: Any) -> bool:
    """Whether a notification of this use is in the reports bucket."""
    return bool(store.list_keys(settings.s3.bucket_reports, notification_keys(str(deployment_id))[0]))


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
