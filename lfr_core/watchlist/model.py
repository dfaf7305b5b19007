"""A watchlist version's states, what became of each copied image in a purge, and the frozen records its queries
hand over (lfr_core/watchlist/queries.py). The states are StrEnums: a member is its string
(`VersionState.ACTIVE == "active"`), so rows that carry the plain name compare equal to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np

from lfr_core.errors import Incomplete
from lfr_core.evaluation.impostor import Evidence


class VersionState(StrEnum):
    """draft -> approved -> active -> expired -> purging -> purged; the database's `state_transitions` says which
    moves exist, who may make them and when."""

    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    EXPIRED = "expired"
    PURGING = "purging"
    PURGED = "purged"


class ImagePurge(StrEnum):
    """What a purge did with an entry's copied image."""

    DELETING = "deleting"  # marked before the delete call, so an interrupted purge knows it asked
    DELETED = "deleted"  # confirmed gone by a listing after the call
    MISSING = "missing"  # gone before the purge asked
    KEPT = "kept"  # an alert awaiting a decision needs it; released once decided


@dataclass(frozen=True)
class NewVersion:
    """A draft version's row as a build writes it (the snapshot is added once stored)."""

    id: uuid.UUID
    deployment_id: uuid.UUID
    version: int
    build_key: str | None
    built_by: str
    manifest_uri: str
    manifest_sha256: str
    detector: dict[str, Any]
    embedder: dict[str, Any]
    threshold: float
    threshold_source: str
    entries_total: int
    entries_accepted: int
    entries_rejected: int
    evidence: Evidence
    reliable_face_px: int  # the live gate's size from the model's size curve (lfr_core/watchlist/gate.py)
    reliable_face_source: dict[str, Any]


@dataclass(frozen=True)
class NewEntry:
    """One manifest image as the build judged it."""

    subject_ref: str
    image_index: int
    category: str
    rationale: str
    provenance: str
    capture_date: date | None
    source_uri: str
    image_sha256: str | None
    image_uri: str | None
    status: str
    reason: str | None
    quality: dict[str, float] | None
    # The APP's columns (issue 27 item 5); the database refuses an under-18 entry without its rationale.
    legal_basis: str | None = None
    date_of_birth: date | None = None
    age_band: str | None = None
    under_18_rationale: str | None = None


@dataclass(frozen=True)
class Template:
    """One template of a version with its entry, as the in-memory matcher holds it."""

    entry_id: int
    subject_ref: str
    category: str
    image_uri: str | None
    embedding: np.ndarray


@dataclass(frozen=True)
class Candidate:
    """A template the vector index found near a probe."""

    entry_id: int
    subject_ref: str
    category: str
    score: float  # cosine similarity


@dataclass(frozen=True)
class Enrolled:
    subjects: int
    templates: int


@dataclass(frozen=True)
class ImageToPurge:
    id: int
    image_uri: str
    image_purge: str | None


@dataclass(frozen=True)
class SnapshotRef:
    """Where a version's kept snapshot is, with its deployment's public terms (a subject's history reads it)."""

    id: uuid.UUID
    version: int
    state: str
    snapshot_uri: str | None
    snapshot_sha256: str | None
    activated_at: datetime | None
    purged_at: datetime | None
    deployment_id: uuid.UUID
    place: str
    window_start: datetime
    window_end: datetime


class PurgeVerificationFailed(Incomplete):
    """Something survived a purge; the version stays unpurged and the purge must be retried."""


@dataclass(frozen=True)
class FaceRow:
    """An accepted entry as the authoriser's face view reads it: where its image is and the face's box."""

    entry_id: int
    subject_ref: str
    image_index: int
    category: str
    image_uri: str | None
    quality: dict[str, Any] | None


@dataclass(frozen=True)
class ProbeHit:
    """One template's similarity to one probe face (`probe` numbers the faces from 1)."""

    probe: int
    entry_id: int
    subject_ref: str
    image_index: int
    category: str
    score: float
