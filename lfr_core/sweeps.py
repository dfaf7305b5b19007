"""Scheduled safety nets behind the deployment workflow: the watchlist expiry sweep and alert retention.

The deployment DAG expires and purges its own list at window end; the sweep catches what it missed (a
failed or paused run, a list activated by hand): a list active outside its window is deactivated at once,
and any version whose window ended more than `watchlist.expiry_grace_minutes` ago is purged with a receipt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core import alerts, audit_checkpoints, reports
from lfr_core.config import Settings
from lfr_core.errors import LfrError
from lfr_core.roles import SYSTEM, Actor
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.purge import PurgeVerificationFailed, purge

OUTSIDE_WINDOW = "found active outside its window"


class SweepIncomplete(RuntimeError):
    """Some versions could not be expired or purged; the others were, and the next sweep retries these."""


def sweep_watchlists(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                     now: datetime | None = None, actor: Actor = SYSTEM) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    grace = timedelta(minutes=settings.watchlist.expiry_grace_minutes)
    candidates = conn.execute(
        """SELECT v.id, v.state, d.window_start, d.window_end, d.status, d.cancel_reason FROM watchlist_versions v
           JOIN deployments d ON d.id = v.deployment_id
           WHERE v.state <> 'purged' AND (v.state = 'active' OR d.window_end + %s <= %s OR d.status = 'cancelled')
           ORDER BY v.built_at""",
        (grace, now),
    ).fetchall()
    conn.rollback()
    deactivated, expired, receipts, failures = [], [], [], []
    for row in candidates:
        version_id = str(row["id"])
        try:
            state = row["state"]
            if state == "active" and not (row["window_start"] <= now < row["window_end"]):
                lifecycle.expire(conn, version_id, actor, reason=OUTSIDE_WINDOW)
                deactivated.append(version_id)
                state = "expired"
                # Each decision is sealed at once, not at the sweep's end: `lfr audit verify` fails on a
                # decision row left uncovered for longer than `audit.decision_checkpoint_minutes`.
                audit_checkpoints.checkpoint(conn, store, settings)
            cancelled = row["status"] == "cancelled"
            if now < row["window_end"] + grace and not cancelled:
                continue
            why = (f"deployment cancelled: {row['cancel_reason']} (finished by the expiry sweep)" if cancelled else
                   f"window ended at {row['window_end'].isoformat()}; grace of {grace} passed")
            if state in ("approved", "active"):
                lifecycle.expire(conn, version_id, actor, reason=why)
                expired.append(version_id)
            # A draft never sealed goes straight to purged; everything else is expired by now.
            receipts.append(purge(conn, store, settings, version_id, actor, reason=why))
            audit_checkpoints.checkpoint(conn, store, settings)
        except (LfrError, PurgeVerificationFailed, ObjectStoreError, psycopg.Error) as e:
            conn.rollback()
            failures.append(f"{version_id}: {e}")
    try:
        republished = reports.republish_settled_reports(conn, store, settings, actor)
    except (LfrError, ObjectStoreError, psycopg.Error) as e:
        conn.rollback()
        republished = []
        failures.append(f"republishing settled reports: {e}")
    result = {"checked": len(candidates), "deactivated": deactivated, "expired": expired,
              "purged": [r["version_id"] for r in receipts], "receipts": [r.get("receipt_uri") for r in receipts],
              "reports_republished": republished, "failures": failures}
    if failures:
        raise SweepIncomplete(f"{len(failures)} of {len(candidates)} versions not swept: " + "; ".join(failures)
                              + f" (done: {result})")
    return result


def apply_alert_retention(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                          now: datetime | None = None, actor: Actor = SYSTEM) -> dict[str, int]:
    """Delete alerts older than `alerts.retention_days`; those on legal hold are kept."""
    return alerts.delete_expired(conn, store, settings.alerts.retention_days, actor, now=now)
