"""The on-device pipeline (issue 29 item 2), checked on the CPU against the CPU engine (YuNet + SFace on
onnxruntime, `detect_faces` then `embed_batch`) on the shared faces, crowd photos and clip frames: the same
faces pass the live gate, boxes within 1 px, embeddings within cosine 0.999, the same top-1 matches."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from lfr_core.live.pipeline import detect_faces
from lfr_core.vision.aligner import ARCFACE_TEMPLATE, similarity_matrix
from lfr_core.vision.device_pipeline import DeviceFace, DevicePipeline, resize_for_detector, similarity_matrices
from lfr_core.vision.engine import largest_face
from lfr_ops.feed import frames

pytestmark = pytest.mark.slow  # seconds: runs the shared faces, crowd and clip through two whole pipelines

torch = pytest.importorskip("torch")

# Crowd photos of a few faces each (SFace on torch's CPU is ~0.1 s a face here), two enlarged (INTER_LINEAR),
# one of 77 faces none of which passes the gate, and one of 71 small faces, enlarged.
CROWD = ("12.jpg", "13.jpg", "16.jpg", "18.jpg", "26.jpg", "8.jpg")


@pytest.fixture(scope="module")
def images(shared_dir, load):
    faces = sorted((shared_dir / "data/faces").rglob("*.jpg"))[::40]
    clip = itertools.islice(frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=2.0), 4)
    return [load(p) for p in faces] + [load(shared_dir / "data/crowd" / n) for n in CROWD] + list(clip)


@pytest.fixture(scope="module")
def gallery(shared_dir, load, engine):
    """Enrolled faces (other images than the probes') among random decoys: 500 rows."""
    enrol = [load(p) for p in sorted((shared_dir / "data/faces").rglob("*.jpg"))[7::40]]
    faces = [largest_face(row) for row in engine.analyse_batch(enrol, purpose="enrol")]
    real = np.stack([f.embedding for f in faces if f is not None and f.embedding is not None])
    decoys = np.random.default_rng(0).normal(size=(500 - len(real), 128)).astype(np.float32)
    decoys /= np.linalg.norm(decoys, axis=1, keepdims=True)
    return np.vstack([decoys[:250], real, decoys[250:]])


@pytest.fixture(scope="module")
def pipeline(settings, gallery):
    made = DevicePipeline.from_settings(settings, device="cpu")
    made.set_gallery(gallery)
    return made


@pytest.fixture(scope="module")
def on_device(pipeline, images):
    return pipeline.run(images)


def _pairs(ours: list[DeviceFace], theirs) -> list[tuple[DeviceFace, object, float]]:
    """Each reference face with our nearest box (near-equal scores may order two faces differently)."""
    out = []
    for face in theirs:
        gaps = [float(np.abs(o.box - face.box).max()) for o in ours]
        best = int(np.argmin(gaps))
        out.append((ours[best], face, gaps[best]))
    return out


def test_the_same_faces_pass_the_gate_with_the_same_boxes_and_embeddings(on_device, images, engine):
    reference = detect_faces(engine, images)
    passed = embedded = 0
    for ours, theirs in zip(on_device, reference):
        assert len(ours) == len(theirs)
        pairs = _pairs(ours, theirs)
        assert max((gap for _, _, gap in pairs), default=0.0) <= 1.0
        assert [o.passed_gate for o, _, _ in pairs] == [t.crop is not None for t in theirs]
        kept = [(o, t) for o, t, _ in pairs if t.crop is not None]
        passed += len(kept)
        if kept:
            expected = engine.embedder.embed_batch([t.crop for _, t in kept])
            got = np.stack([o.embedding for o, _ in kept])
            assert float((expected * got).sum(axis=1).min()) >= 0.999
            embedded += len(kept)
        assert all(o.embedding is None and o.match is None for o in ours if not o.passed_gate)
    assert passed == embedded and passed > 30
    assert sum(len(r) for r in on_device) > passed + 100  # the gate refused many (small crowd faces)


def test_top1_matches_equal_the_cpu_engines(on_device, images, engine, gallery, settings):
    reference = detect_faces(engine, images)
    probes, matches = [], []
    for ours, theirs in zip(on_device, reference):
        for o, t, _ in _pairs(ours, theirs):
            if t.crop is not None:
                probes.append(t.crop)
                matches.append(o.match)
    scores = engine.embedder.embed_batch(probes) @ gallery.T
    top2 = np.sort(scores, axis=1)[:, -2:]
    # A stranger's top-1 among 500 decoys is a near-tie (margins of 0.001): only a clear winner can be compared.
    clear = top2[:, 1] - top2[:, 0] > 0.01
    assert [m.index for m, c in zip(matches, clear) if c] == scores.argmax(axis=1)[clear].tolist()
    # Embeddings within cosine 0.999 may move a score by up to 0.045; measured here: 0.0025.
    gap = float(np.abs(np.array([m.score for m in matches]) - scores.max(axis=1)).max())
    assert gap <= 0.01
    alerts = scores.max(axis=1) >= settings.match.threshold
    assert alerts.sum() >= 3 and clear[alerts].all()  # every face above the threshold has a clear top-1
    print(f"{len(matches)} probes, {int(clear.sum())} clear top-1, {int(alerts.sum())} above the threshold, gap {gap:.4f}")


def test_device_tensors_and_host_arrays_give_the_same_faces(pipeline, images):
    subset = images[-6:]  # crowd and clip: several sizes, one batch
    tensors = [torch.from_numpy(np.ascontiguousarray(im[:, :, ::-1])).permute(2, 0, 1) for im in subset]
    from_tensors, from_arrays = pipeline.run(tensors), pipeline.run(subset)
    assert sum(f.passed_gate for r in from_arrays for f in r) >= 5
    for a, b in zip(from_tensors, from_arrays):
        assert [f.passed_gate for f in a] == [f.passed_gate for f in b]
        assert all(np.array_equal(x.box, y.box) and x.match == y.match for x, y in zip(a, b))
        assert all(np.array_equal(x.embedding, y.embedding) for x, y in zip(a, b) if x.embedding is not None)


def test_the_resize_is_opencvs():
    rng = np.random.default_rng(0)
    for h, w in ((165, 220), (353, 490), (715, 1024), (1080, 1920), (2204, 970)):
        image = rng.integers(0, 256, (h, w, 3), np.uint8)
        scale = 640 / max(h, w)
        size = (round(w * scale), round(h * scale))
        expected = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        got = resize_for_detector(torch.from_numpy(image).permute(2, 0, 1)[None].float(), 640)[0]
        gap = np.abs(got.permute(1, 2, 0).numpy().astype(int) - expected.astype(int))
        if scale > 1:
            assert int(gap.max()) == 0  # INTER_LINEAR: bit-exact
        else:  # INTER_AREA: float sums round differently on a few pixels
            assert int(gap.max()) <= 1 and float((gap > 0).mean()) < 1e-3


def test_similarity_matrices_equal_umeyamas(images, engine):
    rng = np.random.default_rng(2)
    real = [d.landmarks for ds in engine.detector.detect_batch(images[:6]) for d in ds]
    random = [ARCFACE_TEMPLATE * rng.uniform(0.2, 8) + rng.normal(0, 4, (5, 2)) + rng.uniform(0, 1000, 2)
              for _ in range(50)]
    mirrored = [ARCFACE_TEMPLATE[:, ::-1].copy(), np.full((5, 2), 7.0)]  # a reflection; all points equal
    landmarks = np.stack(real + random + mirrored).astype(np.float32)
    got = similarity_matrices(torch.from_numpy(landmarks)).numpy()
    expected = np.stack([similarity_matrix(lm, ARCFACE_TEMPLATE) for lm in landmarks])
    assert np.abs(got - expected).max() <= 1e-6


def test_without_a_gallery_faces_carry_no_match_and_a_gate_refuses_all(settings, images):
    strict = DevicePipeline.from_settings(settings.model_copy(update={"quality": settings.quality.model_copy(
        update={"min_live_face_px": 1000})}))
    faces = strict.run(images[-2:])
    assert sum(len(r) for r in faces) > 0
    assert all(not f.passed_gate and f.embedding is None and f.match is None for r in faces for f in r)
    assert strict.run([]) == []
