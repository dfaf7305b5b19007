"""Detector deployment: decode -> detect -> live quality gate -> align for a batch of frames (`@serve.batch`).

Takes the frame's encoded bytes (JPEG/PNG, a few tens of KB) rather than the decoded array (~0.7 MB at
640x360, which would go through the object store on every hop) and decodes here, off the ingress. Returns,
per frame, a `DetectedFrame` (each face's box and score, and the aligned crop only for faces that passed the
live quality gate: the embedder's input; a face failing the size/score checks is not even aligned), or a
`RefusedFrame` saying why the bytes are not a usable image. Live frames have their own, lower pixel limit
(`serve.max_live_pixels`). Nothing is logged about any face.

Fused (`vision.fused_detector`, by default on a GPU running yunet + sface; issue 29 item 2): the replica runs
the whole device pipeline (lfr_core/vision/device_pipeline.py) on the frames as the device decoder left them,
and returns each gated face's embedding in place of its crop, with the sha of the weights that made it; only
boxes, scores and embeddings cross back to the host, and the embedder replicas are not called.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ray import serve

from lfr_core.live.records import DetectedFrame, RefusedFrame
from lfr_core.live.wire import DETECTOR
from ray_apps.options import BATCH_DEFAULTS, BatchTunable

if TYPE_CHECKING:
    import numpy as np
    import torch

    from lfr_core.vision.device_pipeline import DevicePipeline
    from lfr_core.vision.engine import FaceEngine

log = logging.getLogger("ray.serve")


@serve.deployment(name=DETECTOR)
class Detector(BatchTunable):
    batched_method = "detect"

    def __init__(self) -> None:
        # A GPU replica (LFR_VISION__DEVICE=cuda) that sees no GPU fails here, in build_engine or DevicePipeline
        # (require_device), for every backend.
        from lfr_core.config import get_settings
        from lfr_core.vision.engine import build_engine

        self.settings = get_settings()
        self.fused: DevicePipeline | None = None
        self.engine: FaceEngine | None = None
        self.embedder_sha256: str | None = None  # the fused embedder's weights, on every DetectedFrame
        if self.settings.vision.runs_fused():
            from lfr_core.vision.device_pipeline import DevicePipeline

            # A ModelError for another detector or embedder than yunet + sface: never a silent unfused replica.
            self.fused = DevicePipeline.from_settings(self.settings)
            embedder = self.fused.identity["embedder"]
            self.embedder_sha256 = embedder.weights_sha256
            # What made the embeddings as well as the boxes (ModelIdentity.runtime says torch on which device).
            self.identity = {**self.fused.identity["detector"].as_dict(), "embedder": embedder.as_dict()}
            log.info("detector ready, fused with %s: %s on %s", embedder.name, self.identity["name"], embedder.runtime)
        else:
            # detection, alignment and the live gate only; OpenCV and onnxruntime on vision.threads (1): replicas
            # share the cores
            self.engine = build_engine(self.settings, embed=False)
            self.identity = self.engine.detector.identity.as_dict()
            log.info("detector ready: %s on %s", self.identity["name"], self.identity["runtime"])

    def model_identity(self) -> dict[str, Any]:
        return self.identity

    def _decode(self, frames: list[bytes]) -> list[np.ndarray | torch.Tensor | RefusedFrame]:
        """The batch's frames, decoded on the GPU where the replica has one (nvJPEG: 3xHxW RGB tensors on the
        device), else on the host (BGR arrays); a frame the decoder refuses becomes its RefusedFrame alone, not
        the batch's failure."""
        from lfr_core.vision.device_decode import decode_frames
        from lfr_core.vision.errors import ImageError

        serve_settings = self.settings.serve
        decoded = decode_frames(frames, device=self.settings.vision.device, max_pixels=serve_settings.max_live_pixels,
                                max_bytes=min(self.settings.vision.max_image_bytes, serve_settings.max_body_bytes))
        return [RefusedFrame(d.reason, str(d)) if isinstance(d, ImageError) else d for d in decoded]

    def _analyse(self, frames: list[bytes]) -> list[DetectedFrame | RefusedFrame]:
        from lfr_core.live.pipeline import detect_faces, fused_faces
        from lfr_core.vision.device_decode import to_bgr_array

        decoded = self._decode(frames)
        images = [d for d in decoded if not isinstance(d, RefusedFrame)]
        if self.fused is not None:  # the frames as decoded: device tensors stay on the device
            analysed = iter(fused_faces(self.fused, images))
        else:
            assert self.engine is not None  # built when not fused
            analysed = iter(detect_faces(self.engine, [to_bgr_array(d) for d in images]))
        return [d if isinstance(d, RefusedFrame) else DetectedFrame(next(analysed), len(frames), self.embedder_sha256)
                for d in decoded]

    @serve.batch(**BATCH_DEFAULTS)
    async def detect(self, frames: list[bytes]) -> list[DetectedFrame | RefusedFrame]:
        # Off the replica's event loop (user code runs on it: ray_apps/launch.py), which must stay free
        # for Serve's health checks and queue-length probes however long a batch takes.
        return await asyncio.to_thread(self._analyse, frames)

    async def __call__(self, frame: bytes) -> DetectedFrame | RefusedFrame:
        return await self.detect(frame)
