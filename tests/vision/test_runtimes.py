"""onnxruntime and OpenCV run the same YuNet/SFace files to the same results; the float32 graph holds exactly
the dequantized weights; the numpy SFace alignment matches OpenCV's alignCrop."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from lfr_core.vision import sface, yunet
from lfr_core.vision.aligner import SFaceAligner, similarity_matrix
from lfr_core.vision.onnx_fp32 import _dequantize
from lfr_ops.feed import frames


@pytest.fixture(scope="module")
def images(shared_dir, load):
    """Portraits of every shared dataset, the crowd photos and frames of the clip (many small faces)."""
    faces = sorted((shared_dir / "data/faces").rglob("*.jpg"))[::12] + sorted((shared_dir / "data/crowd").glob("*.jpg"))
    clip = frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=2.0)
    return [load(p) for p in faces] + list(clip)


def test_block_dequantization_follows_the_onnx_definition():
    q = np.array([[1, 2, 3, 4, 5]], dtype=np.int8)  # 5 along axis 1 in blocks of 2: the last block is short
    scale = np.array([[0.5, 2.0, 10.0]], dtype=np.float32)
    zero = np.array([[1, 0, 5]], dtype=np.int8)
    assert _dequantize(q, scale, zero, axis=1, block=2).tolist() == [[0.0, 0.5, 6.0, 8.0, 0.0]]
    per_axis = _dequantize(np.array([[2, 2], [2, 2]], np.int8), np.array([1.0, 3.0], np.float32), None, axis=0, block=0)
    assert per_axis.tolist() == [[2.0, 2.0], [6.0, 6.0]]
    assert _dequantize(np.array([4, -4], np.int8), np.array([0.25], np.float32), None, axis=0, block=64).tolist() == [1.0, -1.0]


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_yunet_on_onnxruntime_finds_the_same_faces_as_opencv(images):
    ours = yunet.YuNetDetector(yunet.default_weights(), runtime="onnxruntime")
    opencv = yunet.YuNetDetector(yunet.default_weights(), runtime="opencv")
    assert replace(ours.identity, runtime="") == replace(opencv.identity, runtime="")  # all but what ran it
    total = 0
    for image in images:
        a, b = ours.detect(image), opencv.detect(image)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert np.abs(x.box - y.box).max() < 0.01 and np.abs(x.landmarks - y.landmarks).max() < 0.01
            assert abs(x.score - y.score) < 1e-4
        total += len(a)
    assert total > 200  # the crowd photos and the clip hold many faces


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_sface_on_onnxruntime_gives_opencv_embeddings(images):
    detector = yunet.YuNetDetector(yunet.default_weights())
    aligner = SFaceAligner()
    crops = [aligner.align(im, d) for im in images[::3] for d in detector.detect(im)[:4]]
    ours = sface.SFaceEmbedder(sface.default_weights(), runtime="onnxruntime")
    opencv = sface.SFaceEmbedder(sface.default_weights(), runtime="opencv")
    assert replace(ours.identity, runtime="") == replace(opencv.identity, runtime="")  # all but what ran it
    a, b = ours.embed_batch(crops), opencv.embed_batch(crops)
    assert len(crops) > sface.ORT_CHUNK * 3  # several forward passes
    assert a.shape == b.shape == (len(crops), 128)
    assert float((a * b).sum(axis=1).min()) > 0.9999
    other = np.roll(b, 1, axis=0)  # and the embeddings still tell faces apart
    assert float((a * other).sum(axis=1).mean()) < 0.5


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_sface_alignment_matches_opencv_align_crop(images):
    detector = yunet.YuNetDetector(yunet.default_weights())
    recognizer = cv2.FaceRecognizerSF.create(str(sface.default_weights()), "")
    embedder = sface.SFaceEmbedder(sface.default_weights())
    ours, theirs = [], []
    for image in images[::4]:
        for d in detector.detect(image)[:2]:
            row = np.array([[*d.box[:2], *(d.box[2:] - d.box[:2]), *d.landmarks.reshape(-1), d.score]], np.float32)
            ours.append(SFaceAligner().align(image, d))
            theirs.append(recognizer.alignCrop(image, row))
    pixel_gap = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(ours, theirs))
    assert pixel_gap <= 8  # bilinear rounding of a float64 vs float32 matrix
    cos = (embedder.embed_batch(ours) * embedder.embed_batch(theirs)).sum(axis=1)
    assert float(cos.min()) > 0.9999


def test_similarity_matrix_recovers_a_known_transform():
    src = np.array([[10, 20], [50, 22], [30, 40], [15, 60], [45, 61]], dtype=np.float64)
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = similarity_matrix(src, src @ rot.T + shift)
    assert np.allclose(matrix[:, :2], rot) and np.allclose(matrix[:, 2], shift)


def test_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="unknown runtime"):
        sface.SFaceEmbedder(sface.default_weights(), runtime="tensorrt")
    with pytest.raises(ValueError, match="unknown runtime"):
        yunet.YuNetDetector(yunet.default_weights(), runtime="tensorrt")


def test_detect_only_engine_aligns_live_faces_without_loading_an_embedder(settings, images):
    from lfr_core.live.pipeline import detect_faces
    from lfr_core.vision.engine import build_engine
    from lfr_core.vision.errors import ModelError

    engine = build_engine(settings, embed=False)
    assert engine.embedder is None and engine.identity["embedder"] is None
    faces = detect_faces(engine, images[-3:])  # clip frames
    crops = [f.crop for frame in faces for f in frame if f.crop is not None]
    assert crops and all(c.shape == (112, 112, 3) for c in crops)
    with pytest.raises(ModelError, match="without an embedder"):
        engine.analyse_batch(images[:1], purpose="live")
