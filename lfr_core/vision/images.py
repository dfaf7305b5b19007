"""Decode untrusted image bytes into BGR uint8 arrays, refusing hostile or broken input early.

The header is read lazily with PIL first so that oversized images are refused before any pixel is
decoded (a 20000x20000 PNG is a few KB on disk and 1.2 GB in memory). JPEG/PNG/BMP/WebP/TIFF then go
through cv2.imdecode (fast, libjpeg-turbo, handles CMYK JPEG); GIF, PGM and other formats through PIL.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from lfr_core.vision.errors import ImageError

# Captured at import: ultralytics replaces Image.open process-wide with a version that tries to pip-install
# a HEIF plugin when a file is not an image, which turns "not an image" into ModuleNotFoundError.
_PIL_OPEN = Image.open
MIN_SIDE = 8  # below this nothing can hold a face; 1x1 "images" are tracking pixels or corrupt uploads
_CV2_FORMATS = {"JPEG", "PNG", "BMP", "WEBP", "TIFF"}


def _header(data: bytes) -> tuple[str, int, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = _PIL_OPEN(io.BytesIO(data))
            return str(im.format), int(im.width), int(im.height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError("too_many_pixels", f"image refused: {e}") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageError("not_an_image", "not a readable image (use JPEG, PNG, GIF, BMP, WebP, TIFF or PGM)") from e


def _looks_truncated(fmt: str, data: bytes) -> bool:
    tail = data[-1024:].rstrip(b"\x00\r\n ")
    if fmt == "JPEG":
        return not tail.endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" not in tail[-64:]
    return False


def _to_bgr8(arr: np.ndarray, *, rgb_order: bool) -> np.ndarray:
    """Any depth / channel count to HxWx3 uint8 BGR. Alpha is composited on white."""
    if arr.dtype != np.uint8:
        a = arr.astype(np.float32)
        if arr.dtype == np.uint16 or a.max(initial=0) > 255:
            a = a / 257.0 if arr.dtype == np.uint16 else a * (255.0 / max(float(a.max()), 1.0))
        elif arr.dtype.kind == "f" and a.max(initial=0) <= 1.0:
            a = a * 255.0
        arr = np.clip(a + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    if arr.ndim == 3 and arr.shape[2] == 1:
        return cv2.cvtColor(arr[:, :, 0], cv2.COLOR_GRAY2BGR)
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha
        grey, alpha = arr[:, :, 0].astype(np.float32), arr[:, :, 1:2].astype(np.float32) / 255.0
        g = (grey[:, :, None] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)[:, :, 0]
        return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    if arr.ndim == 3 and arr.shape[2] == 4:
        colour, alpha = arr[:, :, :3].astype(np.float32), arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (colour * alpha + 255.0 * (1 - alpha) + 0.5).astype(np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ImageError("not_an_image", f"unsupported pixel layout {arr.shape}")
    arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if rgb_order else arr
    return np.ascontiguousarray(arr)


def _decode_pil(data: bytes) -> np.ndarray:
    try:
        im: Image.Image = Image.open(io.BytesIO(data))
        im.load()  # raises OSError on truncated data (LOAD_TRUNCATED_IMAGES stays False)
    # Pillow reports a broken PNG chunk as SyntaxError, and a tile outside the declared size as ValueError
    # (found by tests/vision/test_image_fuzz.py).
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError("truncated", "image data is truncated or corrupt; re-export or re-upload it") from e
    if im.mode == "CMYK" or im.mode == "P" or im.mode == "PA" or im.mode.startswith("YCbCr") or im.mode == "1":
        im = im.convert("RGBA" if ("transparency" in im.info or im.mode == "PA") else "RGB")
    elif im.mode in ("I", "F"):
        arr = np.asarray(im)
        return _to_bgr8(arr.astype(np.float32) * (255.0 / max(float(arr.max()), 1.0)), rgb_order=False)
    elif im.mode.startswith("I;16"):
        return _to_bgr8(np.asarray(im).astype(np.uint16), rgb_order=False)
    elif im.mode == "LA":
        pass
    elif im.mode not in ("L", "RGB", "RGBA"):
        im = im.convert("RGB")
    return _to_bgr8(np.asarray(im), rgb_order=True)


def check_header(data: bytes, *, max_pixels: int, max_bytes: int) -> str:
    """The image's format, once its size, header, pixel count and (JPEG/PNG) ending pass; else ImageError.
    Nothing is decoded: the GPU decoder (device_decode.py) runs the same checks first."""
    if not data:
        raise ImageError("empty", "image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageError("too_large", f"image is {len(data)} bytes, above the limit of {max_bytes}; downscale it")
    fmt, w, h = _header(data)
    if w * h > max_pixels:
        raise ImageError("too_many_pixels", f"image is {w}x{h} = {w * h} pixels, above {max_pixels}; downscale it")
    if min(w, h) < MIN_SIDE:
        raise ImageError("too_small", f"image is {w}x{h}; at least {MIN_SIDE} px per side is needed")
    if fmt in _CV2_FORMATS and _looks_truncated(fmt, data):
        raise ImageError("truncated", f"{fmt} data is truncated; re-export or re-upload the image")
    return fmt


def decode_image(data: bytes, *, max_pixels: int, max_bytes: int) -> np.ndarray:
    """Bytes of an image file to an HxWx3 uint8 BGR array, or ImageError with a reason code."""
    fmt = check_header(data, max_pixels=max_pixels, max_bytes=max_bytes)
    if fmt in _CV2_FORMATS:
        flag = cv2.IMREAD_COLOR if fmt == "JPEG" else cv2.IMREAD_UNCHANGED
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        if arr is not None:
            return _to_bgr8(arr, rgb_order=False)
    return _decode_pil(data)


def load_image(path: str | Path, *, max_pixels: int, max_bytes: int) -> np.ndarray:
    """Read and decode an image file with the same checks as `decode_image` (size checked before reading)."""
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise ImageError("too_large", f"{p} is {size} bytes, above the limit of {max_bytes}")
    return decode_image(p.read_bytes(), max_pixels=max_pixels, max_bytes=max_bytes)
