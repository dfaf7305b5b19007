"""Detector deployment: detect -> align -> live quality gate for a batch of frames (`@serve.batch`).

Returns, per frame, each face's box and score, and the aligned crop only for faces that passed the live
quality gate (the embedder's input); nothing is logged about any face.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from ray import serve

from ray_apps.options import BatchConfig

log = logging.getLogger("ray.serve")


@serve.deployment(name="Detector")
class Detector:
    def __init__(self) -> None:
        from lfr_core.config import get_settings
        from lfr_core.vision.engine import build_engine

        self.settings = get_settings()
        self.engine = build_engine(self.settings)
        self.identity = self.engine.detector.identity.as_dict()
        log.info("detector ready: %s", self.identity["name"])

    def reconfigure(self, config: dict[str, Any]) -> None:
        batch = BatchConfig.model_validate(config or {})
        self.detect.set_max_batch_size(batch.max_batch_size)
        self.detect.set_batch_wait_timeout_s(batch.batch_wait_timeout_s)

    def batch_config(self) -> dict[str, Any]:
        return {"max_batch_size": self.detect._get_max_batch_size(),
                "batch_wait_timeout_s": self.detect._get_batch_wait_timeout_s()}

    def model_identity(self) -> dict[str, Any]:
        return self.identity

    def _analyse(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        engine = self.engine
        results = []
        for image, dets in zip(images, engine.detector.detect_batch(images)):
            faces = []
            for d in dets:
                crop = engine.aligner.align(image, d)
                passed = engine.quality.assess(image, d, crop, purpose="live").passed
                faces.append({"box": d.box.astype(np.float32), "score": float(d.score),
                              "crop": crop if passed else None})
            results.append({"faces": faces, "batch_size": len(images)})
        return results

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def detect(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        return self._analyse(images)

    async def __call__(self, image: np.ndarray) -> dict[str, Any]:
        return await self.detect(image)
