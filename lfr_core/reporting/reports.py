"""The per-deployment transparency report: what was searched for, how many faces were seen, what alerted
and what the officers did about it, published as JSON and Markdown next to the purge receipts.

Numbers only: the report names no subject and holds no biometric data. The projected false alerts come
from a per-comparison false match rate (see `PROJECTION_FMR_PER_COMPARISON`) scaled to the watchlist size
and the faces seen, so the observed count can be set against what the operating threshold predicted.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.alerts import queries as alerts_queries
from lfr_core.alerts.model import ALERT_STATUSES, DISPOSALS, ENGAGEMENTS, AlertStatus, Engagement
from lfr_core.audit import log as audit
from lfr_core.config import Settings, get_settings
from lfr_core.deployments import queries as deployments_queries
from lfr_core.deployments import service as deployments
from lfr_core.evaluation import calibration
from lfr_core.evaluation.metrics import fpir_at_list_size
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.reporting.model import (
    CategoryCounts,
    PublishedReport,
    Report,
    ReportCamera,
    ReportPlanning,
    ReportTraffic,
    ReportUnder18,
    ReportVersion,
)
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_time
from lfr_core.watchlist import gate, lifecycle
from lfr_core.watchlist import queries as watchlist_queries

# SFace's published operating point: threshold 0.363 at a false accept rate of about 1e-3 per comparison
# on LFW (the default `match.threshold`). A per-deployment measured FPIR from `lfr eval` would be better; until
# one is recorded in the database the report uses this constant and says so.
PROJECTION_FMR_PER_COMPARISON = 1e-3
PROJECTION_SOURCE = "SFace published operating point (FAR ~1e-3 per comparison at cosine 0.363, LFW)"


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def projected_false_alerts(faces_seen: int, watchlist_size: int, fmr: float = PROJECTION_FMR_PER_COMPARISON,
                           source: str = PROJECTION_SOURCE) -> dict[str, Any]:
    """FPIR(N) = 1 - (1 - p)^N for a list of N subjects; expected false alerts = faces seen * FPIR(N)."""
    fpir_n = fpir_at_list_size(fmr, watchlist_size)
    return {"per_comparison_fmr": fmr, "fpir_at_watchlist": fpir_n, "false_alerts": faces_seen * fpir_n,
            "source": source}


def _calibrated_fmr(conn: psycopg.Connection, used_versions: list[dict[str, Any]]) -> dict[str, Any]:
    """The measured per-comparison rate for the model and threshold of the list used, when `lfr eval --record`
    calibrated that model; otherwise nothing (the published constant applies)."""
    if not used_versions:
        return {}
    version = used_versions[-1]
    calibrated = calibration.per_comparison_fmr(conn, version["embedder_sha256"], float(version["threshold"]))
    if calibrated is None:
        return {}
    return {"fmr": calibrated["per_comparison_fmr"], "source": f"{calibrated['source']}; {calibrated['bound']}"}


def build_report(conn: psycopg.Connection, deployment_id: str) -> Report:
    deployment = deployments.get(conn, deployment_id)
    versions = watchlist_queries.report_versions(conn, deployment["id"])
    used = [v for v in versions if v["activated_at"] is not None]
    # Entries survive a purge (only templates and image copies go), so the size stays countable afterwards.
    size = watchlist_queries.accepted_subject_count(conn, [v["id"] for v in used])
    counters = alerts_queries.camera_totals(conn, deployment["id"])
    by_status = {str(s): 0 for s in ALERT_STATUSES} | alerts_queries.count_by_status(conn, deployment["id"])
    by_category: dict[str, CategoryCounts] = {
        c.category: {"alerts": c.alerts, "confirmed": c.confirmed, "declined": c.declined}
        for c in alerts_queries.count_by_category(conn, deployment["id"])}
    results = {str(e): 0 for e in ENGAGEMENTS} | alerts_queries.count_by_engagement(conn, deployment["id"])
    engagement_outcomes = {str(d): 0 for d in DISPOSALS} | alerts_queries.count_by_disposal(conn, deployment["id"])

    faces = counters.faces_seen
    total_alerts = sum(by_status.values())
    # The Met's counts (issue 28 item 1): a declined match is a false alert unconfirmed; an engagement that found
    # someone else, a false alert confirmed; a subject who evaded or was not engaged, a true alert unconfirmed.
    unconfirmed_true = results[Engagement.EVADED] + results[Engagement.NOT_ENGAGED]
    declined = by_status[AlertStatus.DECLINED] + results[Engagement.SOMEONE_ELSE]
    confirmed = results[Engagement.SUBJECT] + unconfirmed_true
    engagements = results[Engagement.SUBJECT] + results[Engagement.SOMEONE_ELSE]
    projection = projected_false_alerts(faces, size, **_calibrated_fmr(conn, used))
    equity = (calibration.equitability(conn, used[-1]["embedder_sha256"], float(used[-1]["threshold"]))
              if used else None)
    return {
        "deployment": {
            "id": str(deployment["id"]), "place": deployment["place"], "purpose": deployment["purpose"],
            "legal_basis": deployment["legal_basis"], "authorising_officer": deployment["authorising_officer"],
            "window_start": deployment["window_start"].isoformat(), "window_end": deployment["window_end"].isoformat(),
            "status": deployment["status"], "cancel_reason": deployment["cancel_reason"],
            "threshold": used[-1]["threshold"] if used else deployment["threshold"],
            "allowed_categories": list(deployment["allowed_categories"]),
        },
        "watchlist": {"size": size, "versions": [_version(v) for v in versions],
                      "under_18": [{"version": c["version"], "rationale": c["under_18_rationale"]}
                                   for c in watchlist_queries.under_18_entries(conn, [v["id"] for v in versions])]},
        "planning": _planning(conn, deployment["id"], versions),
        "traffic": {"cameras": counters.cameras, "frames": counters.frames, "faces_seen": faces,
                    "frames_refused": counters.frames_refused, "faces_reliable": counters.faces_reliable,
                    "faces_below_reliable": counters.faces_below_reliable,
                    "faces_refused_by_gate": counters.faces_refused_small + counters.faces_refused_other,
                    "faces_not_banded": faces - (counters.faces_refused_small + counters.faces_refused_other
                                                 + counters.faces_below_reliable + counters.faces_reliable),
                    "reliable_face_px": counters.reliable_face_px},
        "alerts": {
            "total": total_alerts,
            "true_alerts": confirmed,
            "false_alerts": declined,
            "not_engaged": unconfirmed_true,
            "pending": by_status[AlertStatus.PENDING],
            "engagement_results": results,
            "engagements": engagements,
            "outcomes": by_status,
            # The outcome of each engagement (arrest, other, no action), as the officer recorded it.
            "engagement_outcomes": engagement_outcomes,
            "by_category": by_category,
            "false_alerts_per_1000_faces": (declined * 1000.0 / faces) if faces else None,
        },
        "false_alerts": {
            "observed": declined,
            "projected": projection["false_alerts"],
            "projected_fpir_at_watchlist": projection["fpir_at_watchlist"],
            "per_comparison_fmr": projection["per_comparison_fmr"],
            "projection_source": projection["source"],
            # What the recorded impostor evidence said of the live list at its size when it was sealed.
            "evidence_at_sealing": lifecycle.evidence_line(used[-1]) if used else None,
        },
        "equitability": equity,
        # Alerts still awaiting a human decision make the figures provisional: the expiry sweep republishes
        # the report once the last of them is decided (or deleted by retention).
        "provisional": by_status[AlertStatus.PENDING] > 0,
        "generated_at": datetime.now(UTC).isoformat(),
    }


def _planning(conn: psycopg.Connection, deployment_id: Any, versions: list[dict[str, Any]]) -> ReportPlanning:
    """The live gate of the list used last (else the latest built) with its evidence, and the registered cameras
    with their range (issue 32 items 2 and 3)."""
    settings = get_settings()
    used = [v for v in versions if v["activated_at"] is not None] or versions
    latest = used[-1] if used else None
    cameras: list[ReportCamera] = [
        {"name": c["name"], "resolution": f"{c['width_px']}x{c['height_px']}", "hfov_deg": c["hfov_deg"],
         "face_width_m": c["face_width_m"], "face_px": c["face_px"], "max_distance_m": c["max_distance_m"]}
        for c in deployments.cameras_of(conn, deployment_id)]
    return {"live_gate": None if latest is None else gate.gate_line(latest, settings),
            "reliable_face_size": None if latest is None else gate.reliable_line(latest, settings),
            "cameras": cameras}


def planning_lines(p: ReportPlanning) -> list[str]:
    """The planner's view of the gate and the cameras, in Markdown."""
    lines = [f"- {html.escape(p['live_gate'])}" if p["live_gate"] else "- Live gate: no list built",
             *([f"- {html.escape(p['reliable_face_size'])}"] if p["reliable_face_size"] else [])]
    if not p["cameras"]:
        return [*lines, "- Cameras: none registered (`lfr camera add`)"]
    lines += ["", "| camera | resolution | field of view | face size | range |", "|---|---|---|---|---|"]
    lines += [f"| {html.escape(c['name'])} | {c['resolution']} | {c['hfov_deg']:g}° | {c['face_px']} px "
              f"({c['face_width_m']:g} m face) | {c['max_distance_m']:.2f} m |" for c in p["cameras"]]
    return lines


def _version(v: dict[str, Any]) -> ReportVersion:
    return {"id": str(v["id"]), "version": v["version"], "state": v["state"], "built_by": v["built_by"],
            "approved_by": v["approved_by"], "embedder": v["embedder"], "threshold": v["threshold"],
            "entries_total": v["entries_total"], "entries_accepted": v["entries_accepted"],
            "entries_rejected": v["entries_rejected"], "used": v["activated_at"] is not None,
            "activated_at": _iso(v["activated_at"]), "expired_at": _iso(v["expired_at"]),
            "purged_at": _iso(v["purged_at"]), "purge_receipt_uri": v["receipt_uri"]}


def under_18_lines(children: list[ReportUnder18]) -> list[str]:
    """The written rationale for each child on a list (the pack's under-18 rule), HTML-escaped."""
    if not children:
        return ["", "Subjects under 18 at the window's start: none"]
    return ["", f"Subjects under 18 at the window's start: **{len(children)}**", "",
            *(f"- version {c['version']}: {html.escape(c['rationale'] or 'no rationale recorded')}" for c in children)]


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown(report: Report) -> str:
    """A human-readable report; free text from the deployment is HTML-escaped so it renders inertly."""
    d, w, t, a, f = (report["deployment"], report["watchlist"], report["traffic"], report["alerts"],
                     report["false_alerts"])
    esc = html.escape
    lines = [
        f"# Transparency report: {esc(d['place'])}",
        "",
        f"- Deployment: `{d['id']}` ({d['status']})",
        f"- Window: {format_time(d['window_start'])} to {format_time(d['window_end'])}",
        f"- Purpose: {esc(d['purpose'])}",
        f"- Legal basis: {esc(d['legal_basis'])}",
        f"- Authorising officer: {esc(d['authorising_officer'])}",
        f"- Threshold: {_fmt(d['threshold'], 3)}; categories: {', '.join(d['allowed_categories'])}",
        *([f"- Cancelled: {esc(d['cancel_reason'])}"] if d["cancel_reason"] else []),
        "",
        *([f"**Provisional: {a['pending']} alert(s) still await adjudication. This report is republished once "
           f"they are decided.**", ""] if report["provisional"] else []),
        "## Watchlist",
        "",
        f"Watchlist size (accepted entries of the versions used): **{w['size']}**",
        "",
        "| version | state | used | built by | approved by | accepted | rejected | purge receipt |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in w["versions"]:
        lines.append(f"| {v['version']} | {v['state']} | {'yes' if v['used'] else 'no'} | {esc(v['built_by'])} | "
                     f"{esc(v['approved_by'] or '-')} | {v['entries_accepted']} | {v['entries_rejected']} | "
                     f"{v['purge_receipt_uri'] or '-'} |")
    lines += under_18_lines(w.get("under_18", []))
    lines += [
        "",
        "## Cameras and the live gate",
        "",
        *planning_lines(report["planning"]),
        "",
        "## Faces seen",
        "",
        f"- Cameras: {t['cameras']}; frames: {t['frames']} (refused: {t['frames_refused']})",
        *faces_seen_lines(t),
        "",
        "## Alerts and outcomes",
        "",
        "| measure | count |",
        "|---|---|",
        f"| alerts | {a['total']} |",
        f"| true alerts | {a['true_alerts']} |",
        f"| false alerts (declined or someone else) | {a['false_alerts']} |",
        f"| true alerts not engaged (evaded or not engaged) | {a['not_engaged']} |",
        f"| pending | {a['pending']} |",
        f"| engagements | {a['engagements']} |",
        *(f"| outcome: {k.replace('_', ' ')} | {n} |" for k, n in a["engagement_outcomes"].items()),
        f"| false alerts per 1,000 faces seen | {_fmt(a['false_alerts_per_1000_faces'], 3)} |",
        "",
        "## Projected vs observed false alerts",
        "",
        f"- Observed: {f['observed']}",
        f"- Projected: {_fmt(f['projected'], 3)} (FPIR at this list size {_fmt(f['projected_fpir_at_watchlist'], 5)}; "
        f"per-comparison rate {f['per_comparison_fmr']:g}, from the {f['projection_source']})",
        *([f"- When sealed: {f['evidence_at_sealing']}"] if f.get("evidence_at_sealing") else []),
        "",
        *_equitability_lines(report.get("equitability")),
        f"_Generated {format_time(report['generated_at'])}_",
        "",
    ]
    return "\n".join(lines)


def reliable_size_words(sizes: list[int]) -> str:
    """The reliable size the bands were counted against, as "48 px" (or "32-48 px" if it changed)."""
    if not sizes:
        return "the reliable size"
    return f"{sizes[0]} px" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]} px"


def faces_seen_lines(t: ReportTraffic) -> list[str]:
    """Faces seen, and how many of them could have been recognised (issue 32 item 4): a face refused by the live
    gate was never compared, and one admitted below the reliable size is compared but missed more often."""
    seen, banded = t["faces_seen"], t["faces_seen"] - t["faces_not_banded"]
    share = f" ({100.0 * t['faces_reliable'] / banded:.1f}% of those banded)" if banded else ""
    size = reliable_size_words(t["reliable_face_px"])
    return [
        f"- Faces seen: {seen}",
        f"- Could have been recognised (admitted by the live gate, face at least {size} wide): "
        f"**{t['faces_reliable']}**{share}",
        f"- Admitted below the reliable size (compared and discarded unless matched, but missed more often): "
        f"{t['faces_below_reliable']}",
        f"- Refused by the live gate (too small or too uncertain a detection; never compared): "
        f"{t['faces_refused_by_gate']}",
        *([f"- Counted before faces were counted by size: {t['faces_not_banded']}"] if t["faces_not_banded"] else []),
    ]


def _equitability_lines(equity: dict[str, Any] | None) -> list[str]:
    """Per-group error rates at this deployment's threshold, from the model's recorded evaluation."""
    if not equity:
        return ["## Equitability", "",
                "No per-group evaluation is recorded for this model (`lfr eval --group-by COLUMN --record`).", ""]

    def ci(g: dict[str, Any], m: str) -> str:
        lo, hi = g[f"{m}_ci95"]
        return f"{_fmt(g[m], 3)} ({_fmt(lo, 3)}-{_fmt(hi, 3)})"

    lines = ["## Equitability", "",
             f"Error rates per {html.escape(str(equity['group_by']))} at this deployment's threshold "
             f"{_fmt(equity['threshold'], 3)}, with 95% intervals ({equity['bootstrap']}), from the {equity['source']}.",
             "", "| group | identities | FNIR | FPIR | failure to enrol |", "|---|---|---|---|---|"]
    for name, g in equity["groups"].items():
        lines.append(f"| {html.escape(name)} | {g['identities']} | {ci(g, 'fnir')} | {ci(g, 'fpir')} | "
                     f"{ci(g, 'fte_rate')} |")
    lines.append("")
    for r in (equity.get("ratios") or {}).values():
        if r:
            lines.append(f"- {html.escape(r['verdict'])}")
    return [*lines, ""]


def republish_settled_reports(conn: psycopg.Connection, store: ObjectStore, settings: Settings,
                              actor: Actor = SYSTEM) -> list[str]:
    """Republish every provisional report whose deployment has no alert left awaiting a decision."""
    settled = alerts_queries.settled_report_deployments(conn)
    for deployment_id in settled:
        publish_report(conn, store, settings, str(deployment_id), actor)
    return [str(deployment_id) for deployment_id in settled]


def report_keys(deployment_id: str) -> tuple[str, str]:
    return f"reports/{deployment_id}/report.json", f"reports/{deployment_id}/report.md"


def read_published(store: ObjectStore, settings: Settings, deployment_id: str) -> PublishedReport:
    """The report as last published (the shape `publish_report` returns), read back from the reports bucket."""
    import hashlib
    import json

    json_key, md_key = report_keys(str(deployment_id))
    bucket = settings.s3.bucket_reports
    raw = store.get_bytes(bucket, json_key)
    return {"json_uri": f"s3://{bucket}/{json_key}", "markdown_uri": f"s3://{bucket}/{md_key}",
            "json_sha256": hashlib.sha256(raw).hexdigest(), "report": json.loads(raw),
            "markdown": store.get_bytes(bucket, md_key).decode()}


def publish_report(conn: psycopg.Connection, store: ObjectStore, settings: Settings, deployment_id: str,
                   actor: Actor = SYSTEM) -> PublishedReport:
    """Write report.json and report.md to the reports bucket (overwriting: the latest is the report) and audit it."""
    report = build_report(conn, deployment_id)
    markdown = render_markdown(report)
    json_key, md_key = report_keys(report["deployment"]["id"])
    bucket = settings.s3.bucket_reports
    stored_json = store.put_json(bucket, json_key, report)
    stored_md = store.put_bytes(bucket, md_key, markdown.encode(), "text/markdown")
    with acting(conn, actor):
        deployments_queries.set_report_pending_alerts(conn, report["deployment"]["id"], report["alerts"]["pending"])
        audit.append(conn, actor=actor.name, role=actor.role, action="report.publish", object_type="deployment",
                     object_id=report["deployment"]["id"], details={
                         "json_uri": stored_json.uri, "json_sha256": stored_json.sha256,
                         "markdown_uri": stored_md.uri, "markdown_sha256": stored_md.sha256,
                         "provisional": report["provisional"], "pending_alerts": report["alerts"]["pending"]})
    return {"json_uri": stored_json.uri, "markdown_uri": stored_md.uri, "json_sha256": stored_json.sha256,
            "report": report, "markdown": markdown}
