"""Embedder deployment: aligned 112x112 crops -> L2-normalised embeddings, batched across frames.

Each request carries the crops of one frame (N, 112, 112, 3); a batch concatenates several frames' crops
into one forward pass and splits the result back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from ray import serve

from lfr_core.live.records import Embedded
from lfr_core.live.wire import EMBEDDER
from ray_apps.options import BATCH_DEFAULTS, BatchTunable

log = logging.getLogger("ray.serve")


@serve.deployment(name=EMBEDDER)
class Embedder(BatchTunable):
    batched_method = "embed"

    def __init__(self) -> None:
        import cv2

        from lfr_core.config import get_settings
        from lfr_core.vision.registry import build_embedder

        settings = get_settings()
        # A GPU replica (LFR_VISION__DEVICE=cuda) that sees no GPU fails here, in build_embedder.
        cv2.setNumThreads(settings.vision.threads)
        self.embedder = build_embedder(settings)
        self.identity = self.embedder.identity.as_dict()
        log.info("embedder ready: %s dim=%s on %s", self.identity["name"], self.identity["embedding_dim"],
                 self.identity["runtime"])

    def model_identity(self) -> dict[str, Any]:
        return self.identity

    @serve.batch(**BATCH_DEFAULTS)
    async def embed(self, frames: list[np.ndarray]) -> list[Embedded]:
        return await asyncio.to_thread(self._embed, frames)  # off the replica's event loop, as the detector

    def _embed(self, frames: list[np.ndarray]) -> list[Embedded]:
        sizes = [len(f) for f in frames]
        crops = [c for f in frames for c in f]
        if not crops:
            return [Embedded(np.zeros((0, self.identity["embedding_dim"]), np.float32), 0) for _ in frames]
        emb = self.embedder.embed_batch(crops)
        out, start = [], 0
        for n in sizes:
            out.append(Embedded(emb[start:start + n], len(frames)))
            start += n
        return out

    async def __call__(self, crops: np.ndarray) -> Embedded:
        return await self.embed(crops)
