"""Image decoding under fuzzing: any bytes give a BGR uint8 image within the limits or an ImageError with a
reason, never another exception (a crash in a build or a live replica) and never an oversized allocation."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import decode_image

LIMITS = {"max_pixels": 2_000_000, "max_bytes": 1_000_000}


def _check(data: bytes) -> None:
    try:
        image = decode_image(data, **LIMITS)
    except ImageError as e:
        assert e.reason and str(e)
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] * image.shape[1] <= LIMITS["max_pixels"]


def _encoded(fmt: str, size: tuple[int, int], mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128).save(out, fmt)
    return out.getvalue()


SEEDS = [_encoded("JPEG", (64, 48), "RGB"), _encoded("PNG", (40, 30), "RGBA"), _encoded("PNG", (20, 20), "I;16"),
         _encoded("GIF", (16, 16), "P"), _encoded("BMP", (10, 12), "RGB"), _encoded("WEBP", (32, 32), "RGB")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=12),
       st.integers(0, 4096))
def test_mutated_images_decode_or_are_refused_with_a_reason(seed, flips, cut):
    data = bytearray(seed)
    for position, value in flips:
        data[position % len(data)] = value
    _check(bytes(data[: max(cut, 1)] if cut < len(data) else data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_decode_or_are_refused_with_a_reason(data):
    _check(data)
