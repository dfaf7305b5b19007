"""Detector deployment: decode -> detect -> live quality gate -> align for a batch of frames (`@serve.batch`).

Takes the frame's encoded bytes (JPEG/PNG, a few tens of KB) rather than the decoded array (~0.7 MB at
640x360, which would go through the object store on every hop) and decodes here, off the ingress. Returns,
per frame, each face's box and score, and the aligned crop only for faces that passed the live quality
gate (the embedder's input; a face failing the size/score checks is not even aligned), or the reason the
bytes are not a usable image. Nothing is logged about any face.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from ray import serve

from ray_apps.options import BatchTunable

log = logging.getLogger("ray.serve")


@serve.deployment(name="Detector")
class Detector(BatchTunable):
    batched_method = "detect"

    def __init__(self) -> None:
        from lfr_core.config import get_settings
        from lfr_core.vision.engine import build_engine

        self.settings = get_settings()
        # detection, alignment and the live gate only; OpenCV and onnxruntime on vision.threads (1): replicas
        # share the cores
        self.engine = build_engine(self.settings, embed=False)
        self.identity = self.engine.detector.identity.as_dict()
        log.info("detector ready: %s", self.identity["name"])

    def model_identity(self) -> dict[str, Any]:
        return self.identity

    def _decode(self, data: bytes) -> np.ndarray | dict[str, str]:
        from lfr_core.vision.errors import ImageError
        from lfr_core.vision.images import decode_image

        vision = self.settings.vision
        try:
            return decode_image(data, max_pixels=vision.max_image_pixels,
                                max_bytes=min(vision.max_image_bytes, self.settings.serve.max_body_bytes))
        except ImageError as e:  # per frame: one bad upload must not fail the other frames of the batch
            return {"reason": e.reason, "message": str(e)}

    def _analyse(self, frames: list[bytes]) -> list[dict[str, Any]]:
        from lfr_core.matching.frame import live_faces

        decoded = [self._decode(f) for f in frames]
        images = [d for d in decoded if isinstance(d, np.ndarray)]
        analysed = iter(live_faces(self.engine, images))
        results = []
        for image in decoded:
            if not isinstance(image, np.ndarray):
                results.append({"error": image, "batch_size": len(frames)})
                continue
            faces = [{"box": f.box, "score": f.score, "crop": f.crop} for f in next(analysed)]
            results.append({"faces": faces, "shape": image.shape[:2], "batch_size": len(frames)})
        return results

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def detect(self, frames: list[bytes]) -> list[dict[str, Any]]:
        # Off the replica's event loop (user code runs on it: ray_apps/launch.py), which must stay free
        # for Serve's health checks and queue-length probes however long a batch takes.
        return await asyncio.to_thread(self._analyse, frames)

    async def __call__(self, frame: bytes) -> dict[str, Any]:
        return await self.detect(frame)
