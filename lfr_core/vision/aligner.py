"""Similarity-transform alignment of a face to the ArcFace 112x112 template."""

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


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity transform taking points `src` onto `dst` (Umeyama 1991)."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(cov)
    d = np.array([1.0, -1.0 if np.linalg.det(cov) < 0 else 1.0])
    rotation = u @ np.diag(d) @ vt
    variance = (src_c ** 2).sum() / len(src)
    scale = (singular * d).sum() / variance if variance > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


class SFaceAligner:
    """The alignment SFace was trained with: OpenCV's FaceRecognizerSF.alignCrop (least-squares similarity to
    the template, bilinear, black border), in numpy so no second copy of the network is loaded for it.
    Embeddings of its crops and of alignCrop's agree to cosine > 0.9999 (tested)."""

    def align(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        matrix = similarity_matrix(np.asarray(detection.landmarks).reshape(5, 2), ARCFACE_TEMPLATE)
        return cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR)
