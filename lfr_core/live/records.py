"""Typed records of the live path, also what crosses between Ray replicas (pickled dataclasses)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np

from lfr_core.alerts.model import FaceBands
from lfr_core.matching.matcher import Match
from lfr_core.matching.tracker import AlertDecision, Reuse


@dataclass(frozen=True)
class DetectedFace:
    """A face the detector found: its box and score and, only when it passed the live quality gate, either
    the aligned 112x112 crop (the embedder's input) or, from a fused detector (`vision.fused_detector`), the
    embedding itself, made on the detector's device with `crop` None. A face the gate refused has neither."""

    box: np.ndarray  # float32 (x1, y1, x2, y2)
    score: float
    crop: np.ndarray | None
    embedding: np.ndarray | None = None  # float32 (dim,), L2-normalised; only from a fused detector


@dataclass(frozen=True)
class DetectedFrame:
    faces: list[DetectedFace]
    batch_size: int = 1  # frames in the detector's batch (a metric)
    # The weights that made the faces' embeddings (a fused detector); None when the faces carry crops only.
    # The frame pipeline compares it with the deployment's list before using them (never two models' scores).
    embedder_sha256: str | None = None


@dataclass(frozen=True)
class RefusedFrame:
    """The bytes are not a usable image (not decodable, too many pixels, ...): the reason and the words."""

    reason: str
    message: str


@dataclass(frozen=True)
class Embedded:
    embeddings: np.ndarray  # (n, dim) float32, L2-normalised
    batch_size: int = 1


@dataclass
class FaceRecord:
    """One face of one frame, from detection to decision. Nothing in it is ever stored unless its track
    raises an alert (then only the probe crop of the frame, cut around `box`)."""

    box: np.ndarray
    score: float
    crop: np.ndarray | None
    reuse: Reuse | None = None  # continues a settled track: not embedded again
    embedding: np.ndarray | None = None  # the fused detector's (before matching), the embedder's, or the track's
    top_score: float | None = None  # best similarity to any template (also below the threshold)
    match: Match | None = None  # the above-threshold match of a fresh embedding
    decision: AlertDecision | None = None

    @property
    def usable(self) -> bool:
        """It passed the live gates: it has a crop to embed, or already an embedding (a fused detector's)."""
        return self.crop is not None or self.embedding is not None


@dataclass(frozen=True)
class RaisedAlert:
    id: uuid.UUID
    subject_ref: str
    score: float
    track_id: str


@dataclass
class FrameOutcome:
    faces: list[FaceRecord]
    alerts: list[RaisedAlert] = field(default_factory=list)
    bands: FaceBands = field(default_factory=FaceBands)  # the faces by whether they could have been recognised (counted, never stored)
    reliable_face_px: int | None = None  # the size the bands were counted against (the deployment's version's)
    detect_s: float = 0.0
    embed_s: float = 0.0
    detect_batch: int = 1
    embed_batches: list[int] = field(default_factory=list)

    @property
    def embedded(self) -> int:
        return sum(1 for f in self.faces if f.embedding is not None and f.reuse is None)

    @property
    def reused(self) -> int:
        return sum(1 for f in self.faces if f.reuse is not None)
