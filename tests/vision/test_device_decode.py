"""Frames decoded on the device (issue 29 item 2), checked on the CPU: asked for a GPU that is not there, the
decoder says so once and decodes on the host, with the host decoder's refusals per frame; torchvision's JPEG
decoder (the GPU path's, here on the CPU) gives the host decoder's pixels."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from lfr_core.vision import device_decode
from lfr_core.vision.device_decode import decode_frames, to_bgr_array
from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import decode_image
from lfr_ops.feed import frames

torch = pytest.importorskip("torch")
LIMITS = {"max_pixels": 10_000_000, "max_bytes": 5_000_000}


@pytest.fixture(scope="module")
def jpegs(shared_dir):
    clip = list(frames(str(shared_dir / "data/video/short_hamilton_clip.mp4"), fps=1.0))[:3]
    return [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for f in clip]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback on a machine without a GPU")
def test_cuda_decode_without_a_gpu_falls_back_to_the_host_with_one_log_line(jpegs, caplog, monkeypatch):
    monkeypatch.setattr(device_decode, "_said_fallback", set())
    with caplog.at_level(logging.WARNING, logger="lfr_core.vision.device_decode"):
        first = decode_frames(jpegs, device="cuda", **LIMITS)
        second = decode_frames(jpegs[:1], device="cuda", **LIMITS)
    lines = [r.getMessage() for r in caplog.records if r.name == "lfr_core.vision.device_decode"]
    assert lines == ["JPEG decode: no GPU visible for device cuda; frames decode on the host (OpenCV)"]
    for data, image in zip(jpegs, first + second):
        assert isinstance(image, np.ndarray) and np.array_equal(image, decode_image(data, **LIMITS))


def test_a_bad_frame_is_refused_alone(jpegs):
    batch = [jpegs[0], jpegs[1][: len(jpegs[1]) // 2], b""]
    out = decode_frames(batch, device="cpu", **LIMITS)
    assert isinstance(out[0], np.ndarray)
    assert isinstance(out[1], ImageError) and out[1].reason == "truncated"
    assert isinstance(out[2], ImageError) and out[2].reason == "empty"


def test_torchvision_jpeg_decode_gives_the_host_decoders_pixels(jpegs):
    decoded = device_decode._decode_on_gpu(jpegs, "cpu")  # the device path's decoder, on the CPU
    for data, image in zip(jpegs, decoded):
        ours, host = to_bgr_array(image), decode_image(data, **LIMITS)
        assert ours.shape == host.shape
        gap = np.abs(ours.astype(int) - host.astype(int))
        assert float(gap.mean()) < 1.0 and int(gap.max()) <= 8  # IDCT and upsampling may differ by rounding
