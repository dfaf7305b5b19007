"""YuNet and SCRFD on shared images: boxes, landmarks, agreement, multi-face crowds."""

from __future__ import annotations

import numpy as np
import pytest

from lfr_core.vision.registry import build_detector


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return float(inter / (area(a) + area(b) - inter))


@pytest.fixture(scope="module")
def scrfd(settings, shared_dir):
    return build_detector(settings.model_copy(update={"vision": settings.vision.model_copy(update={"detector": "scrfd"})}))


def test_yunet_finds_one_face_with_landmarks_inside_the_box(engine, faces_dir, load):
    img = load(faces_dir / "ageitgey" / "lin-manuel-miranda.png")
    [dets] = engine.detector.detect_batch([img])
    assert len(dets) == 1
    d = dets[0]
    assert d.box.dtype == np.float32 and d.box.shape == (4,)
    assert d.landmarks.dtype == np.float32 and d.landmarks.shape == (5, 2)
    x1, y1, x2, y2 = d.box
    assert 0 <= x1 < x2 <= img.shape[1] and 0 <= y1 < y2 <= img.shape[0]
    assert np.all((d.landmarks[:, 0] >= x1) & (d.landmarks[:, 0] <= x2))
    assert np.all((d.landmarks[:, 1] >= y1) & (d.landmarks[:, 1] <= y2))
    assert d.landmarks[0, 0] < d.landmarks[1, 0]  # image-left eye first (YuNet order)
    assert d.size > 40 and d.score > 0.6


def test_yunet_identity_names_shipped_weights(engine):
    ident = engine.detector.identity
    assert (ident.name, ident.version, ident.task) == ("yunet", "2023mar-int8bq", "detector")
    assert len(ident.weights_sha256) == 64


def test_scrfd_decodes_many_faces_on_a_crowd_photo(scrfd, shared_dir, load):
    img = load(shared_dir / "data" / "crowd" / "1.jpg")
    [dets] = scrfd.detect_batch([img])
    assert len(dets) >= 3
    for d in dets:
        assert d.box[2] > d.box[0] and d.box[3] > d.box[1]
        assert d.box[0] > -20 and d.box[2] < img.shape[1] + 20  # decoded into source pixels, not 640x640
    boxes = np.stack([d.box for d in dets])
    for i in range(len(boxes)):  # NMS applied: no two kept boxes overlap heavily
        for j in range(i + 1, len(boxes)):
            assert iou(boxes[i], boxes[j]) < 0.5


def test_scrfd_agrees_with_yunet_on_a_single_face(scrfd, engine, faces_dir, load):
    img = load(faces_dir / "deepface" / "img1.jpg")
    [s_dets], [y_dets] = scrfd.detect_batch([img]), engine.detector.detect_batch([img])
    assert s_dets and y_dets
    assert iou(s_dets[0].box, y_dets[0].box) > 0.5
    eye_dist = np.linalg.norm(y_dets[0].landmarks[0] - y_dets[0].landmarks[1])
    assert np.abs(s_dets[0].landmarks - y_dets[0].landmarks).max() < 0.5 * eye_dist
    assert scrfd.identity.licence.startswith("InsightFace non-commercial")


def test_tight_crop_is_found_after_padding(engine, faces_dir, load):
    img = load(faces_dir / "orl" / "s1" / "1.pgm")
    [faces] = engine.analyse_batch([img], purpose="live")
    assert len(faces) == 1
    f = faces[0]
    assert f.crop.shape == (112, 112, 3)
    cx, cy = (f.detection.box[0] + f.detection.box[2]) / 2, (f.detection.box[1] + f.detection.box[3]) / 2
    assert 0 < cx < img.shape[1] and 0 < cy < img.shape[0]  # reported in source pixels, not padded ones
