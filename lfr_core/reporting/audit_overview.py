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
from lfr_core.deployments import queries as deployments_queries
from lfr_core.deployments.model import STATUSES
from lfr_core.watchlist import queries as watchlist_queries


def chain_status(conn: psycopg.Connection, store: Any, settings: Settings) -> dict[str, Any]:
    """The hash chain walked now, and the stored checkpoints checked against it."""
    chain = audit.verify(conn)
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
    rows = deployments_queries.deployments_overlapping(
        conn, place=place.strip(), status=status,
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until, time.max, UTC) if until else None)
    versions = watchlist_queries.versions_of_deployments(conn, [r["id"] for r in rows])
    rejected = watchlist_queries.rejected_entries(conn, [v["id"] for v in versions])
    for v in versions:
        v["rejected"] = [r for r in rejected if r["version_id"] == v["id"]]
    return [{**d, "versions": [v for v in versions if v["deployment_id"] == d["id"]]} for d in rows]
