"""The subject history that survives a purge: every version whose kept snapshot (entries and image hashes, no
templates) names a subject, so the platform can still answer whether someone was on a list, when and where."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from lfr_core.audit.log import sha256_hex
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist import queries


def history(conn: psycopg.Connection, store: ObjectStore, subject_ref: str) -> list[dict[str, Any]]:
    """Every version whose kept snapshot names the subject: when, for which deployment, in what state."""
    found: list[dict[str, Any]] = []
    for row in queries.snapshots(conn):
        if not row.snapshot_uri:
            continue
        try:
            data = store.get_bytes(*parse_s3_uri(row.snapshot_uri))
        except ObjectStoreUnavailable:
            raise  # the store is down: no answer is better than one that looks complete
        except ObjectStoreError as e:
            found.append({"version_id": str(row.id), "error": f"snapshot unreadable: {e}"})
            continue
        intact = sha256_hex(data) == row.snapshot_sha256
        images = [e for e in json.loads(data)["entries"] if e["subject_ref"] == subject_ref]
        if images:  # one occurrence per version, however many images the subject had on it
            accepted = [e for e in images if e["status"] == "accepted"]
            found.append({
                "deployment_id": str(row.deployment_id), "place": row.place,
                "window_start": row.window_start, "window_end": row.window_end,
                "version_id": str(row.id), "version": row.version, "state": row.state,
                "category": images[0]["category"], "entry_status": "accepted" if accepted else "rejected",
                "images": len(images), "images_accepted": len(accepted),
                "reason": None if accepted else "; ".join(str(e["reason"]) for e in images),
                "activated_at": row.activated_at, "purged_at": row.purged_at, "snapshot_intact": intact,
            })
    return found
