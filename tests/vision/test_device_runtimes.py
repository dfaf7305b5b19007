"""The device runtimes of the shipped models (issue 29 item 1), checked on the CPU: a GPU asked for and not
visible refuses every backend; the runtime is in the model identity; a second code path of the same weights
(onnxruntime without graph optimisations, the fp16 graph, YuNet batched over frames) agrees with today's
backend on the shared faces, crowd and clip (boxes within 1 px, embeddings cosine >= 0.999, same matches),
and a runtime that does not agree is refused."""

from __future__ import annotations

import numpy as np
import pytest

from lfr_core.vision import sface, yunet
from lfr_core.vision.aligner import SFaceAligner
from lfr_core.vision.device import check_ort_device, ort_providers, require_device
from lfr_core.vision.errors import ModelError
from lfr_core.vision.onnx_fp32 import AGREEMENT_COSINE, check_agreement, output_agreement
from lfr_ops.feed import frames

torch = pytest.importorskip("torch")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")


@pytest.fixture(scope="module")
def images(shared_dir, load):
    """Portraits, the crowd photos and frames of the clip."""
    faces = sorted((shared_dir / "data/faces").rglob("*.jpg"))[::40] + sorted((shared_dir / "data/crowd").glob("*.jpg"))
    clip = frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=1.0)
    return [load(p) for p in faces] + list(clip)


@pytest.fixture(scope="module")
def crops(images):
    detector = yunet.YuNetDetector(yunet.default_weights())
    aligner = SFaceAligner()
    return [aligner.align(im, d) for im in images for d in detector.detect(im)[:6]]


@no_gpu
@pytest.mark.parametrize(("field", "name"), [("detector", "yunet"), ("detector", "scrfd"), ("detector", "yolo"),
                                             ("embedder", "sface"), ("embedder", "open_clip")])
def test_cuda_without_a_gpu_refuses_every_backend(with_vision, field, name):
    from lfr_core.vision.registry import build_detector, build_embedder

    build = build_detector if field == "detector" else build_embedder
    with pytest.raises(ModelError, match=f"{field} {name}: LFR_VISION__DEVICE=cuda but no CUDA GPU is visible"):
        build(with_vision(device="cuda", **{field: name}))


@no_gpu
def test_a_gpu_session_that_fell_back_to_the_cpu_is_refused():
    require_device("cpu", "any")  # the CPU asks nothing
    assert ort_providers("cpu") == ["CPUExecutionProvider"]
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(ModelError, match=r"no CUDAExecutionProvider.*install onnxruntime-gpu"):
            ort_providers("cuda:1")
    check_ort_device(["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda", "sface")
    with pytest.raises(ModelError, match="sface: LFR_VISION__DEVICE=cuda but onnxruntime loaded"):
        check_ort_device(["CPUExecutionProvider"], "cuda", "sface")


def test_the_identity_names_the_runtime_and_the_weights_decide_the_match():
    ort_cpu = sface.SFaceEmbedder(sface.default_weights())
    opencv = sface.SFaceEmbedder(sface.default_weights(), runtime="opencv")
    assert ort_cpu.identity.runtime.startswith("onnxruntime-") and ort_cpu.identity.runtime.endswith(
        "/CPUExecutionProvider/fp32")
    assert opencv.identity.runtime.startswith("opencv-")
    assert ort_cpu.identity.weights_sha256 == opencv.identity.weights_sha256
    assert ort_cpu.identity.as_dict()["runtime"] == ort_cpu.identity.runtime  # what the list version keeps


def _same_matches(gallery: np.ndarray, probes: np.ndarray) -> float:
    """Share of probes whose best match in the gallery is their own row."""
    return float(((probes @ gallery.T).argmax(axis=1) == np.arange(len(probes))).mean())


@pytest.mark.slow
@pytest.mark.parametrize("variant", [{"optimisation": "none"}, {"precision": "fp16"}])
def test_a_second_sface_code_path_agrees_on_the_shared_faces(crops, variant):
    reference = sface.SFaceEmbedder(sface.default_weights())
    other = sface.SFaceEmbedder(sface.default_weights(), **variant)
    assert other.identity.weights_sha256 == reference.identity.weights_sha256
    assert other.identity.runtime != reference.identity.runtime or "optimisation" in variant
    a, b = reference.embed_batch(crops), other.embed_batch(crops)
    assert len(crops) > 100
    assert float((a * b).sum(axis=1).min()) >= AGREEMENT_COSINE
    # a list built on one runtime finds the same people with probes of the other
    assert _same_matches(a, b) == _same_matches(a, a) == 1.0


def _largest_box_gap(reference: list[list], other: list[list], images: list[np.ndarray]) -> tuple[float, int]:
    """The largest gap (working-image pixels) between a confident face's box or landmarks and the nearest face
    of the other run, and how many faces were compared."""
    worst, count = 0.0, 0
    for theirs, ours, image in zip(reference, other, images):
        scale = yunet.resize_longest(image, 640)[1]
        for t in (t for t in theirs if t.score > 0.7):
            o = min(ours, key=lambda o: float(np.abs(o.box - t.box).max()))
            gap = max(float(np.abs(o.box - t.box).max()), float(np.abs(o.landmarks - t.landmarks).max()))
            worst, count = max(worst, gap * scale), count + 1
    return worst, count


@pytest.mark.slow
def test_yunet_batched_over_frames_finds_the_same_faces_and_fp16_would_not(images):
    reference = yunet.YuNetDetector(yunet.default_weights())
    expected = [reference.detect(im) for im in images]
    clip = [im for im in images if im.shape[:2] == images[-1].shape[:2]]  # the clip's frames share a size
    assert len(clip) >= 4
    batched = yunet.YuNetDetector(yunet.default_weights(), batch_frames=True).detect_batch(images)
    gap, count = _largest_box_gap(expected, batched, images)
    assert count > 100 and gap <= 1.0
    # Why the registry keeps detectors in fp32 on every device: fp16 moves boxes beyond the 1 px tolerance.
    half = yunet.YuNetDetector(yunet.default_weights(), precision="fp16").detect_batch(images)
    assert _largest_box_gap(expected, half, images)[0] > 1.0


def test_a_runtime_that_disagrees_is_refused():
    class Fixed:
        def __init__(self, out: np.ndarray) -> None:
            self.out = out

        def run(self, _names, _feeds):
            return [self.out]

    rows = np.random.default_rng(1).normal(size=(4, 128))
    near = rows + 1e-3 * np.random.default_rng(2).normal(size=rows.shape)
    assert check_agreement(Fixed(rows), Fixed(near), {}, "sface") >= AGREEMENT_COSINE
    far = rows.copy()
    far[2] = np.random.default_rng(3).normal(size=128)  # one face's embedding off: the list would not match it
    assert output_agreement([rows], [far]) < 0.5
    with pytest.raises(ModelError, match="sface: outputs agree with the CPU float32 graph only to cosine"):
        check_agreement(Fixed(rows), Fixed(far), {}, "sface")
