"""decode_image: every kind of bad input is refused with its reason; odd but valid formats become BGR uint8."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import decode_image, load_image

LIMITS = {"max_pixels": 40_000_000, "max_bytes": 25_000_000}


def _png(arr_or_img, **kw) -> bytes:
    buf = io.BytesIO()
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _reason(data: bytes, **limits) -> str:
    with pytest.raises(ImageError) as e:
        decode_image(data, **{**LIMITS, **limits})
    assert str(e.value)
    return e.value.reason


def test_zero_byte_image_is_refused_as_empty():
    assert _reason(b"") == "empty"


def test_unreadable_bytes_are_refused_as_not_an_image():
    assert _reason(b"this is not an image at all" * 10) == "not_an_image"


def test_truncated_jpeg_and_png_are_refused():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))
    for data in (_jpeg(img), _png(img)):
        assert _reason(data[: len(data) // 2]) == "truncated"


def test_one_pixel_image_is_refused_as_too_small():
    assert _reason(_png(np.zeros((1, 1, 3), np.uint8))) == "too_small"


def test_encoded_size_above_limit_is_refused():
    data = _png(np.zeros((64, 64, 3), np.uint8))
    assert _reason(data, max_bytes=len(data) - 1) == "too_large"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height; no pixel data worth decoding (crafted, a few dozen bytes)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_huge_image_is_refused_from_its_header_before_decoding():
    data = _png_header_only(20_000, 20_000)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        reason = _reason(data)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reason == "too_many_pixels"
    assert elapsed < 0.5
    assert peak < 5_000_000  # decoding would need 1.2 GB


def test_grayscale_png_becomes_three_equal_channels():
    grey = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1))
    out = decode_image(_png(grey), **LIMITS)
    assert out.shape == (20, 50, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:, :, 0], grey) and np.array_equal(out[:, :, 2], grey)


def test_sixteen_bit_png_is_scaled_to_eight_bit():
    arr = np.full((32, 32, 3), 65535, np.uint16)
    arr[:, :, 0] = 0  # blue channel (cv2 writes BGR)
    ok, enc = cv2.imencode(".png", arr)
    assert ok
    out = decode_image(enc.tobytes(), **LIMITS)
    assert out.dtype == np.uint8 and out.shape == (32, 32, 3)
    assert out[0, 0].tolist() == [0, 255, 255]


def test_cmyk_jpeg_decodes_to_bgr_colours():
    red_cmyk = Image.new("CMYK", (64, 64), (0, 255, 255, 0))
    out = decode_image(_jpeg(red_cmyk), **LIMITS)
    assert out.shape == (64, 64, 3)
    b, g, r = out[32, 32].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_alpha_png_is_composited_on_white():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:8, :, :] = (255, 0, 0, 255)  # opaque red on top, transparent black below
    out = decode_image(_png(rgba), **LIMITS)
    assert out.shape == (16, 16, 3)
    assert out[0, 0].tolist() == [0, 0, 255]
    assert out[15, 0].tolist() == [255, 255, 255]


def test_yale_gif_without_extension_loads(faces_dir):
    out = load_image(faces_dir / "yale" / "subject01.glasses", **LIMITS)
    assert out.shape == (243, 320, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:, :, 0], out[:, :, 1])  # grey source


def test_pgm_loads_as_bgr(faces_dir):
    out = load_image(faces_dir / "orl" / "s1" / "1.pgm", **LIMITS)
    assert out.shape == (112, 92, 3)
