"""Detector deployment: decode -> detect -> live quality gate -> align for a batch of frames (`@serve.batch`).

Takes the frame's encoded bytes (JPEG/PNG, a few tens of KB) rather than the decoded array (~0.7 MB at
640x360, which would go through the object store on every hop) and decodes here, off the ingress. Returns,
per frame, a `DetectedFrame` (each face's box and score, and the aligned crop only for faces that passed the
live quality gate: the embedder's input; a face failing the size/score checks is not even aligned), or a
`RefusedFrame` saying why the bytes are not a usable image. Live frames have their own, lower pixel limit
(`serve.max_live_pixels`). Nothing is logged about any face.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from ray import serve

from lfr_core.live.records import DetectedFrame, RefusedFrame
from lfr_core.live.wire import DETECTOR
from ray_apps.options import BATCH_DEFAULTS, BatchTunable

log = logging.getLogger("ray.serve")


@serve.deployment(name=DETECTOR)
class Detector(BatchTunable):
    batched_method = "detect"

    def __init__(self) -> None:
        # A GPU replica (LFR_VISION__DEVICE=cuda) that sees no GPU fails here, in build_engine, for every backend.
        from lfr_core.config import get_settings
        from lfr_core.vision.engine import build_engine

        self.settings = get_settings()
        # detection, alignment and the live gate only; OpenCV and onnxruntime on vision.threads (1): replicas
        # share the cores
        self.engine = build_engine(self.settings, embed=False)
        self.identity = self.engine.detector.identity.as_dict()
        log.info("detector ready: %s on %s", self.identity["name"], self.identity["runtime"])

    def model_identity(self) -> dict[str, Any]:
        return self.identity

    def _decode(self, frames: list[bytes]) -> list[np.ndarray | RefusedFrame]:
        """The batch's frames, decoded on the GPU where the replica has one (nvJPEG), else on the host; a frame
        the decoder refuses becomes its RefusedFrame alone, not the batch's failure."""
        from lfr_core.vision.device_decode import decode_frames, to_bgr_array
        from lfr_core.vision.errors import ImageError

        serve_settings = self.settings.serve
        decoded = decode_frames(frames, device=self.settings.vision.device, max_pixels=serve_settings.max_live_pixels,
                                max_bytes=min(self.settings.vision.max_image_bytes, serve_settings.max_body_bytes))
        return [RefusedFrame(d.reason, str(d)) if isinstance(d, ImageError) else to_bgr_array(d) for d in decoded]

    def _analyse(self, frames: list[bytes]) -> list[DetectedFrame | RefusedFrame]:
        from lfr_core.live.pipeline import detect_faces

        decoded = self._decode(frames)
        analysed = iter(detect_faces(self.engine, [d for d in decoded if isinstance(d, np.ndarray)]))
        return [DetectedFrame(next(analysed), len(frames)) if isinstance(d, np.ndarray) else d for d in decoded]

    @serve.batch(**BATCH_DEFAULTS)
    async def detect(self, frames: list[bytes]) -> list[DetectedFrame | RefusedFrame]:
        # Off the replica's event loop (user code runs on it: ray_apps/launch.py), which must stay free
        # for Serve's health checks and queue-length probes however long a batch takes.
        return await asyncio.to_thread(self._analyse, frames)

    async def __call__(self, frame: bytes) -> DetectedFrame | RefusedFrame:
        return await self.detect(frame)
