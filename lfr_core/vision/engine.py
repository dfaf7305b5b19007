"""FaceEngine: detect -> align -> quality gate -> embed, batched over images.

Tight face crops (the ORL, johns and celeb5 sets; cropped custody photos) leave the detector no
background and often yield no face at all; images up to `vision.pad_retry_max_side` with no face are
padded by `vision.pad_ratio` per side (edge replication) and detected again. Detections are reported in
source-image pixels; alignment uses the padded image, so a face cut by the frame still aligns.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from lfr_core.config import Settings, get_settings
from lfr_core.vision.aligner import SFaceAligner, SimilarityAligner
from lfr_core.vision.device import is_gpu
from lfr_core.vision.errors import ModelError
from lfr_core.vision.protocols import Aligner, Detector, Embedder, Purpose, QualityGate
from lfr_core.vision.quality import BasicQualityGate
from lfr_core.vision.registry import build_detector, build_embedder, detector_scores
from lfr_core.vision.types import Detection, Face, QualityResult


def _shift(d: Detection, dx: float, dy: float) -> Detection:
    off = np.array([dx, dy], dtype=np.float32)
    return Detection(box=d.box - np.tile(off, 2), landmarks=d.landmarks - off, score=d.score,
                     landmarks_estimated=d.landmarks_estimated)


def largest_face(faces: Sequence[Face]) -> Face | None:
    """The face with the largest box area (the subject of a portrait or custody photo)."""
    if not faces:
        return None
    return max(faces, key=lambda f: float((f.detection.box[2] - f.detection.box[0]) * (f.detection.box[3] - f.detection.box[1])))


class FaceEngine:
    def __init__(self, detector: Detector, aligner: Aligner, quality: QualityGate, embedder: Embedder | None, *,
                 pad_retry_max_side: int = 400, pad_ratio: float = 0.3, align_device: str | None = None) -> None:
        self.detector = detector
        # Set on a GPU engine with SFace's alignment: a batch's faces are warped in one call there (batch_align).
        self.align_device = align_device
        self.aligner = aligner
        self.quality = quality
        self.embedder = embedder
        self.pad_retry_max_side = pad_retry_max_side
        self.pad_ratio = pad_ratio

    @property
    def identity(self) -> dict:
        return {"detector": self.detector.identity.as_dict(),
                "embedder": self.embedder.identity.as_dict() if self.embedder else None}

    def _detect(self, images: Sequence[np.ndarray]) -> tuple[list[list[Detection]], list[np.ndarray], list[tuple[int, int]]]:
        """Detections in working-image coordinates, the working images, and each one's offset from the source."""
        dets = self.detector.detect_batch(images)
        work = list(images)
        offsets = [(0, 0)] * len(images)
        retry = [i for i, d in enumerate(dets) if not d and max(images[i].shape[:2]) <= self.pad_retry_max_side]
        if retry and self.pad_ratio > 0:
            padded = []
            for i in retry:
                h, w = images[i].shape[:2]
                py, px = int(round(h * self.pad_ratio)), int(round(w * self.pad_ratio))
                padded.append(cv2.copyMakeBorder(images[i], py, py, px, px, cv2.BORDER_REPLICATE))
                offsets[i] = (px, py)
            for i, pim, d in zip(retry, padded, self.detector.detect_batch(padded)):
                dets[i], work[i] = d, pim
        return dets, work, offsets

    def analyse_batch(self, images: Sequence[np.ndarray], *, purpose: Purpose) -> list[list[Face]]:
        if purpose not in ("enrol", "live"):
            raise ValueError(f"purpose must be 'enrol' or 'live', got {purpose!r}")
        if self.embedder is None:
            raise ModelError("this engine was built without an embedder (build_engine(embed=False))")
        for im in images:
            if im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
                raise ValueError(f"expected HxWx3 uint8 BGR images, got {im.shape} {im.dtype}")
        dets, work, offsets = self._detect(images)
        faces: list[list[Face]] = []
        to_embed: list[np.ndarray] = []
        slots: list[Face] = []
        for im, ds, (dx, dy) in zip(work, dets, offsets):
            row: list[Face] = []
            for d in ds:
                crop = self.aligner.align(im, d)
                q: QualityResult = self.quality.assess(im, d, crop, purpose=purpose)
                face = Face(detection=_shift(d, dx, dy) if (dx or dy) else d, crop=crop, quality=q, embedding=None)
                if q.passed:
                    to_embed.append(crop)
                    slots.append(face)
                row.append(face)
            faces.append(row)
        if to_embed:
            emb = self.embedder.embed_batch(to_embed)
            for face, e in zip(slots, emb):
                face.embedding = e
        return faces


def build_engine(settings: Settings | None = None, *, embed: bool = True) -> FaceEngine:
    """Engine from settings via the registry. Sets OpenCV's (process-wide) thread count to vision.threads.
    `embed=False`: detection, alignment and quality only (the Serve detector replicas), no embedder loaded."""
    s = settings or get_settings()
    cv2.setNumThreads(s.vision.threads)
    embedder = build_embedder(s) if embed else None
    detector = build_detector(s)
    aligner: Aligner = SFaceAligner() if s.vision.embedder == "sface" else SimilarityAligner()
    gate = BasicQualityGate(s.quality, min_detector_score=detector_scores(s)[1])
    align_device = s.vision.device if is_gpu(s.vision.device) and isinstance(aligner, SFaceAligner) else None
    return FaceEngine(detector, aligner, gate, embedder, pad_retry_max_side=s.vision.pad_retry_max_side,
                      pad_ratio=s.vision.pad_ratio, align_device=align_device)
