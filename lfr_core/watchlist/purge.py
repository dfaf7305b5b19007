"""Purge with proof, and the subject history that survives it.

A purge deletes a version's biometric templates (embeddings) and its copied images, then checks that
nothing remains (row counts in PostgreSQL, a versioned listing in S3) before it writes a deletion receipt
(counts and hashes only) to the audit log and the object store. The snapshot (entries and image hashes,
no templates) is kept, so `history` can still answer whether someone was on a list, when and where.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from lfr_core import audit
from lfr_core.audit import canonical_json, sha256_hex
from lfr_core.config import Settings
from lfr_core.errors import InvalidInput, Refused
from lfr_core.roles import Actor
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist.lifecycle import _transition, get_version


class PurgeVerificationFailed(RuntimeError):
    """Something survived a purge; the version stays unpurged and the purge must be retried."""


def copies_prefix(version_id: Any) -> str:
    return f"{version_id}/"


def purge(conn: psycopg.Connection, store: ObjectStore, settings: Settings, version_id: str, actor: Actor,
          *, reason: str) -> dict[str, Any]:
    """Purge with proof, labelled with its real reason. The watchlist images of alerts still awaiting a human
    decision are kept (the officer compares them) and named in the receipt; `release_kept_image` deletes each
    once its alerts are decided or deleted by retention."""
    actor.require("admin", "system", to="purge a watchlist")
    if not reason.strip():
        raise InvalidInput("a purge needs a reason (it is recorded in the receipt and the audit log)")
    with conn.transaction():
        version = get_version(conn, version_id, lock=True)
        if version["state"] == "purged":
            return version["purge_receipt"]
        if version["state"] == "active":
            raise Refused(f"version {version_id} is active; expire it (or wait for the window to end) before purging")
        copies = conn.execute(
            "SELECT image_sha256, image_uri FROM watchlist_entries WHERE version_id = %s AND image_uri IS NOT NULL"
            " ORDER BY id", (version["id"],)).fetchall()
        enrolled = conn.execute(
            """SELECT count(DISTINCT w.subject_ref) AS subjects, count(*) AS templates FROM watchlist_embeddings e
               JOIN watchlist_entries w ON w.id = e.entry_id WHERE e.version_id = %s""", (version["id"],)).fetchone()
        pending = conn.execute(
            "SELECT id, watchlist_image_uri FROM alerts WHERE version_id = %s AND status = 'pending'"
            " AND watchlist_image_uri IS NOT NULL ORDER BY raised_at", (version["id"],)).fetchall()
        kept = {a["watchlist_image_uri"] for a in pending}
        bucket, prefix = settings.s3.bucket_images, copies_prefix(version["id"])
        embeddings = conn.execute("DELETE FROM watchlist_embeddings WHERE version_id = %s", (version["id"],)).rowcount
        conn.execute("UPDATE watchlist_entries SET image_uri = NULL WHERE version_id = %s", (version["id"],))
        objects = store.delete_keys(bucket, [parse_s3_uri(c["image_uri"])[1] for c in copies
                                             if c["image_uri"] not in kept])

        remaining_rows = conn.execute(
            "SELECT count(*) AS n FROM watchlist_embeddings WHERE version_id = %s", (version["id"],)
        ).fetchone()["n"]
        # The listing, not the delete calls, is the proof: it also finds copies the database did not name.
        kept_keys = {parse_s3_uri(uri)[1] for uri in kept}
        remaining_objects = [k for k, _ in store.list_keys(bucket, prefix, versions=True) if k not in kept_keys]
        if remaining_rows or remaining_objects:
            raise PurgeVerificationFailed(f"purge of {version_id} left {remaining_rows} embeddings and "
                                          f"{len(remaining_objects)} objects; nothing committed")
        receipt = {
            "version_id": str(version["id"]),
            "deployment_id": str(version["deployment_id"]),
            "version": version["version"],
            "reason": reason.strip(),
            "purged_by": actor.name,
            "purged_at": datetime.now(UTC).isoformat(),
            "deleted": {"embeddings": embeddings, "image_objects": objects},
            "counts": {"subjects": enrolled["subjects"], "images": enrolled["templates"]},
            "deleted_images_sha256": sha256_hex(canonical_json([c["image_sha256"] for c in copies])),
            "kept_for_adjudication": {
                "image_objects": len(kept), "alert_ids": [str(a["id"]) for a in pending],
                "until": "each alert is adjudicated or deleted by alert retention",
            },
            "verified": {"embeddings_remaining": remaining_rows, "objects_remaining": len(remaining_objects),
                         "listing": f"s3://{bucket}/{prefix}"},
            "snapshot_sha256": version["snapshot_sha256"],
            "manifest_sha256": version["manifest_sha256"],
        }
        stored = store.put_json(settings.s3.bucket_reports,
                                f"receipts/{version['deployment_id']}/v{version['version']:04d}.json", receipt)
        receipt["receipt_uri"], receipt["receipt_sha256"] = stored.uri, stored.sha256
        _transition(conn, version, "purged", actor, extra_sql=", purged_at = now(), purge_receipt = %s",
                    extra_params=(Jsonb(receipt),), details={"receipt": receipt})
    return receipt


def release_kept_image(conn: psycopg.Connection, store: ObjectStore, alert: dict[str, Any], actor: Actor,
                       why: str) -> bool:
    """Inside the caller's transaction: once no pending alert needs the watchlist image a purge kept for
    `alert`, delete it (audited). True if an object was deleted."""
    uri = alert.get("watchlist_image_uri")
    if not uri:
        return False
    version = conn.execute("SELECT state FROM watchlist_versions WHERE id = %s", (alert["version_id"],)).fetchone()
    still_needed = conn.execute(
        "SELECT 1 FROM alerts WHERE watchlist_image_uri = %s AND status = 'pending' AND id <> %s LIMIT 1",
        (uri, alert["id"])).fetchone()
    if version is None or version["state"] != "purged" or still_needed:
        return False
    bucket, key = parse_s3_uri(uri)
    store.delete_keys(bucket, [key])
    if any(found == key for found, _ in store.list_keys(bucket, key, versions=True)):
        raise PurgeVerificationFailed(f"{uri} survived its deletion; the alert decision was not committed")
    conn.execute("UPDATE alerts SET watchlist_image_uri = NULL WHERE watchlist_image_uri = %s", (uri,))
    audit.append(conn, actor=actor.name, role=actor.role, action="watchlist.image_released",
                 object_type="watchlist_version", object_id=str(alert["version_id"]),
                 details={"alert_id": str(alert["id"]), "image_uri": uri, "why": why})
    return True


def history(conn: psycopg.Connection, store: ObjectStore, subject_ref: str) -> list[dict[str, Any]]:
    """Every version whose kept snapshot names the subject: when, for which deployment, in what state."""
    rows = conn.execute(
        """SELECT v.id, v.version, v.state, v.snapshot_uri, v.snapshot_sha256, v.activated_at, v.purged_at,
                  d.id AS deployment_id, d.place, d.window_start, d.window_end
           FROM watchlist_versions v JOIN deployments d ON d.id = v.deployment_id ORDER BY v.built_at"""
    ).fetchall()
    found = []
    for row in rows:
        if not row["snapshot_uri"]:
            continue
        try:
            data = store.get_bytes(*parse_s3_uri(row["snapshot_uri"]))
        except ObjectStoreUnavailable:
            raise  # the store is down: no answer is better than one that looks complete
        except ObjectStoreError as e:
            found.append({"version_id": str(row["id"]), "error": f"snapshot unreadable: {e}"})
            continue
        intact = sha256_hex(data) == row["snapshot_sha256"]
        images = [e for e in json.loads(data)["entries"] if e["subject_ref"] == subject_ref]
        if images:  # one occurrence per version, however many images the subject had on it
            accepted = [e for e in images if e["status"] == "accepted"]
            found.append({
                "deployment_id": str(row["deployment_id"]), "place": row["place"],
                "window_start": row["window_start"], "window_end": row["window_end"],
                "version_id": str(row["id"]), "version": row["version"], "state": row["state"],
                "category": images[0]["category"], "entry_status": "accepted" if accepted else "rejected",
                "images": len(images), "images_accepted": len(accepted),
                "reason": None if accepted else "; ".join(str(e["reason"]) for e in images),
                "activated_at": row["activated_at"], "purged_at": row["purged_at"], "snapshot_intact": intact,
            })
    return found
