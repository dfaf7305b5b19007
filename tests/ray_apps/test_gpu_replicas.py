"""The model replicas on a GPU node (issue 29 items 2, 3 and 5), checked on the CPU: a replica started with
LFR_VISION__DEVICE=cuda that sees no GPU fails at start, naming the device, for every backend (never runs
silently on its CPU); a CPU replica says what runs its model and decodes a batch with per-frame refusals; a
fused detector (LFR_VISION__FUSED_DETECTOR, on by default for cuda) returns embeddings, not crops."""

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
@pytest.mark.parametrize(("replica", "variables", "named"), [
    # yunet + sface on cuda is fused by default: the device pipeline refuses
    (Detector, {"LFR_VISION__DETECTOR": "yunet"}, "device pipeline"),
    (Detector, {"LFR_VISION__DETECTOR": "yunet", "LFR_VISION__FUSED_DETECTOR": "false"}, "yunet"),
    (Detector, {"LFR_VISION__DETECTOR": "scrfd"}, "scrfd"), (Detector, {"LFR_VISION__DETECTOR": "yolo"}, "yolo"),
    (Embedder, {"LFR_VISION__EMBEDDER": "sface"}, "sface"), (Embedder, {"LFR_VISION__EMBEDDER": "open_clip"}, "open_clip")])
def test_a_gpu_replica_without_a_gpu_fails_at_start(environment, replica, variables, named):
    environment(LFR_VISION__DEVICE="cuda", **variables)
    with pytest.raises(ModelError, match=rf"{named}: LFR_VISION__DEVICE=cuda but no CUDA GPU is visible"):
        replica.func_or_class()


def test_a_fused_detector_other_than_yunet_and_sface_refuses_to_start(environment):
    environment(LFR_VISION__DEVICE="cpu", LFR_VISION__DETECTOR="scrfd", LFR_VISION__FUSED_DETECTOR="true")
    with pytest.raises(ModelError, match="the device pipeline runs yunet \\+ sface, not scrfd \\+ sface"):
        Detector.func_or_class()


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


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_a_fused_detector_replica_returns_embeddings_not_crops_with_its_embedder_s_sha(environment, shared_dir):
    """The fused replica on the CPU (torch): the same faces pass its gate as the unfused replica's, each with
    its embedding (the embedder's, within cosine 0.999) and no crop, and every frame names the weights."""
    environment(LFR_VISION__DEVICE="cpu")
    unfused = Detector.func_or_class()
    environment(LFR_VISION__DEVICE="cpu", LFR_VISION__FUSED_DETECTOR="true")
    replica = Detector.func_or_class()
    identity = replica.model_identity()
    assert identity["name"] == "yunet" and identity["embedder"]["name"] == "sface"
    sha = identity["embedder"]["weights_sha256"]
    frame = cv2.resize(cv2.imread(str(shared_dir / "data/crowd/12.jpg")), (640, 360))
    good = cv2.imencode(".jpg", frame)[1].tobytes()
    out = replica._analyse([good, good[: len(good) // 2]])
    assert isinstance(out[1], RefusedFrame) and out[1].reason == "truncated"
    fused, reference = out[0], unfused._analyse([good])[0]
    assert isinstance(fused, DetectedFrame) and isinstance(reference, DetectedFrame)
    assert fused.embedder_sha256 == sha and reference.embedder_sha256 is None
    assert all(f.crop is None for f in fused.faces)
    assert [f.embedding is not None for f in fused.faces] == [f.crop is not None for f in reference.faces]
    kept = [(f, r) for f, r in zip(fused.faces, reference.faces) if r.crop is not None]
    assert kept
    from lfr_core.vision.registry import build_embedder

    embedder = build_embedder(get_settings())
    assert embedder.identity.weights_sha256 == sha
    expected = embedder.embed_batch([r.crop for _, r in kept])
    for (face, ref), want in zip(kept, expected):
        assert float(np.abs(face.box - ref.box).max()) <= 1.0
        assert face.embedding.shape == (128,) and abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-5
        assert float(face.embedding @ want) >= 0.999
