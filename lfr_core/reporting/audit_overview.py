"""What admins and auditors inspect in the Airflow UI's audit view (airflow_plugins/lfr_audit_view.py): the
audit chain's state checked now (hash chain and signed checkpoints), and the deployments, filtered by
place, date and state, each with its watchlist versions (approval, model, threshold, purge receipt), the
rejected entries with their reasons, and the Airflow run that built it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import psycopg

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.deployments.model import STATUSES


def chain_status(conn: psycopg.Connection, store: Any, settings: Settings) -> dict[str, Any]:
    """The hash chain walked now, and the stored checkpoints checked against it."""
    chain = audit.verify(conn)
    conn.rollback()
    summary, problems = audit_checkpoints.verify_checkpoints(conn, store, settings)
    return {"verified_at": datetime.now(UTC), "rows": chain.rows, "head": chain.head,
            "ok": chain.ok and not problems, "problems": [*chain.problems, *problems],
            "checkpoints": summary["checkpoints"], "last_anchor_rows": summary["latest_tree_size"],
            "last_anchor_at": summary["latest_signed_at"]}


def deployments_overview(conn: psycopg.Connection, *, place: str = "", since: date | None = None,
                         until: date | None = None, status: str = "") -> list[dict[str, Any]]:
    """Deployments whose window overlaps [since, until] (whole days, UTC), newest first, with their versions
    and each version's rejected entries."""
    if status and status not in STATUSES:
        raise ValueError(f"unknown state {status!r}; choose one of: {', '.join(STATUSES)}")
    rows = conn.execute(
        """SELECT * FROM deployments
           WHERE (%(place)s = '' OR place ILIKE '%%' || %(place)s || '%%')
             AND (%(status)s = '' OR status = %(status)s)
             AND (%(since)s::timestamptz IS NULL OR window_end >= %(since)s)
             AND (%(until)s::timestamptz IS NULL OR window_start < %(until)s)
           ORDER BY window_start DESC LIMIT 200""",
        {"place": place.strip(), "status": status,
         "since": datetime.combine(since, time.min, UTC) if since else None,
         "until": datetime.combine(until, time.max, UTC) if until else None}).fetchall()
    versions = conn.execute(
        "SELECT * FROM watchlist_versions WHERE deployment_id = ANY(%s) ORDER BY version",
        ([r["id"] for r in rows],)).fetchall()
    rejected = conn.execute(
        """SELECT version_id, subject_ref, image_index, reason FROM watchlist_entries
           WHERE version_id = ANY(%s) AND status <> 'accepted' ORDER BY subject_ref, image_index""",
        ([v["id"] for v in versions],)).fetchall()
    conn.rollback()
    for v in versions:
        v["rejected"] = [r for r in rejected if r["version_id"] == v["id"]]
    return [{**d, "versions": [v for v in versions if v["deployment_id"] == d["id"]]} for d in rows]
