"""Build a draft watchlist version from a source manifest.

Every image goes through the face engine (decode, detect, exactly one face, enrolment quality gate,
embed) and each entry is accepted or rejected with its reason. The version records the models' identity,
the threshold, the counts and the manifest's sha256; a snapshot (entries and hashes, never embeddings)
goes to the object store. The build is atomic: on any failure no version row, entry, embedding or copied
image remains.
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.deployments import policy_store
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation import calibration
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.vision.engine import FaceEngine
from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import decode_image
from lfr_core.watchlist import gate, queries
from lfr_core.watchlist.manifest import (
    MAX_MANIFEST_BYTES,
    ManifestRow,
    absolute_manifest_uri,
    manifest_warnings,
    parse_manifest,
)
from lfr_core.watchlist.model import NewEntry, NewVersion
from lfr_core.watchlist.sources import SourcePolicy, claim, policy_for
from lfr_core.watchlist.threshold import choose_threshold
from lfr_core.watchlist.vector_index import ensure_hnsw_index


def copies_prefix(version_id: Any) -> str:
    """Where a version's working copies of its accepted images live in the images bucket (the purge deletes
    everything under it)."""
    return f"{version_id}/"


@dataclass
class EntryResult:
    row: ManifestRow
    status: str = "rejected"
    reason: str | None = None
    image_sha256: str | None = None
    image_bytes: bytes | None = field(default=None, repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    quality: dict[str, float] | None = None
    copy_uri: str | None = None  # the working copy in the images bucket, once stored

    def new_entry(self) -> NewEntry:
        return NewEntry(self.row.subject_ref, self.row.image_index, self.row.category, self.row.rationale,
                        self.row.provenance, self.row.capture_date, self.row.image_uri, self.image_sha256,
                        self.copy_uri, self.status, self.reason, self.quality, self.row.legal_basis,
                        self.row.date_of_birth, self.row.age_band, self.row.under_18_rationale)

    def snapshot(self) -> dict[str, Any]:
        return {
            "subject_ref": self.row.subject_ref,
            "image_index": self.row.image_index,
            "category": self.row.category,
            "rationale": self.row.rationale,
            "provenance": self.row.provenance,
            "capture_date": self.row.capture_date.isoformat() if self.row.capture_date else None,
            "legal_basis": self.row.legal_basis,
            "date_of_birth": self.row.date_of_birth.isoformat() if self.row.date_of_birth else None,
            "age_band": self.row.age_band,
            "under_18_rationale": self.row.under_18_rationale,
            "source_uri": self.row.image_uri,
            "image_sha256": self.image_sha256,
            "image_uri": self.copy_uri,
            "status": self.status,
            "reason": self.reason,
        }


def _image_extension(uri: str) -> str:
    guessed = mimetypes.guess_extension(mimetypes.guess_type(uri)[0] or "") or ""
    return guessed if guessed in (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".pgm") else ".img"


def enrol_entries(rows: list[ManifestRow], store: ObjectStore, engine: FaceEngine, settings: Settings,
                  sources: SourcePolicy) -> list[EntryResult]:
    """Fetch, decode and analyse every entry in batches; nothing here touches the database."""
    results = [EntryResult(row) for row in rows]
    batch = settings.watchlist.build_batch
    for start in range(0, len(results), batch):
        chunk = results[start:start + batch]
        images, holders = [], []
        for result in chunk:
            try:
                data = sources.read(result.row.image_uri, store, settings.vision.max_image_bytes)
            except InvalidInput as e:
                result.reason = f"image unreachable: {e}"
                continue
            result.image_sha256 = hashlib.sha256(data).hexdigest()
            try:
                images.append(decode_image(data, max_pixels=settings.vision.max_image_pixels,
                                           max_bytes=settings.vision.max_image_bytes))
            except ImageError as e:
                result.reason = f"not a usable image ({e.reason}): {e}"
                continue
            result.image_bytes = data
            holders.append(result)
        if not images:
            continue
        for result, faces in zip(holders, engine.analyse_batch(images, purpose="enrol")):
            if not faces:
                result.reason = "no face found"
            elif len(faces) > 1:
                result.reason = f"{len(faces)} faces found; a watchlist image must show exactly one person"
            elif not faces[0].quality.passed:
                result.reason = "low quality: " + "; ".join(faces[0].quality.reasons)
            else:
                result.status, result.embedding = "accepted", faces[0].embedding
            if len(faces) == 1:
                # The quality measures, and the face's box: the console shows the officer this face, not the
                # whole custody photograph (lfr_core/live/pipeline.py face_crop_jpeg).
                box = dict(zip(("box_x1", "box_y1", "box_x2", "box_y2"), map(float, faces[0].detection.box)))
                result.quality = {**{k: float(v) for k, v in faces[0].quality.metrics.items()}, **box}
            if result.status != "accepted":
                result.image_bytes = None  # rejected images are never copied
    return results


def build_version(conn: psycopg.Connection, store: ObjectStore, engine: FaceEngine, settings: Settings, *,
                  deployment_id: str, manifest_uri: str, actor: Actor, build_key: str | None = None) -> dict[str, Any]:
    """Build a draft version; with `build_key`, a retried build returns the version it already made."""
    actor.require("planner", "admin", "system", to="build a watchlist")
    deployment = deployments.get(conn, deployment_id)
    if build_key:
        existing = find_by_build_key(conn, deployment["id"], build_key)
        if existing:
            return existing
    if deployment["status"] in ("closed", "cancelled"):
        raise Refused(f"deployment {deployment_id} is {deployment['status']}; no new watchlist may be built")
    if deployment["window_end"] <= datetime.now(UTC):
        raise Refused(f"deployment {deployment_id}'s window ended at {deployment['window_end']}")

    manifest_uri = absolute_manifest_uri(manifest_uri)
    sources = policy_for(settings, manifest_uri)
    manifest_bytes = sources.read(manifest_uri, store, MAX_MANIFEST_BYTES)
    with acting(conn, actor):
        claim(conn, sources, deployment["id"])
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    children = (policy_store.loaded(conn, deployment["policy_name"], deployment["policy_version"]).pack.under_18
                if deployment["policy_name"] else None)
    rows = parse_manifest(manifest_bytes, manifest_uri, deployment["allowed_categories"],
                          max_images_per_subject=settings.watchlist.max_images_per_subject,
                          window_start=deployment["window_start"],
                          children_allowed=children.allowed if children else True,
                          child_rationale_required=children.rationale_required if children else True)
    warnings = manifest_warnings(rows)
    results = enrol_entries(rows, store, engine, settings, sources)
    identity = engine.identity
    embedder = identity["embedder"]
    accepted = [r for r in results if r.status == "accepted"]
    threshold, threshold_source = choose_threshold(conn, deployment, embedder, len(accepted), settings)
    evidence = calibration.evidence(conn, embedder, threshold, len(accepted), settings.match.target_fpir)
    reliable_px, reliable_source = gate.reliable_at_build(conn, settings, embedder["weights_sha256"],
                                                          gate.deployment_factor(conn, settings, deployment))

    version_id = uuid.uuid4()
    copies = copies_prefix(version_id)
    snapshot_obj, number = None, 0
    try:
        with acting(conn, actor):
            deployments.get(conn, deployment["id"], lock=True)  # serialises version numbering
            if build_key and queries.version_by_build_key(conn, deployment["id"], build_key):
                raise Refused(f"a concurrent build with key {build_key} finished first")
            number = queries.next_version_number(conn, deployment["id"])
            for i, result in enumerate(accepted):
                assert result.image_sha256 is not None and result.image_bytes is not None  # accepted: read whole
                key = f"{copies}{i:05d}-{result.image_sha256[:12]}{_image_extension(result.row.image_uri)}"
                result.copy_uri = store.put_bytes(settings.s3.bucket_images, key, result.image_bytes).uri
            queries.insert_version(conn, NewVersion(
                id=version_id, deployment_id=deployment["id"], version=number, build_key=build_key,
                built_by=actor.name, manifest_uri=manifest_uri, manifest_sha256=manifest_sha256,
                detector=identity["detector"], embedder=embedder, threshold=threshold,
                threshold_source=threshold_source, entries_total=len(results), entries_accepted=len(accepted),
                entries_rejected=len(results) - len(accepted), evidence=evidence,
                reliable_face_px=reliable_px, reliable_face_source=reliable_source))
            entry_ids = queries.insert_entries(conn, version_id, [r.new_entry() for r in results])
            ensure_hnsw_index(conn, embedder["embedding_dim"])
            queries.insert_embeddings(conn, version_id, embedder["embedding_dim"], [
                (entry_ids[(r.row.subject_ref, r.row.image_index)], r.embedding) for r in accepted
                if r.embedding is not None])
            snapshot = {
                "deployment_id": str(deployment["id"]),
                "version_id": str(version_id),
                "version": number,
                "built_by": actor.name,
                "built_at": datetime.now(UTC).isoformat(),
                "manifest_uri": manifest_uri,
                "manifest_sha256": manifest_sha256,
                "model": identity,
                "threshold": threshold,
                "threshold_source": threshold_source,
                "evidence": evidence.to_json(),
                "reliable_face_px": reliable_px,
                "reliable_face_source": reliable_source,
                "counts": entry_counts(results),
                "warnings": warnings,
                "entries": [r.snapshot() for r in results],
            }
            snapshot_obj = store.put_json(
                settings.s3.bucket_watchlists, f"{deployment['id']}/v{number:04d}/snapshot.json", snapshot
            )
            version = queries.set_snapshot(conn, version_id, snapshot_obj.uri, snapshot_obj.sha256,
                                           snapshot_obj.version_id)
            audit.append(conn, actor=actor.name, role=actor.role, action="watchlist.build",
                         object_type="watchlist_version", object_id=str(version_id), details={
                             "deployment_id": str(deployment["id"]), "version": number,
                             "manifest_sha256": version["manifest_sha256"], "snapshot_sha256": snapshot_obj.sha256,
                             "model": identity, "accepted": len(accepted), "rejected": len(results) - len(accepted),
                             "threshold": threshold, "threshold_source": threshold_source,
                             "evidence_resolves": evidence.resolves, "evidence": evidence.line(),
                             "reliable_face_px": reliable_px, "reliable_face_source": reliable_source,
                             "warnings": warnings,
                         })
    except BaseException:
        store.delete_prefix(settings.s3.bucket_images, copies)
        if snapshot_obj is not None:
            store.delete_prefix(settings.s3.bucket_watchlists, f"{deployment['id']}/v{number:04d}/")
        raise
    return with_entries(conn, version)


def find_by_build_key(conn: psycopg.Connection, deployment_id: Any, build_key: str) -> dict[str, Any] | None:
    """The version this deployment already built with `build_key` (keys belong to one deployment)."""
    deployment = deployments.get(conn, deployment_id)
    existing = queries.version_by_build_key(conn, deployment["id"], build_key)
    return with_entries(conn, existing) if existing else None


def with_entries(conn: psycopg.Connection, version: dict[str, Any]) -> dict[str, Any]:
    """The version with its entries in manifest order and the manifest's warnings (manifest_warnings, from the
    entries as recorded), as a build reports them (and a retried build again)."""
    rows = queries.entries_as_built(conn, version["id"])
    warnings = manifest_warnings([ManifestRow(
        r["subject_ref"], r["category"], r["rationale"], r["source_uri"], r["provenance"], r["capture_date"],
        r["image_index"], legal_basis=r["legal_basis"], date_of_birth=r["date_of_birth"], age_band=r["age_band"],
        under_18_rationale=r["under_18_rationale"]) for r in rows])
    for row in rows:
        for column in ("capture_date", "date_of_birth"):
            row[column] = row[column].isoformat() if row[column] else None
    return {**version, "entries": rows, "warnings": warnings}


def entry_counts(results: list[EntryResult]) -> dict[str, int]:
    """Images and subjects, in all and accepted (a subject counts as accepted with at least one image)."""
    return {"images": len(results), "images_accepted": sum(r.status == "accepted" for r in results),
            "subjects": len({r.row.subject_ref for r in results}),
            "subjects_accepted": len({r.row.subject_ref for r in results if r.status == "accepted"})}

