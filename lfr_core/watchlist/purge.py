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

from lfr_core.audit import log as audit
from lfr_core.audit.log import canonical_json, sha256_hex
from lfr_core.config import Settings
from lfr_core.errors import InvalidInput, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist.lifecycle import _transition, get_version


class PurgeVerificationFailed(RuntimeError):
    """Something survived a purge; the version stays unpurged and the purge must be retried."""


def copies_prefix(version_id: Any) -> str:
    return f"{version_id}/"


PURGE_BATCH = 5000  # image copies deleted, confirmed and recorded per step (two listings each)


def purge(conn: psycopg.Connection, store: ObjectStore, settings: Settings, version_id: str, actor: Actor,
          *, reason: str) -> dict[str, Any]:
    """Purge with proof, labelled with its real reason, in three steps that survive an interruption:

    1. the templates are deleted and the version becomes `purging` (one transaction);
    2. the image copies are deleted in batches, each entry marked `deleting` before the call and `deleted`
       once a listing confirms the object gone (`missing` when it was gone before the purge asked);
    3. a final listing proves nothing is left, the receipt is written and the version becomes `purged`.

    Run again after a failure, it resumes at step 2. The watchlist images of alerts still awaiting a human
    decision are kept (`kept`, named in the receipt); `release_kept_image` deletes each once its alerts are
    decided or deleted by retention."""
    actor.require("admin", "system", to="purge a watchlist")
    if not reason.strip():
        raise InvalidInput("a purge needs a reason (it is recorded in the receipt and the audit log)")
    store.require_available()  # an outage before the start changes nothing; one after it leaves 'purging'
    version = _start(conn, version_id, actor, reason.strip())
    if version["state"] == "purged":
        return version["purge_receipt"]
    bucket, prefix = settings.s3.bucket_images, copies_prefix(version["id"])
    _delete_copies(conn, store, version["id"], bucket, prefix, actor)
    return _seal(conn, store, settings, version["id"], actor, bucket, prefix)


def _start(conn: psycopg.Connection, version_id: str, actor: Actor, reason: str) -> dict[str, Any]:
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        if version["state"] in ("purged", "purging"):
            return version
        if version["state"] == "active":
            raise Refused(f"version {version_id} is active; expire it (or wait for the window to end) before purging")
        enrolled = conn.execute(
            """SELECT count(DISTINCT w.subject_ref) AS subjects, count(*) AS templates FROM watchlist_embeddings e
               JOIN watchlist_entries w ON w.id = e.entry_id WHERE e.version_id = %s""", (version["id"],)).fetchone()
        pending = conn.execute(
            "SELECT id, watchlist_image_uri FROM alerts WHERE version_id = %s AND status = 'pending'"
            " AND watchlist_image_uri IS NOT NULL ORDER BY raised_at", (version["id"],)).fetchall()
        copies = conn.execute("SELECT image_sha256 FROM watchlist_entries WHERE version_id = %s AND image_uri IS NOT NULL"
                              " ORDER BY id", (version["id"],)).fetchall()
        embeddings = conn.execute("DELETE FROM watchlist_embeddings WHERE version_id = %s", (version["id"],)).rowcount
        conn.execute("UPDATE watchlist_entries SET image_purge = 'kept', image_uri = NULL"
                     " WHERE version_id = %s AND image_uri = ANY(%s)",
                     (version["id"], [a["watchlist_image_uri"] for a in pending]))
        progress = {"reason": reason, "started_by": actor.name, "started_at": datetime.now(UTC).isoformat(),
                    "embeddings_deleted": embeddings, "subjects": enrolled["subjects"], "images": enrolled["templates"],
                    "kept_alert_ids": [str(a["id"]) for a in pending],
                    "deleted_images_sha256": sha256_hex(canonical_json([c["image_sha256"] for c in copies]))}
        return _transition(conn, version, "purging", actor, extra_sql=", purge_progress = %s",
                           extra_params=(Jsonb(progress),), details=progress)


def _delete_copies(conn: psycopg.Connection, store: ObjectStore, version_id: Any, bucket: str, prefix: str,
                   actor: Actor) -> None:
    while True:
        with acting(conn, actor):
            todo = conn.execute(
                """SELECT id, image_uri, image_purge FROM watchlist_entries
                   WHERE version_id = %s AND image_uri IS NOT NULL ORDER BY id LIMIT %s""",
                (version_id, PURGE_BATCH)).fetchall()
        if not todo:
            return
        keys = {row["id"]: parse_s3_uri(row["image_uri"])[1] for row in todo}
        present = {k for k, _ in store.list_keys(bucket, prefix)}
        # Gone before this purge asked: `missing`. Gone after a `deleting` mark (an interrupted earlier run
        # deleted it): `deleted`. Everything else is marked, deleted, then confirmed by a fresh listing.
        absent = {row["id"]: "deleted" if row["image_purge"] == "deleting" else "missing"
                  for row in todo if keys[row["id"]] not in present}
        doomed = [i for i in keys if i not in absent]
        with acting(conn, actor):
            conn.execute("UPDATE watchlist_entries SET image_purge = 'deleting' WHERE id = ANY(%s)", (doomed,))
        store.delete_keys(bucket, [keys[i] for i in doomed])
        survivors = {k for k, _ in store.list_keys(bucket, prefix)} & {keys[i] for i in doomed}
        if survivors:
            raise PurgeVerificationFailed(f"{len(survivors)} image copies of version {version_id} survived their "
                                          f"deletion; the version stays 'purging' and a rerun resumes")
        outcome = {**absent, **dict.fromkeys(doomed, "deleted")}
        with acting(conn, actor):
            conn.execute(
                """UPDATE watchlist_entries e SET image_purge = o.outcome, image_uri = NULL
                   FROM unnest(%s::bigint[], %s::text[]) AS o(id, outcome) WHERE e.id = o.id""",
                (list(outcome), list(outcome.values())))


def _seal(conn: psycopg.Connection, store: ObjectStore, settings: Settings, version_id: Any, actor: Actor,
          bucket: str, prefix: str) -> dict[str, Any]:
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        if version["state"] == "purged":  # a concurrent run finished first
            return version["purge_receipt"]
        progress = version["purge_progress"]
        outcomes = {r["image_purge"]: r["n"] for r in conn.execute(
            "SELECT image_purge, count(*) AS n FROM watchlist_entries WHERE version_id = %s"
            " AND image_purge IS NOT NULL GROUP BY image_purge", (version_id,)).fetchall()}
        # Only the images kept for alerts that were pending when the purge started (and not released since)
        # may remain; any other object under the prefix fails the proof.
        kept_keys = {parse_s3_uri(a["watchlist_image_uri"])[1] for a in conn.execute(
            "SELECT watchlist_image_uri FROM alerts WHERE id = ANY(%s::uuid[]) AND watchlist_image_uri IS NOT NULL",
            (progress["kept_alert_ids"],)).fetchall()}
        remaining_rows = conn.execute(
            "SELECT count(*) AS n FROM watchlist_embeddings WHERE version_id = %s", (version_id,)).fetchone()["n"]
        # The listing, not the delete calls, is the proof: it also finds copies the database did not name.
        remaining_objects = [k for k, _ in store.list_keys(bucket, prefix, versions=True) if k not in kept_keys]
        if remaining_rows or remaining_objects:
            raise PurgeVerificationFailed(f"purge of {version_id} left {remaining_rows} embeddings and "
                                          f"{len(remaining_objects)} objects; the version stays 'purging'")
        receipt = {
            "version_id": str(version["id"]),
            "deployment_id": str(version["deployment_id"]),
            "version": version["version"],
            "reason": progress["reason"],
            "purged_by": actor.name,
            "started_by": progress["started_by"],
            "started_at": progress["started_at"],
            "purged_at": datetime.now(UTC).isoformat(),
            "deleted": {"embeddings": progress["embeddings_deleted"], "image_objects": outcomes.get("deleted", 0)},
            "already_missing": {"image_objects": outcomes.get("missing", 0)},
            "counts": {"subjects": progress["subjects"], "images": progress["images"]},
            "deleted_images_sha256": progress["deleted_images_sha256"],
            "kept_for_adjudication": {
                "image_objects": outcomes.get("kept", 0), "alert_ids": progress["kept_alert_ids"],
                "until": "each alert is adjudicated or deleted by alert retention",
            },
            "verified": {"embeddings_remaining": remaining_rows, "objects_remaining": len(remaining_objects),
                         "listing": f"s3://{bucket}/{prefix}",
                         "how": "each deletion confirmed by a listing after it; nothing left in a final listing"},
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
    if version is None or version["state"] not in ("purging", "purged") or still_needed:
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
