"""SCRFD 0.5 GF detector with 5 landmarks (InsightFace, non-commercial research only), run by onnxruntime or
by torch (the same graph as torch operators, `torch_graph`).

The exported graph has a fixed 1x3x640x640 input and raw per-stride outputs, so this module letterboxes
the image and decodes anchors itself: strides 8/16/32, 2 anchors per location, distance-to-box and
landmark offsets in units of the stride, then NMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_core.vision.device import is_gpu
from lfr_core.vision.onnx_fp32 import GraphRuntime, Precision, check_agreement, runtime_label, session
from lfr_core.vision.types import Detection, ModelIdentity, file_sha256

WEIGHTS_FILE = "scrfd_500m_bnkps.onnx"
STRIDES = (8, 16, 32)
NUM_ANCHORS = 2
LICENCE = "InsightFace non-commercial research only"


def default_weights(shared_dir: Path) -> Path:
    return Path(shared_dir) / "models" / WEIGHTS_FILE


class SCRFDDetector:
    def __init__(self, weights: Path, *, input_size: int = 640, score: float = 0.5, nms_iou: float = 0.4,
                 threads: int = 1, device: str = "cpu", precision: Precision = "fp32",
                 runtime: GraphRuntime = "onnxruntime") -> None:
        if runtime not in ("onnxruntime", "torch"):
            raise ValueError(f"unknown runtime {runtime!r} for scrfd: onnxruntime or torch")
        self._sess = session(Path(weights).read_bytes() if precision == "fp16" else weights, threads, device=device,
                             precision=precision, backend="scrfd", runtime=runtime)
        inp = self._sess.get_inputs()[0]
        if is_gpu(device) or precision != "fp32" or runtime != "onnxruntime":
            shape = [d if isinstance(d, int) else input_size for d in inp.shape]
            probe = np.random.default_rng(0).uniform(-1, 1, [1, *shape[1:]]).astype(np.float32)
            check_agreement(session(weights, threads), self._sess, {inp.name: probe}, f"scrfd on {device} {precision}")
        self._input_name = inp.name
        fixed = [d for d in inp.shape[2:] if isinstance(d, int)]
        self.input_size = fixed[0] if fixed else input_size  # the shipped export is fixed at 640
        self.score = score
        self.nms_iou = nms_iou
        self._out_names = [o.name for o in self._sess.get_outputs()]
        self._centers: dict[int, np.ndarray] = {}
        version = "500m-bnkps" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
        self.identity = ModelIdentity("scrfd", version, file_sha256(weights), None, LICENCE, "detector",
                                      runtime_label(self._sess, precision))

    def _anchor_centers(self, stride: int) -> np.ndarray:
        if stride not in self._centers:
            n = self.input_size // stride
            ys, xs = np.mgrid[:n, :n]
            centers = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
            self._centers[stride] = np.repeat(centers, NUM_ANCHORS, axis=0)
        return self._centers[stride]

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        scale = self.input_size / max(h, w)
        resized = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))))
        canvas = np.zeros((self.input_size, self.input_size, 3), dtype=np.uint8)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 128, (self.input_size, self.input_size), (127.5, 127.5, 127.5),
                                     swapRB=True)
        outs = dict(zip(self._out_names, self._sess.run(None, {self._input_name: blob})))
        boxes, kpss, scores = [], [], []
        for stride in STRIDES:
            s = outs[f"score_{stride}"].reshape(-1)
            keep = np.where(s >= self.score)[0]
            if keep.size == 0:
                continue
            c = self._anchor_centers(stride)[keep]
            d = outs[f"bbox_{stride}"].reshape(-1, 4)[keep] * stride
            k = outs[f"kps_{stride}"].reshape(-1, 10)[keep] * stride
            boxes.append(np.concatenate([c - d[:, :2], c + d[:, 2:]], axis=1))
            kpss.append(k.reshape(-1, 5, 2) + c[:, None, :])
            scores.append(s[keep])
        if not boxes:
            return []
        b, k, sc = np.concatenate(boxes), np.concatenate(kpss), np.concatenate(scores)
        xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
        idx = np.array(cv2.dnn.NMSBoxes(xywh.tolist(), sc.tolist(), self.score, self.nms_iou)).reshape(-1)
        out = [Detection(box=(b[i] / scale).astype(np.float32), landmarks=(k[i] / scale).astype(np.float32),
                         score=float(sc[i])) for i in idx]
        out.sort(key=lambda d: -d.score)
        return out

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [self.detect(im) for im in images]  # the export has a fixed batch of 1
