"""YOLO through ultralytics, built from an architecture yaml (random weights, never downloaded)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from lfr_core.vision.errors import ModelError
from lfr_core.vision.registry import build_detector


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _images():
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)]


@pytest.mark.slow  # builds a torch model from its architecture (~4 s)
def test_yolo_random_weights_from_architecture_yaml_map_to_detections(with_vision, no_network):
    det = build_detector(with_vision(detector="yolo", yolo_arch="yolov8n.yaml", detector_score=0.0,
                                     detector_input=320))
    assert det.identity.version == "yolov8n-random-init"
    imgs = _images()
    out = det.detect_batch(imgs)
    assert len(out) == 2
    for img, dets in zip(imgs, out):
        for d in dets[:20]:
            assert d.box.shape == (4,) and d.box.dtype == np.float32
            assert d.landmarks.shape == (5, 2) and d.landmarks_estimated  # a box-only model
            assert -1 <= d.box[0] <= d.box[2] <= img.shape[1] + 1 and -1 <= d.box[1] <= d.box[3] <= img.shape[0] + 1
        assert all(dets[i].score >= dets[i + 1].score for i in range(len(dets) - 1))
    assert det.detect_batch([]) == []


def test_yolo_random_weights_from_architecture_pose_yaml_use_five_keypoints(with_vision, tmp_path, no_network):
    import ultralytics

    src = Path(ultralytics.__file__).parent / "cfg" / "models" / "v8" / "yolov8-pose.yaml"
    text = src.read_text().replace("kpt_shape: [17, 3]", "kpt_shape: [5, 3]")
    assert "kpt_shape: [5, 3]" in text
    yaml = tmp_path / "yolov8n-face.yaml"
    yaml.write_text(text)
    det = build_detector(with_vision(detector="yolo", yolo_arch=str(yaml), detector_score=0.0, detector_input=320))
    [dets] = det.detect_batch(_images()[:1])
    assert dets, "a random model at score 0 still returns boxes"
    assert not dets[0].landmarks_estimated and dets[0].landmarks.shape == (5, 2)


def test_yolo_random_weights_from_architecture_on_cpu_and_refuses_missing_cuda(with_vision):
    import torch

    det = build_detector(with_vision(detector="yolo", detector_input=320))
    assert next(det._model.model.parameters()).device.type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="CUDA"):
            build_detector(with_vision(detector="yolo", device="cuda"))
