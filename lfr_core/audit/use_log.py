"""The per-use log of EU AI Act Art 12(3) (issue 28 item 3), derived from the audit log and verified against it.

A use is a watchlist version's time live: from its activation to its expiry, its purge or the deployment's
cancellation, whichever comes first (a deployment cancelled before any list went live is a use of no time). For
each use the log gives (a) its start and end, (b) the reference database: the version, the sha256 of its
snapshot and manifest, the models and threshold it was built with, (c) for each match the input that led to it,
as the alert's id and the sha256 of its probe crop (never the crop), and (d) who verified each match and how.

Everything comes from audit rows (each item cites the row's seq and hash), never from the alerts table: retention
deletes an alert and its crop after 31 days, while the audit log is append-only and keeps the use's record for
`LFR_AUDIT__USE_LOG_RETENTION_DAYS` at least. `verify` derives the log again and compares it with a kept copy,
and walks the audit chain, so an edited copy or an edited audit row is found.

A use discarded under Art 5(3) (issue 28 item 7: authorisation refused, or its urgency deadline passed without a
decision) keeps its log: the log then also says how it was stopped (the refusal's row, or the lapse) and cites the
deletion receipt (`deployment.use_discarded`: when, by whom, why, what was deleted) and the deletion of its crops.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.audit import queries

FORMAT = "lfr-use-log/1"
ENDS = ("watchlist.expired", "watchlist.purging", "watchlist.purged")
# An alert's rows that are not a person's verification of it.
NOT_VERIFICATIONS = ("alert.raise", "alert.crop_moved", "alert.hold", "alert.release")
REFUSED = "deployment.authorisation_refused"
DISCARDED = "deployment.use_discarded"
OBJECTS_DELETED = "deployment.use_objects_deleted"


def _cite(row: dict[str, Any]) -> dict[str, Any]:
    return {"seq": row["seq"], "row_hash": row["row_hash"]}


def _at(row: dict[str, Any] | None) -> str | None:
    return None if row is None else row["occurred_at"].isoformat()


def _reference(build: dict[str, Any] | None, version_id: str) -> dict[str, Any]:
    if build is None:  # a version made outside the build (a repair): say so rather than guess
        return {"version_id": version_id, "build": None}
    d = build["details"]
    return {"version_id": version_id, "version": d.get("version"), "snapshot_sha256": d.get("snapshot_sha256"),
            "manifest_sha256": d.get("manifest_sha256"), "model": d.get("model"), "threshold": d.get("threshold"),
            "built_by": build["actor"], "build": _cite(build)}


def _matches(rows: list[dict[str, Any]], version_id: str) -> list[dict[str, Any]]:
    raised = [r for r in rows if r["action"] == "alert.raise" and r["details"].get("version_id") == version_id]
    out = []
    for r in raised:
        checks = [v for v in rows if v["object_type"] == "alert" and v["object_id"] == r["object_id"]
                  and v["action"].startswith("alert.") and v["action"] not in NOT_VERIFICATIONS]
        out.append({"alert_id": r["object_id"], "raised_at": _at(r), "captured_at": r["details"].get("captured_at"),
                    "camera_id": r["details"].get("camera_id"), "score": r["details"].get("score"),
                    "probe_crop_sha256": r["details"].get("probe_crop_sha256"), "raise": _cite(r),
                    "verified_by": [{"person": v["actor"], "role": v["role"], "decision": v["action"][len("alert."):],
                                     "at": _at(v), "row": _cite(v)} for v in checks]})
    return out


def _discarded(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How a discarded use was stopped and the reference to its deletion receipt; None for a use not discarded."""
    receipt = next((r for r in rows if r["action"] == DISCARDED), None)
    if receipt is None:
        return None
    refusal = next((r for r in rows if r["action"] == REFUSED), None)
    deleted = receipt["details"].get("deleted") or {}
    objects = [r for r in rows if r["action"] == OBJECTS_DELETED]
    return {"stopped_by": deleted.get("authorisation"),
            "refusal": None if refusal is None else {
                "at": _at(refusal), "recorded_by": refusal["actor"], "authority": refusal["details"].get("authority"),
                "decision_ref": refusal["details"].get("decision_ref"), "row": _cite(refusal)},
            "receipt": {"deployment_id": receipt["object_id"], "logged_at": _at(receipt),
                        "deleted_by": receipt["actor"], "reason": receipt["details"].get("reason"),
                        "alerts_deleted": deleted.get("alerts"), "row": _cite(receipt)},
            "objects_deleted": [{"at": _at(r), "object_versions": r["details"].get("object_versions_deleted"),
                                 "row": _cite(r)} for r in objects]}


def derive(conn: psycopg.Connection, deployment_id: str, *, retention_days: int) -> dict[str, Any]:
    """The deployment's per-use log from its audit rows."""
    rows = queries.rows_of_deployment(conn, str(deployment_id))
    cancelled = next((r for r in rows if r["action"] == "deployment.cancelled"), None)
    builds = {r["object_id"]: r for r in rows if r["action"] == "watchlist.build"}
    uses = []
    for start in (r for r in rows if r["action"] == "watchlist.active"):
        version_id = start["object_id"]
        ends = [r for r in rows if r["seq"] > start["seq"] and (
            (r["action"] in ENDS and r["object_id"] == version_id) or r is cancelled)]
        end = ends[0] if ends else None
        uses.append({"start": _at(start), "end": _at(end),
                     "ended_by": None if end is None else ("cancellation" if end is cancelled else end["action"]),
                     "activated_by": start["actor"], "activation": _cite(start),
                     "ending": None if end is None else _cite(end),
                     "reference_database": _reference(builds.get(version_id), version_id),
                     "matches": _matches(rows, version_id)})
    if cancelled is not None and not uses:
        uses.append({"start": None, "end": _at(cancelled), "ended_by": "cancellation",
                     "activated_by": None, "activation": None, "ending": _cite(cancelled),
                     "reference_database": None, "matches": []})
    for use in uses:
        use["keep_until"] = None if use["end"] is None else (
            datetime.fromisoformat(use["end"]) + timedelta(days=retention_days)).isoformat()
    log = {"format": FORMAT, "deployment_id": str(deployment_id), "retention_days": retention_days, "uses": uses}
    discarded = _discarded(rows)
    if discarded is not None:  # only then: a log kept before this key existed still verifies
        log["discarded"] = discarded
    return log


def _differences(kept: Any, derived: Any, path: str) -> list[str]:
    if isinstance(kept, dict) and isinstance(derived, dict):
        out = []
        for key in sorted(set(kept) | set(derived)):
            if key not in derived:
                out.append(f"{path}.{key}: not in the audit log")
            elif key not in kept:
                out.append(f"{path}.{key}: in the audit log, missing from the use log")
            else:
                out.extend(_differences(kept[key], derived[key], f"{path}.{key}"))
        return out
    if isinstance(kept, list) and isinstance(derived, list):
        out = [f"{path}: {len(kept)} items, the audit log gives {len(derived)}"] if len(kept) != len(derived) else []
        return out + [p for i, (a, b) in enumerate(zip(kept, derived)) for p in _differences(a, b, f"{path}[{i}]")]
    if json.dumps(kept, sort_keys=True, default=str) != json.dumps(derived, sort_keys=True, default=str):
        return [f"{path}: {kept!r} in the use log, {derived!r} from the audit log"]
    return []


def verify(conn: psycopg.Connection, kept: dict[str, Any]) -> list[str]:
    """Every way `kept` (a use log as exported) departs from the audit log, and every break of the audit chain;
    empty when the use log is the audit log's own account."""
    if kept.get("format") != FORMAT or "deployment_id" not in kept:
        return [f"not a use log of format {FORMAT}"]
    derived = derive(conn, kept["deployment_id"], retention_days=int(kept.get("retention_days") or 0))
    problems = _differences({k: v for k, v in kept.items() if k != "verified"}, derived, "use_log")
    problems += [f"audit log: {p}" for p in audit.verify(conn).problems]
    return problems


def export(conn: psycopg.Connection, deployment_id: str, *, retention_days: int) -> dict[str, Any]:
    """The log with the result of checking it against the audit chain at export."""
    log = derive(conn, deployment_id, retention_days=retention_days)
    chain = audit.verify(conn)
    return {**log, "verified": {"ok": chain.ok, "audit_rows": chain.rows, "audit_head": chain.head,
                                "problems": chain.problems}}
