"""Watchlist states: draft -> approved -> active -> expired -> purging -> purged, each change audited.

Approval seals a version: an authoriser who did not build it approves a hash of the criteria (the
deployment's terms, the manifest, the models, the threshold and every entry), and activation is only
possible inside the deployment window.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from lfr_core.audit import log as audit
from lfr_core.audit.log import canonical_json, sha256_hex
from lfr_core.db.rows import get_by_id
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation.impostor import Evidence
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.matching.matcher import ExactMatcher
from lfr_core.watchlist import queries


def get_version(conn: psycopg.Connection, version_id: str | uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    return get_by_id(conn, "watchlist_versions", version_id, lock=lock)


def list_versions(conn: psycopg.Connection, deployment_id: str | uuid.UUID | None = None) -> list[dict[str, Any]]:
    if deployment_id is None:
        return queries.all_versions(conn)
    return queries.versions_of(conn, deployment_id)


def entries(conn: psycopg.Connection, version_id: uuid.UUID) -> list[dict[str, Any]]:
    return queries.entries(conn, version_id)


def load_matcher(conn: psycopg.Connection, version_id: uuid.UUID | str) -> ExactMatcher:
    """A version's templates in memory, for exact matching (lfr_core/matching/matcher.py)."""
    version = queries.find_version(conn, version_id)
    if version is None:
        raise LookupError(f"no watchlist version {version_id}")
    rows = queries.templates(conn, version["id"])
    templates = (np.stack([r.embedding for r in rows]) if rows
                 else np.zeros((0, version["embedding_dim"]), dtype=np.float32))
    entries = [{"entry_id": r.entry_id, "subject_ref": r.subject_ref, "category": r.category,
                "image_uri": r.image_uri} for r in rows]
    return ExactMatcher(version, templates, entries)


def criteria_hash(deployment: dict[str, Any], version: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """What an authoriser approves: the deployment's terms, the inputs and models, every entry and the live gate."""
    criteria = {
        "deployment": {k: deployment[k] for k in ("id", "place", "purpose", "legal_basis", "intelligence_ref",
                                                   "window_start", "window_end", "authorising_officer",
                                                   "allowed_categories")},
        "version": {k: version[k] for k in ("id", "version", "manifest_sha256", "snapshot_sha256", "detector",
                                             "embedder", "threshold")},
        "entries": [{k: r[k] for k in ("subject_ref", "category", "rationale", "provenance", "image_sha256", "status")}
                    for r in rows],
        # The live gate as approved (issue 32 item 2): the reliable size with its evidence and the gate set, with an
        # authoriser's decision to run below it. A later change is the database's audited gate decision.
        "live_gate": {k: version.get(k) for k in ("reliable_face_px", "reliable_face_source", "gate_face_px",
                                                  "gate_decided_by", "gate_reason")},
    }
    return sha256_hex(canonical_json(criteria))


def evidence_line(version: dict[str, Any]) -> str:
    """What the recorded impostor evidence says of the list's false alerts at its size (lfr_core/evaluation/
    impostor.py), and an authoriser's decision to seal it when the evidence does not resolve it."""
    if not version.get("evidence"):
        return ("Expected false alerts per 10,000 faces: unknown (built before impostor evidence was recorded); "
                "an authoriser must record the decision to seal it")
    line = Evidence.from_json(version["evidence"]).line()
    if version.get("evidence_override_by"):
        line += (f"; sealed all the same by {version['evidence_override_by']}: "
                 f"{version['evidence_override_reason']}")
    elif not version["evidence"]["resolves"]:
        line += "; **approving needs a recorded reason to seal it all the same**"
    return line


def _describe(conn: psycopg.Connection, actor: Actor, details: dict[str, Any] | None = None) -> None:
    """What the next state change (a `queries.mark_*` inside the caller's `acting` transaction) is recorded
    with. Which moves exist, who may make them and when is the database's table `state_transitions`, checked
    by the version's trigger, which also writes the audit row (`watchlist.<to>`) with these details."""
    audit.describe_change(conn, actor=actor.name, role=actor.role, details=details or {})


def approve(conn: psycopg.Connection, version_id: str, actor: Actor, *,
            evidence_override: str | None = None) -> dict[str, Any]:
    """Seal a draft. The database refuses one whose recorded impostor evidence does not resolve its threshold at
    its size (lfr_core/evaluation/impostor.py) unless `evidence_override`, the approver's reason for sealing it
    all the same, is recorded with the approval (in their name, audited)."""
    actor.require("authoriser", to="approve a watchlist")
    if evidence_override is not None and not evidence_override.strip():
        raise InvalidInput("a decision to seal a list its evidence does not resolve needs a reason")
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        if actor.name == version["built_by"]:
            raise Refused(f"{actor.name} built version {version_id}; approval needs a different authoriser")
        if version["entries_accepted"] == 0:
            raise Refused(f"version {version_id} has no accepted entries; there is nothing to approve")
        deployment = deployments.get(conn, version["deployment_id"])
        digest = criteria_hash(deployment, version, entries(conn, version["id"]))
        _describe(conn, actor, None if evidence_override is None else {"evidence_override": evidence_override,
                                                                        "evidence": version["evidence"]})
        return queries.mark_approved(conn, version["id"], actor.name, digest, evidence_override)


def activate(conn: psycopg.Connection, version_id: str, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    """Make an approved version the deployment's live list; only inside the window."""
    actor.require("operator", "admin", "system", to="activate a watchlist")
    now = now or datetime.now(UTC)
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        deployment = deployments.get(conn, version["deployment_id"], lock=True)
        if not deployments.in_window(deployment, now):
            raise Refused(f"deployment window is {deployment['window_start']} to {deployment['window_end']}; "
                          f"activation at {now.isoformat()} is outside it")
        if version["state"] == "approved":
            current = deployment_active_version(conn, deployment["id"])
            if current is not None:
                _describe(conn, actor, {"reason": f"superseded by version {version['version']}"})
                queries.mark_expired(conn, current["id"])
        _describe(conn, actor, {"window_start": deployment["window_start"], "window_end": deployment["window_end"]})
        row = queries.mark_active(conn, version["id"])
        deployments.set_status(conn, deployment["id"], "live", actor, f"watchlist version {version['version']} active")
        return row


def expire(conn: psycopg.Connection, version_id: str, actor: Actor, *, reason: str = "window ended") -> dict[str, Any]:
    actor.require("operator", "admin", "system", to="expire a watchlist")
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        _describe(conn, actor, {"reason": reason})
        row = queries.mark_expired(conn, version["id"])
        # A cancelled deployment stays cancelled; a live one closes with its list.
        if version["state"] == "active" and deployments.get(conn, version["deployment_id"])["status"] == "live":
            deployments.set_status(conn, version["deployment_id"], "closed", actor, reason)
        return row


def deployment_active_version(conn: psycopg.Connection, deployment_id: uuid.UUID) -> dict[str, Any] | None:
    return queries.active_version(conn, deployment_id)


def _by_subject(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per subject: its shared fields, and its images' hashes, statuses and provenance in order."""
    subjects: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = subjects.setdefault(r["subject_ref"], {"category": r["category"], "rationale": r["rationale"],
                                                   "provenance": [], "image_sha256": [], "status": []})
        for f in ("provenance", "image_sha256", "status"):
            s[f].append(r[f])
    return subjects


def diff(conn: psycopg.Connection, old_id: str, new_id: str) -> dict[str, Any]:
    """Subjects added, removed and changed (category, rationale, images or acceptance) between two versions."""
    old, new = get_version(conn, old_id), get_version(conn, new_id)
    before = _by_subject(entries(conn, old["id"]))
    after = _by_subject(entries(conn, new["id"]))
    fields = ("category", "rationale", "provenance", "image_sha256", "status")
    changed = {}
    for ref in sorted(before.keys() & after.keys()):
        delta = {f: [before[ref][f], after[ref][f]] for f in fields if before[ref][f] != after[ref][f]}
        if delta:
            changed[ref] = delta
    return {
        "from": {"id": str(old["id"]), "version": old["version"]},
        "to": {"id": str(new["id"]), "version": new["version"]},
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
        "model_changed": old["embedder_sha256"] != new["embedder_sha256"],
    }
