"""The four roles of the face engine. Backends implement these; the engine only knows these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from lfr_core.vision.types import Detection, ModelIdentity, QualityResult

Purpose = Literal["enrol", "live"]


@runtime_checkable
class Detector(Protocol):
    identity: ModelIdentity

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Faces per BGR uint8 image, boxes and landmarks in that image's pixels, best score first."""
        ...


@runtime_checkable
class Aligner(Protocol):
    def align(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """112x112x3 uint8 BGR crop aligned on the detection's landmarks."""
        ...


@runtime_checkable
class QualityGate(Protocol):
    def detection_reasons(self, detection: Detection, *, purpose: Purpose) -> list[str]:
        """Why the detection alone fails the gate (size, detector score); empty when it passes. The live path
        aligns only faces that pass (lfr_core/live/pipeline.py detect_faces)."""
        ...

    def assess(
        self, image: np.ndarray, detection: Detection, crop: np.ndarray, *, purpose: Purpose
    ) -> QualityResult: ...


@runtime_checkable
class Embedder(Protocol):
    identity: ModelIdentity

    def embed_batch(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32, each row L2-normalised."""
        ...
