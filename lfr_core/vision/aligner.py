"""Similarity-transform alignment to the ArcFace 112x112 template, for embedders other than SFace."""

from __future__ import annotations

import cv2
import numpy as np

from lfr_core.vision.types import Detection

# InsightFace's ArcFace reference points for a 112x112 crop, in YuNet order (image-left eye first).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
CROP_SIZE = 112


class SimilarityAligner:
    """Least-squares similarity transform (rotation, uniform scale, shift) from landmarks to the template."""

    def align(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        src = np.asarray(detection.landmarks, dtype=np.float32).reshape(5, 2)
        matrix, _ = cv2.estimateAffinePartial2D(src, ARCFACE_TEMPLATE, method=cv2.LMEDS)
        if matrix is None:  # degenerate landmarks (all equal): fall back to a box crop
            x1, y1, x2, y2 = [float(v) for v in detection.box]
            s = CROP_SIZE / max(x2 - x1, y2 - y1, 1.0)
            matrix = np.array([[s, 0, -x1 * s], [0, s, -y1 * s]], dtype=np.float64)
        return cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def landmarks_from_box(box: np.ndarray) -> np.ndarray:
    """Approximate 5 landmarks from a box alone (template proportions), for detectors without keypoints."""
    x1, y1, x2, y2 = [float(v) for v in box]
    rel = ARCFACE_TEMPLATE / CROP_SIZE
    return np.stack([x1 + rel[:, 0] * (x2 - x1), y1 + rel[:, 1] * (y2 - y1)], axis=1).astype(np.float32)
