"""open_clip image tower as an embedder, for weights an operator supplies (`pretrained=path`).

CLIP is not a face-identity model; it is here so that a face-trained open_clip checkpoint can be served
with the same contract. Without a weights file the model is built with random weights (no download),
which checks shapes, batching and normalisation only; the identity's version says "random-init".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from lfr_core.vision.device import require_device
from lfr_core.vision.errors import ModelError
from lfr_core.vision.types import ModelIdentity, file_sha256, l2_normalise

LICENCE = "MIT (open_clip code); weights: see their source"


class OpenCLIPEmbedder:
    def __init__(self, weights: Path | None, *, arch: str = "ViT-B-32", device: str = "cpu") -> None:
        import open_clip
        import torch

        require_device(device, "open_clip")
        try:
            model, _, _preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=str(weights) if weights is not None else None, device=device
            )
        except RuntimeError as e:
            raise ModelError(f"open_clip could not build {arch!r} from {weights}: {e}") from e
        model.eval()
        self._model = model
        self._torch = torch
        self.device = device
        size = model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        mean = getattr(model.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
        std = getattr(model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
        self._mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, device=device).view(1, 3, 1, 1)
        dim = int(model.visual.output_dim)
        if weights is None:
            identity = ModelIdentity("open_clip", f"{arch}-random-init", "random-init", dim, LICENCE, "embedder")
        else:
            identity = ModelIdentity("open_clip", f"{arch}-{Path(weights).stem}", file_sha256(weights), dim, LICENCE,
                                     "embedder")
        self.identity = replace(identity, runtime=f"torch-{torch.__version__}/{device}/fp32")

    def embed_batch(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        dim = self.identity.embedding_dim or 0
        if len(crops) == 0:
            return np.zeros((0, dim), dtype=np.float32)
        x = torch.from_numpy(np.stack([c[:, :, ::-1] for c in crops]).copy()).to(self.device)  # BGR -> RGB
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        x = torch.nn.functional.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                                            align_corners=False)
        x = (x - self._mean) / self._std
        with torch.inference_mode():
            feats = self._model.encode_image(x)
        return l2_normalise(feats.float().cpu().numpy())
