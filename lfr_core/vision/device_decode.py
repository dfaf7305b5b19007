"""Decode a batch of JPEG frames on the GPU (torchvision's nvJPEG `decode_jpeg(device="cuda")`), or on the host
when no GPU is present, with the same refusals as `images.decode_image` (size, pixels, truncation) checked
on the header first.

The GPU path returns 3xHxW RGB uint8 tensors on the device, which the batched alignment reads in place
(`batch_align.align_frames`); the host path returns HxWx3 BGR arrays, as the rest of the engine takes them.
A host fallback for a device asked for is said once, in one log line: a CPU-bound GPU replica must show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lfr_core.vision.device import is_gpu
from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import check_header, decode_image

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
_said_fallback: set[str] = set()


def gpu_decode_available(device: str) -> bool:
    if not is_gpu(device):
        return False
    import torch

    return bool(torch.cuda.is_available())


def decode_frames(frames: Sequence[bytes], *, device: str, max_pixels: int,
                  max_bytes: int) -> list[np.ndarray | torch.Tensor | ImageError]:
    """Per frame: the decoded image (a device tensor, 3xHxW RGB, when decoded on the GPU; else an HxWx3 BGR
    array) or the ImageError that refused it. JPEGs decode on the GPU in one call when `device` is a visible
    GPU; other formats, and every frame without one, on the host."""
    out: list[np.ndarray | torch.Tensor | ImageError] = []
    on_gpu: list[int] = []
    gpu = gpu_decode_available(device)
    if is_gpu(device) and not gpu and device not in _said_fallback:
        _said_fallback.add(device)
        log.warning("JPEG decode: no GPU visible for device %s; frames decode on the host (OpenCV)", device)
    for i, data in enumerate(frames):
        try:
            fmt = check_header(data, max_pixels=max_pixels, max_bytes=max_bytes)
            if gpu and fmt == "JPEG":
                out.append(ImageError("pending", ""))  # filled below
                on_gpu.append(i)
            else:
                out.append(decode_image(data, max_pixels=max_pixels, max_bytes=max_bytes))
        except ImageError as e:  # per frame: one bad upload must not fail the batch
            out.append(e)
    if on_gpu:
        decoded: list[torch.Tensor | ImageError]
        try:
            decoded = list(_decode_on_gpu([frames[i] for i in on_gpu], device))
        except RuntimeError:  # nvJPEG refuses the whole batch for one bad frame: find it, one by one
            decoded = [_decode_one_on_gpu(frames[i], device) for i in on_gpu]
        for i, image in zip(on_gpu, decoded):
            out[i] = image
    return out


def _decode_one_on_gpu(frame: bytes, device: str) -> torch.Tensor | ImageError:
    try:
        return _decode_on_gpu([frame], device)[0]
    except RuntimeError:
        return ImageError("truncated", "JPEG data is corrupt; re-export or re-upload the image")


def _decode_on_gpu(frames: list[bytes], device: str) -> list[torch.Tensor]:
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    data = [torch.frombuffer(bytearray(f), dtype=torch.uint8) for f in frames]
    return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))


def to_bgr_array(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """An HxWx3 BGR uint8 array of either kind of decoded frame (copies a device tensor to the host)."""
    if isinstance(image, np.ndarray):
        return image
    return np.ascontiguousarray(image.flip(0).permute(1, 2, 0).cpu().numpy())
