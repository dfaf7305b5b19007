"""YOLO face detector through ultralytics, for face weights an operator supplies (e.g. a yolov8n-face .pt).

No face-trained YOLO weights can be downloaded here, so without a weights file the model is built from
its architecture yaml (random weights): that exercises loading, batching, device placement and the
mapping to `Detection`, and nothing else; its detections are meaningless and its identity says so.
Ultralytics is put in offline mode and only ever given an existing file or a bundled yaml, so it never
attempts a download. Pose models with 5 keypoints (the yolov8-face layout: eyes, nose, mouth corners in
image-left-first order, as YuNet) give real landmarks; plain box models get landmarks estimated from
the box (`Detection.landmarks_estimated`), which makes alignment approximate.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lfr_core.vision.aligner import landmarks_from_box
from lfr_core.vision.device import require_device
from lfr_core.vision.errors import ModelError
from lfr_core.vision.types import Detection, ModelIdentity, file_sha256

if TYPE_CHECKING:  # imported with ultralytics, when a detector is built
    import torch

os.environ.setdefault("YOLO_OFFLINE", "1")
LICENCE = "AGPL-3.0 (ultralytics code); weights: see their source"


class YOLODetector:
    def __init__(self, weights: Path | None, *, arch: str = "yolov8n.yaml", device: str = "cpu",
                 input_size: int = 640, score: float = 0.6, nms_iou: float = 0.3) -> None:
        import PIL.Image

        pil_open = PIL.Image.open
        from ultralytics import YOLO

        # ultralytics swaps in an Image.open that pip-installs a HEIF plugin on unknown files; keep Pillow's.
        PIL.Image.open = pil_open

        if weights is None:
            if not arch.endswith((".yaml", ".yml")):
                raise ModelError(f"YOLO without a weights file needs an architecture yaml, got {arch!r}")
            self._model = YOLO(arch)  # bundled architecture file: random weights, no download
            identity = ModelIdentity("yolo", f"{Path(arch).stem}-random-init", "random-init", None, LICENCE,
                                     "detector")
        else:
            self._model = YOLO(str(weights))
            identity = ModelIdentity("yolo", Path(weights).stem, file_sha256(weights), None, LICENCE, "detector")
        import torch

        self.identity = replace(identity, runtime=f"torch-{torch.__version__}/{device}/fp32")
        self.device = device
        self.input_size = input_size
        self.score = score
        self.nms_iou = nms_iou
        require_device(device, "yolo")
        self._model.to(device)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        if len(images) == 0:
            return []
        from ultralytics.engine.results import Results

        results = self._model.predict(list(images), imgsz=self.input_size, conf=self.score, iou=self.nms_iou,
                                      device=self.device, verbose=False)
        out: list[list[Detection]] = []
        for res in results:
            if not isinstance(res, Results):  # predict() gives tensors only when asked for embeddings (`embed=`)
                raise ModelError(f"YOLO predicted a {type(res).__name__}, not detection results")
            boxes = _numpy(res.boxes.xyxy).astype(np.float32) if res.boxes is not None else np.zeros((0, 4))
            scores = _numpy(res.boxes.conf) if res.boxes is not None else np.zeros(0)
            kps = None
            if res.keypoints is not None and res.keypoints.xy.shape[1] == 5:
                kps = _numpy(res.keypoints.xy).astype(np.float32)
            dets = []
            for i in range(len(boxes)):
                if kps is not None:
                    dets.append(Detection(box=boxes[i], landmarks=kps[i], score=float(scores[i])))
                else:
                    dets.append(Detection(box=boxes[i], landmarks=landmarks_from_box(boxes[i]), score=float(scores[i]),
                                          landmarks_estimated=True))
            dets.sort(key=lambda d: -d.score)
            out.append(dets)
        return out


def _numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    """Boxes, scores or keypoints of a prediction: tensors on the model's device (NumPy arrays once a result
    has been moved with `.numpy()`, which this module does not do)."""
    return values if isinstance(values, np.ndarray) else values.detach().cpu().numpy()
