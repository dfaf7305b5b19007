"""Quality gate: explicit reasons for every rejected face.

Enrolment checks size, detector score, sharpness (variance of the Laplacian of the aligned crop),
brightness (mean grey level of the crop) and pose (nose offset along the eye line). Live matching only
drops faces that are too small or too uncertain, because a passer-by's pose and lighting are not
under anyone's control and the track-level vote (see matching) absorbs single bad frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from lfr_core.config import QualitySettings
from lfr_core.vision.protocols import Purpose
from lfr_core.vision.types import Detection, QualityResult


def yaw_ratio(landmarks: np.ndarray) -> float:
    """0 for a frontal face, 1 when the nose sits over one eye: |d_right - d_left| / (d_right + d_left)
    with distances measured along the eye line (so head roll does not count as yaw)."""
    lm = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    eye_r, eye_l, nose = lm[0], lm[1], lm[2]
    axis = eye_l - eye_r
    dist = float(np.linalg.norm(axis))
    if dist < 1e-6:
        return 1.0
    axis /= dist
    t = float(np.dot(nose - eye_r, axis))  # position of the nose along the eye line, 0..dist when frontal
    d_r, d_l = abs(t), abs(dist - t)
    if t < 0 or t > dist:
        return 1.0
    return abs(d_r - d_l) / max(d_r + d_l, 1e-6)


class BasicQualityGate:
    def __init__(self, settings: QualitySettings, *, min_detector_score: float = 0.7) -> None:
        """`min_detector_score`: the cut when the settings leave it unset (each detector has its own)."""
        self.s = settings
        self.min_score = settings.min_detector_score if settings.min_detector_score is not None else min_detector_score

    def detection_reasons(self, detection: Detection, *, purpose: Purpose) -> list[str]:
        """The checks that need only the detection (size, detector score): a face failing them need not
        even be aligned. For live matching these are all the checks."""
        s = self.s
        reasons: list[str] = []
        size = detection.size
        min_px = s.min_live_face_px if purpose == "live" else s.min_face_px
        if size < min_px:
            reasons.append(f"face too small: {size:.1f} px < {min_px} px")
        if detection.score < self.min_score:
            reasons.append(f"detector score too low: {detection.score:.2f} < {self.min_score:.2f}")
        return reasons

    def assess(self, image: np.ndarray, detection: Detection, crop: np.ndarray, *, purpose: Purpose) -> QualityResult:
        s = self.s
        reasons = self.detection_reasons(detection, purpose=purpose)
        metrics: dict[str, float] = {"face_px": round(detection.size, 1), "detector_score": round(float(detection.score), 4)}
        if purpose == "enrol":
            grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            sharp = float(cv2.Laplacian(grey, cv2.CV_64F).var())
            bright = float(grey.mean())
            yaw = yaw_ratio(detection.landmarks)
            metrics.update(sharpness=round(sharp, 2), brightness=round(bright, 2), yaw_ratio=round(yaw, 3))
            if sharp < s.min_sharpness:
                reasons.append(f"too blurred: sharpness {sharp:.1f} < {s.min_sharpness:.1f}")
            if bright < s.min_brightness:
                reasons.append(f"too dark: brightness {bright:.0f} < {s.min_brightness:.0f}")
            if bright > s.max_brightness:
                reasons.append(f"too bright: brightness {bright:.0f} > {s.max_brightness:.0f}")
            if yaw > s.max_yaw_ratio:
                reasons.append(f"face turned too far: yaw ratio {yaw:.2f} > {s.max_yaw_ratio:.2f}")
        return QualityResult(passed=not reasons, reasons=reasons, metrics=metrics)
