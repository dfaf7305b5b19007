"""Purge with proof.

A purge deletes a version's biometric templates (embeddings) and its copied images, then checks that
nothing remains (row counts in PostgreSQL, a versioned listing in S3) before it writes a deletion receipt
(counts and hashes only) to the audit log and the object store. The snapshot (entries and image hashes,
no templates) is kept, so lfr_core/watchlist/history.py can still answer whether someone was on a list, when
and where.

It is the workflow's, not the watchlist's: it keeps the watchlist images that alerts still awaiting a decision
show, so it reads the alerts, which sit above the watchlist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.alerts import queries as alert_queries
from lfr_core.audit.log import canonical_json, sha256_hex
from lfr_core.config import Settings
from lfr_core.errors import InvalidInput, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore, parse_s3_uri
from lfr_core.watchlist import queries
from lfr_core.watchlist.build import copies_prefix
from lfr_core.watchlist.lifecycle import _describe, get_version
from lfr_core.watchlist.model import ImagePurge, PurgeVerificationFailed

PURGE_BATCH = 5000  # image copies deleted, confirmed and recorded per step (two listings each)


def purge(conn: psycopg.Connection, store: ObjectStore, settings: Settings, version_id: str, actor: Actor,
          *, reason: str) -> dict[str, Any]:
    """Purge with proof, labelled with its real reason, in three steps that survive an interruption:

    1. the templates are deleted and the version becomes `purging` (one transaction);
    2. the image copies are deleted in batches, each entry marked `deleting` before the call and `deleted`
       once a listing confirms the object gone (`missing` when it was gone before the purge asked);
    3. a final listing proves nothing is left, the receipt is written and the version becomes `purged`.

    Run again after a failure, it resumes at step 2. The watchlist images of alerts still awaiting a human
    decision are kept (`kept`, named in the receipt); `release_kept_image` (lfr_core/alerts/service.py) deletes
    each once its alerts are decided or deleted by retention."""
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
        enrolled = queries.enrolled(conn, version["id"])
        pending = alert_queries.pending_alert_images(conn, version["id"])
        copies = queries.copied_image_hashes(conn, version["id"])
        embeddings = queries.delete_embeddings(conn, version["id"])
        queries.mark_images_kept(conn, version["id"], [a["watchlist_image_uri"] for a in pending])
        progress = {"reason": reason, "started_by": actor.name, "started_at": datetime.now(UTC).isoformat(),
                    "embeddings_deleted": embeddings, "subjects": enrolled.subjects, "images": enrolled.templates,
                    "kept_alert_ids": [str(a["id"]) for a in pending],
                    "deleted_images_sha256": sha256_hex(canonical_json(copies))}
        _describe(conn, actor, progress)
        return queries.mark_purging(conn, version["id"], progress)


def _delete_copies(conn: psycopg.Connection, store: ObjectStore, version_id: Any, bucket: str, prefix: str,
                   actor: Actor) -> None:
    while True:
        with acting(conn, actor):
            todo = queries.images_to_purge(conn, version_id, PURGE_BATCH)
        if not todo:
            return
        keys = {row.id: parse_s3_uri(row.image_uri)[1] for row in todo}
        present = {k for k, _ in store.list_keys(bucket, prefix)}
        # Gone before this purge asked: `missing`. Gone after a `deleting` mark (an interrupted earlier run
        # deleted it): `deleted`. Everything else is marked, deleted, then confirmed by a fresh listing.
        absent = {row.id: ImagePurge.DELETED if row.image_purge == ImagePurge.DELETING else ImagePurge.MISSING
                  for row in todo if keys[row.id] not in present}
        doomed = [i for i in keys if i not in absent]
        with acting(conn, actor):
            queries.mark_images_deleting(conn, doomed)
        store.delete_keys(bucket, [keys[i] for i in doomed])
        survivors = {k for k, _ in store.list_keys(bucket, prefix)} & {keys[i] for i in doomed}
        if survivors:
            raise PurgeVerificationFailed(f"{len(survivors)} image copies of version {version_id} survived their "
                                          f"deletion; the version stays 'purging' and a rerun resumes")
        outcome: dict[int, str] = {**absent, **dict.fromkeys(doomed, ImagePurge.DELETED)}
        with acting(conn, actor):
            queries.record_image_outcomes(conn, outcome)


def _seal(conn: psycopg.Connection, store: ObjectStore, settings: Settings, version_id: Any, actor: Actor,
          bucket: str, prefix: str) -> dict[str, Any]:
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        if version["state"] == "purged":  # a concurrent run finished first
            return version["purge_receipt"]
        progress = version["purge_progress"]
        outcomes = queries.image_outcomes(conn, version_id)
        # Only the images kept for alerts that were pending when the purge started (and not released since)
        # may remain; any other object under the prefix fails the proof.
        kept_keys = {parse_s3_uri(uri)[1] for uri in alert_queries.kept_alert_images(conn, progress["kept_alert_ids"])}
        remaining_rows = queries.embeddings_left(conn, version_id)
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
        _describe(conn, actor, {"receipt": receipt})
        queries.mark_purged(conn, version["id"], receipt)
    return receipt
