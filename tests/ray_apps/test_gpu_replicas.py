"""The model replicas on a GPU node (issue 29 items 3 and 5), checked on the CPU: a replica started with
LFR_VISION__DEVICE=cuda that sees no GPU fails at start, naming the device, for every backend (never runs
silently on its CPU); a CPU replica says what runs its model and decodes a batch with per-frame refusals."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lfr_core.config import get_settings
from lfr_core.live.records import DetectedFrame, RefusedFrame
from lfr_core.vision.errors import ModelError
from ray_apps.models.detector import Detector
from ray_apps.models.embedder import Embedder

torch = pytest.importorskip("torch")


@pytest.fixture
def environment(monkeypatch):
    """Set LFR_ variables for a replica built in this test; settings are read again before and after."""

    def _set(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield _set
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
@pytest.mark.parametrize(("replica", "variable", "backend"), [
    (Detector, "LFR_VISION__DETECTOR", "yunet"), (Detector, "LFR_VISION__DETECTOR", "scrfd"),
    (Detector, "LFR_VISION__DETECTOR", "yolo"), (Embedder, "LFR_VISION__EMBEDDER", "sface"),
    (Embedder, "LFR_VISION__EMBEDDER", "open_clip")])
def test_a_gpu_replica_without_a_gpu_fails_at_start(environment, replica, variable, backend):
    environment(LFR_VISION__DEVICE="cuda", **{variable: backend})
    with pytest.raises(ModelError, match=rf"{backend}: LFR_VISION__DEVICE=cuda but no CUDA GPU is visible"):
        replica.func_or_class()


def test_a_cpu_detector_replica_names_its_runtime_and_refuses_bad_frames_alone(environment, shared_dir):
    environment(LFR_VISION__DEVICE="cpu")
    replica = Detector.func_or_class()
    assert replica.model_identity()["runtime"].endswith("/CPUExecutionProvider/fp32")
    frame = cv2.imread(str(sorted((shared_dir / "data/crowd").glob("*.jpg"))[0]))
    frame = cv2.resize(frame, (640, 360))
    good = cv2.imencode(".jpg", frame)[1].tobytes()
    out = replica._analyse([good, good[: len(good) // 2], good])
    assert isinstance(out[0], DetectedFrame) and isinstance(out[2], DetectedFrame)
    assert isinstance(out[1], RefusedFrame) and out[1].reason == "truncated"
    assert len(out[0].faces) == len(out[2].faces) > 0
    assert all(np.array_equal(a.box, b.box) for a, b in zip(out[0].faces, out[2].faces))
