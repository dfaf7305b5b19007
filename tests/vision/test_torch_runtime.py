"""The torch runtime of the shipped ONNX graphs (issue 29 item 1: torch modules built from the same weights),
checked on the CPU against onnxruntime: every graph's outputs, then YuNet, SCRFD and SFace through their
backends on the shared faces, crowd and clip (boxes within 1 px, embeddings cosine >= 0.999, same matches).
The same code runs on a GPU (`device="cuda"`), where it needs torch and not onnxruntime-gpu."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from lfr_core.vision import scrfd, sface, yunet
from lfr_core.vision.aligner import SFaceAligner
from lfr_core.vision.errors import ModelError
from lfr_core.vision.onnx_fp32 import AGREEMENT_COSINE, float32_model
from lfr_core.vision.torch_graph import TorchSession
from lfr_ops.feed import frames

torch = pytest.importorskip("torch")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")


def _graphs(shared_dir):
    return {"yunet": (float32_model(yunet.default_weights(), batch_heads=True), (2, 3, 320, 640), 255.0),
            "sface": (float32_model(sface.default_weights()), (3, 3, 112, 112), 255.0),
            "scrfd": ((shared_dir / "models" / scrfd.WEIGHTS_FILE).read_bytes(), (1, 3, 640, 640), 1.0)}


@pytest.mark.parametrize("name", ["yunet", "sface", "scrfd"])
def test_every_output_of_every_graph_equals_onnxruntime(shared_dir, name):
    model, shape, top = _graphs(shared_dir)[name]
    feeds = {ort.InferenceSession(model).get_inputs()[0].name:
             np.random.default_rng(0).uniform(0, top, shape).astype(np.float32)}
    expected = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)
    got = TorchSession(model).run(None, feeds)
    assert len(got) == len(expected) > 0
    for e, g in zip(expected, got):
        assert g.shape == e.shape
        assert float(np.abs(g - e).max()) <= 1e-4 * max(float(np.abs(e).max()), 1.0)


def test_an_operator_it_does_not_implement_refuses_at_load_naming_it():
    node = helper.make_node("Softmax", ["x"], ["y"], name="head")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    with pytest.raises(ModelError, match=r"ONNX operator Softmax \(node 'head'\).*use runtime onnxruntime"):
        TorchSession(helper.make_model(graph).SerializeToString())


def test_each_activation_is_dropped_after_its_last_reader(shared_dir):
    """A batch holds a few layers' activations at a time (SFace, 128 faces on the CPU here: 1.7 GB peak, 8.1 GB
    when every activation was kept to the end of the forward)."""
    graph = TorchSession(_graphs(shared_dir)["sface"][0]).graph
    dropped_at = {name: i for i, names in enumerate(graph._drop_after) for name in names}
    assert len(dropped_at) == sum(len(n) for n in graph._drop_after) > 50  # each once
    assert not dropped_at.keys() & (set(graph.constants) | {o.name for o in graph.outputs})
    for i, node in enumerate(graph.nodes):  # never before a node that still reads it
        assert all(dropped_at.get(name, i) >= i for name in node.inputs if name)
    produced = {out for node in graph.nodes for out in node.outputs}
    read = {name for node in graph.nodes for name in node.inputs if name}
    assert (produced & read) - {o.name for o in graph.outputs} <= dropped_at.keys()  # and none kept


def test_a_resize_it_would_approximate_refuses():
    sizes = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 2, 2])
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])], [sizes])
    session = TorchSession(onnx.helper.make_model(graph).SerializeToString())
    with pytest.raises(ModelError, match="Resize mode=linear"):
        session.run(None, {"x": np.zeros((1, 1, 2, 2), np.float32)})


@pytest.fixture(scope="module")
def images(shared_dir, load):
    faces = sorted((shared_dir / "data/faces").rglob("*.jpg"))[::60] + sorted((shared_dir / "data/crowd").glob("*.jpg"))
    return [load(p) for p in faces] + list(frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=0.5))


def _largest_gap(reference: list[list], other: list[list], scales: list[float]) -> tuple[float, int]:
    """The largest gap (detector-input pixels) between a face's box or landmarks and the nearest face of the
    other run, and how many faces were compared; both runs must find as many faces."""
    worst, count = 0.0, 0
    for theirs, ours, scale in zip(reference, other, scales):
        assert len(ours) == len(theirs)
        for t in theirs:
            o = min(ours, key=lambda o: float(np.abs(o.box - t.box).max()))
            gap = max(float(np.abs(o.box - t.box).max()), float(np.abs(o.landmarks - t.landmarks).max()))
            worst, count = max(worst, gap * scale), count + 1
    return worst, count


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_yunet_on_torch_finds_the_same_faces(images):
    reference = yunet.YuNetDetector(yunet.default_weights())
    on_torch = yunet.YuNetDetector(yunet.default_weights(), runtime="torch")
    assert on_torch.identity.runtime.startswith("torch-") and on_torch.identity.runtime.endswith("/cpu/fp32")
    assert on_torch.identity.weights_sha256 == reference.identity.weights_sha256
    scales = [yunet.resize_longest(im, 640)[1] for im in images]
    gap, count = _largest_gap([reference.detect(im) for im in images], on_torch.detect_batch(images), scales)
    assert count > 100 and gap <= 1.0


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_scrfd_on_torch_finds_the_same_faces(shared_dir, images):
    weights = shared_dir / "models" / scrfd.WEIGHTS_FILE
    reference, on_torch = scrfd.SCRFDDetector(weights), scrfd.SCRFDDetector(weights, runtime="torch")
    subset = images[::3]
    scales = [640 / max(im.shape[:2]) for im in subset]
    gap, count = _largest_gap([reference.detect(im) for im in subset], [on_torch.detect(im) for im in subset], scales)
    assert count > 30 and gap <= 1.0


@pytest.mark.slow  # embeds every crop twice: seconds
def test_sface_on_torch_gives_the_same_embeddings_and_matches(images):
    detector, aligner = yunet.YuNetDetector(yunet.default_weights()), SFaceAligner()
    crops = [aligner.align(im, d) for im in images for d in detector.detect(im)[:6]]
    reference = sface.SFaceEmbedder(sface.default_weights())
    on_torch = sface.SFaceEmbedder(sface.default_weights(), runtime="torch")
    assert on_torch.identity.weights_sha256 == reference.identity.weights_sha256
    assert on_torch.identity.runtime != reference.identity.runtime
    a, b = reference.embed_batch(crops), on_torch.embed_batch(crops)
    assert len(crops) > 60
    assert float((a * b).sum(axis=1).min()) >= AGREEMENT_COSINE
    # a list built on onnxruntime finds the same people with probes embedded on torch
    assert np.array_equal((b @ a.T).argmax(axis=1), np.arange(len(crops)))


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_the_registry_runs_every_onnx_backend_on_torch(with_vision):
    from lfr_core.vision.registry import build_detector, build_embedder

    assert build_detector(with_vision(runtime="torch")).identity.runtime.startswith("torch-")
    assert build_detector(with_vision(runtime="torch", detector="scrfd")).identity.runtime.startswith("torch-")
    assert build_embedder(with_vision(runtime="torch")).identity.runtime.startswith("torch-")
    with pytest.raises(ModelError, match="scrfd runs on onnxruntime or torch"):
        build_detector(with_vision(runtime="opencv", detector="scrfd"))


@no_gpu
def test_torch_on_a_gpu_it_cannot_see_refuses():
    with pytest.raises(ModelError, match="LFR_VISION__DEVICE=cuda but no CUDA GPU is visible"):
        sface.SFaceEmbedder(sface.default_weights(), runtime="torch", device="cuda")
