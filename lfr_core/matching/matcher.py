"""Exact in-memory matching against one active watchlist version (numpy, one matrix product per batch).

A probe is scored against each subject's centroid (`lfr_core.matching.fusion`: several custody images of one
person make one subject); the match names the subject's template nearest the probe, whose image the officer
compares. The matcher carries the embedder identity of the version it was loaded from and refuses probes
from any other model: embeddings of different models are not comparable. It reads no database: its caller hands
it the version and its templates (lfr_core/watchlist/lifecycle.py load_matcher reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lfr_core.errors import Refused
from lfr_core.matching.fusion import centroids


class ModelMismatch(Refused):
    """Probe embeddings come from a different model than the watchlist's templates."""


@dataclass(frozen=True)
class Match:
    index: int
    entry_id: int
    subject_ref: str
    category: str
    image_uri: str | None
    score: float


class ExactMatcher:
    def __init__(self, version: dict[str, Any], templates: np.ndarray, entries: list[dict[str, Any]]) -> None:
        self.version_id = version["id"]
        self.deployment_id = version["deployment_id"]
        self.threshold = float(version["threshold"])
        self.embedder_sha256 = version["embedder_sha256"]
        self.dim = int(version["embedding_dim"])
        self.templates = np.ascontiguousarray(templates, dtype=np.float32).reshape(-1, self.dim)
        self.entries = entries  # one per template
        subjects = {ref: k for k, ref in enumerate(dict.fromkeys(e["subject_ref"] for e in entries))}
        owner = np.array([subjects[e["subject_ref"]] for e in entries], dtype=np.int64)
        self._members = [np.flatnonzero(owner == k) for k in range(len(subjects))]
        self.centroids = centroids(self.templates, owner, len(subjects))

    def __len__(self) -> int:
        return len(self.entries)

    def check_model(self, embedder_sha256: str) -> None:
        if embedder_sha256 != self.embedder_sha256:
            raise ModelMismatch(
                f"probe model {embedder_sha256[:12]} differs from the watchlist's {self.embedder_sha256[:12]}; "
                "embeddings of different models are never compared"
            )

    def scores(self, probes: np.ndarray) -> np.ndarray:
        """(probes, subjects): each probe's score against each subject's centroid."""
        probes = np.asarray(probes, dtype=np.float32).reshape(-1, self.dim)
        return probes @ self.centroids.T

    def top1(self, probes: np.ndarray) -> list[Match | None]:
        """Best subject per probe, with the subject's template nearest the probe (None when the list is empty)."""
        if not len(self):
            return [None] * len(np.atleast_2d(probes))
        probes = np.asarray(probes, dtype=np.float32).reshape(-1, self.dim)
        subject_scores = self.scores(probes)
        matches: list[Match | None] = []
        for row, subject in enumerate(subject_scores.argmax(axis=1)):
            members = self._members[subject]
            nearest = int(members[np.argmax(self.templates[members] @ probes[row])])
            matches.append(self._match(nearest, float(subject_scores[row, subject])))
        return matches

    def _match(self, index: int, score: float) -> Match:
        e = self.entries[index]
        return Match(index, e["entry_id"], e["subject_ref"], e["category"], e["image_uri"], score)
