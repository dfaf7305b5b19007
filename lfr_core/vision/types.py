"""Data passed between the engine's stages; a model's identity travels with what it produces."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

# What runs the YuNet/SFace/SCRFD files: the same weights and the same outputs (within AGREEMENT_COSINE) on
# each; torch runs the graph on a GPU that has torch but not onnxruntime-gpu (torch_graph.py).
Runtime = Literal["onnxruntime", "opencv", "torch"]


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    weights_sha256: str
    embedding_dim: int | None
    licence: str
    task: str  # "detector" or "embedder"
    # What ran the weights (`onnxruntime-1.32.0/CUDAExecutionProvider/fp16`, `torch-2.14/cuda/fp32`): kept with
    # the list version. A list matches probes by weights_sha256 alone, since every runtime other than the
    # CPU float32 graph must agree with it within AGREEMENT_COSINE before its replica starts (onnx_fp32.py).
    runtime: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Detection:
    box: np.ndarray  # float32 (x1, y1, x2, y2) in source-image pixels
    landmarks: np.ndarray  # float32 (5, 2): right eye, left eye, nose, right mouth, left mouth (YuNet order)
    score: float
    landmarks_estimated: bool = False  # True when the detector has no keypoints and they come from the box

    @property
    def size(self) -> float:
        """Shorter side of the box in pixels."""
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass
class QualityResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Face:
    detection: Detection
    crop: np.ndarray  # 112x112x3 uint8 BGR, aligned
    quality: QualityResult
    embedding: np.ndarray | None  # float32 L2-normalised; None when quality failed and embedding was skipped


@lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a weights file, computed once per (path, size, mtime) and cached."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)
