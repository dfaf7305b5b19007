"""Batched face alignment on the device (issue 29 item 2), checked on the CPU: one grid_sample over a batch of
frames gives the crops OpenCV's per-face warpAffine gives (SFaceAligner), on the shared faces, crowd and clip."""

from __future__ import annotations

import numpy as np
import pytest

from lfr_core.vision import sface, yunet
from lfr_core.vision.aligner import SFaceAligner
from lfr_core.vision.batch_align import MAX_PIXEL_GAP, align_frames, warp_batch
from lfr_core.vision.types import Detection
from lfr_ops.feed import frames

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def images(shared_dir, load):
    faces = sorted((shared_dir / "data/faces").rglob("*.jpg"))[::60] + sorted((shared_dir / "data/crowd").glob("*.jpg"))
    clip = frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=1.0)
    return [load(p) for p in faces] + list(clip)


@pytest.mark.slow
def test_batched_alignment_equals_opencv_per_face(images, settings):
    detector = yunet.YuNetDetector(yunet.default_weights())
    detections = [detector.detect(im) for im in images]
    ours = align_frames(images, detections)
    aligner = SFaceAligner()
    theirs = [[aligner.align(im, d) for d in ds] for im, ds in zip(images, detections)]
    pairs = [(a, b) for row_a, row_b in zip(ours, theirs) for a, b in zip(row_a, row_b)]
    # faces the live gate embeds (the smallest crowd faces, a few pixels wide, are dropped before alignment)
    gated = [(a, b) for ds, row_a, row_b in zip(detections, ours, theirs) for d, a, b in zip(ds, row_a, row_b)
             if d.size >= settings.quality.min_live_face_px]
    assert [len(r) for r in ours] == [len(d) for d in detections] and len(pairs) > 150
    gaps = [np.abs(a.astype(int) - b.astype(int)) for a, b in pairs]
    assert max(int(g.max()) for g in gaps) <= MAX_PIXEL_GAP
    assert float(np.mean([g.mean() for g in gaps])) < 0.5
    embedder = sface.SFaceEmbedder(sface.default_weights())
    cos = (embedder.embed_batch([a for a, _ in gated]) * embedder.embed_batch([b for _, b in gated])).sum(axis=1)
    assert len(gated) > 50 and float(cos.min()) >= 0.999


def test_a_shift_reads_the_frame_exactly_and_outside_reads_zero():
    frame = np.random.default_rng(0).integers(0, 256, (3, 40, 50)).astype(np.float32)
    shift = np.array([[[1.0, 0, -7], [0, 1.0, -5]], [[1.0, 0, -45], [0, 1.0, -5]]])  # crop origin (7, 5); (45, 5)
    crops = warp_batch(torch.from_numpy(frame)[None], shift, [0, 0], size=8).numpy()
    assert np.allclose(crops[0], frame[:, 5:13, 7:15], atol=1e-3)  # float coordinates: exact up to rounding
    assert np.allclose(crops[1][:, :, :5], frame[:, 5:13, 45:50], atol=1e-3)
    assert float(np.abs(crops[1][:, :, 5:]).max()) < 1e-3


def test_frames_of_several_sizes_and_without_faces_keep_their_places():
    rng = np.random.default_rng(1)
    small, large = rng.integers(0, 256, (60, 80, 3), np.uint8), rng.integers(0, 256, (90, 120, 3), np.uint8)
    face = Detection(box=np.array([10, 10, 50, 50], np.float32), score=0.9,
                     landmarks=np.array([[20, 22], [40, 22], [30, 32], [22, 42], [38, 42]], np.float32))
    out = align_frames([small, large, small], [[face], [], [face, face]])
    assert [len(r) for r in out] == [1, 0, 2]
    assert np.array_equal(out[2][0], out[0][0])  # same frame content, same landmarks: the same crop
    expected = SFaceAligner().align(small, face)
    assert int(np.abs(out[0][0].astype(int) - expected.astype(int)).max()) <= MAX_PIXEL_GAP


def test_a_gpu_engine_aligns_the_live_batch_in_one_warp(settings, images):
    from lfr_core.live.pipeline import detect_faces
    from lfr_core.vision.engine import build_engine

    engine = build_engine(settings, embed=False)
    clip = images[-4:]
    per_face = detect_faces(engine, clip)
    engine.align_device = "cpu"  # what build_engine sets on a GPU (the device's name), on the CPU here
    batched = detect_faces(engine, clip)
    pairs = [(a.crop, b.crop) for fa, fb in zip(per_face, batched) for a, b in zip(fa, fb)]
    assert [len(f) for f in per_face] == [len(f) for f in batched]
    assert sum(a is not None for a, _ in pairs) >= 4
    for a, b in pairs:
        assert (a is None) == (b is None)
        if a is not None:
            assert int(np.abs(a.astype(int) - b.astype(int)).max()) <= MAX_PIXEL_GAP
