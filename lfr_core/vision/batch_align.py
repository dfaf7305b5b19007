"""Face alignment for a whole batch of frames in one warp, on the device the frames are on (torch).

The same similarity transform as `SFaceAligner` (landmarks to the ArcFace template, `similarity_matrix`), and
the same sampling as OpenCV's `warpAffine(INTER_LINEAR, BORDER_CONSTANT 0)`: each crop pixel centre mapped back
through the inverse transform and read bilinearly, outside the frame reading 0. Every face of every frame of
one size is sampled by one `grid_sample` call, so a GPU replica aligns a batch without a per-face host loop
and without copying the frames back. Crops equal OpenCV's to within `MAX_PIXEL_GAP` grey levels (OpenCV
interpolates in 1/32-pixel fixed point, torch in float; tests/vision/test_batch_align.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lfr_core.vision.aligner import ARCFACE_TEMPLATE, CROP_SIZE, similarity_matrix
from lfr_core.vision.types import Detection

if TYPE_CHECKING:
    import torch

MAX_PIXEL_GAP = 8  # grey levels, at most; the mean gap is well under 1 (tested)


def alignment_matrices(detections: Sequence[Detection]) -> np.ndarray:
    """(N, 2, 3) frame-to-crop transforms, as `SFaceAligner` computes them."""
    if not detections:
        return np.zeros((0, 2, 3))
    return np.stack([similarity_matrix(np.asarray(d.landmarks).reshape(5, 2), ARCFACE_TEMPLATE) for d in detections])


def _sampling_grid(matrices: torch.Tensor, height: int, width: int, size: int) -> torch.Tensor:
    """(N, size, size, 2) grid_sample coordinates (align_corners=False) of each crop pixel's source point,
    from (N, 2, 3) float64 frame-to-crop matrices (float64: a 1080p frame's coordinates need its precision)."""
    import torch

    n = len(matrices)
    full = torch.zeros((n, 3, 3), dtype=torch.float64, device=matrices.device)
    full[:, :2] = matrices
    full[:, 2, 2] = 1.0
    inverse = torch.linalg.inv(full)[:, :2]  # crop pixel -> frame pixel, as warpAffine applies it
    axis = torch.arange(size, dtype=torch.float64, device=matrices.device)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1)  # (size, size, 3)
    source = torch.einsum("nij,hwj->nhwi", inverse, points)
    # pixel centres: x in [-0.5, W - 0.5] spans [-1, 1]
    scale = torch.tensor([2.0 / width, 2.0 / height], dtype=torch.float64, device=matrices.device)
    return (source + 0.5) * scale - 1.0


def _places(owner: torch.Tensor, count: int) -> tuple[torch.Tensor, int]:
    """Each crop's place among its frame's crops (in input order), and the most crops any frame has."""
    import torch

    order = torch.sort(owner, stable=True).indices
    per_frame = torch.bincount(owner, minlength=count)
    first = torch.cumsum(per_frame, 0) - per_frame  # where each frame's crops start in `order`
    slot = torch.empty_like(owner)
    slot[order] = torch.arange(len(owner), device=owner.device) - first[owner[order]]
    return slot, int(per_frame.max())  # the one scalar the grid's shape needs on the host


def warp_batch(frames: torch.Tensor, matrices: np.ndarray | torch.Tensor, frame_of: Sequence[int] | torch.Tensor,
               size: int = CROP_SIZE) -> torch.Tensor:
    """Crops (N, C, size, size) float of frames (F, C, H, W) float, crop i warped from frame `frame_of[i]` by
    `matrices[i]` (frame-to-crop, OpenCV's convention), in one grid_sample call on the frames' device.
    `matrices` and `frame_of` may be tensors already on the device (the on-device pipeline): nothing then
    passes through the host but the largest number of crops in one frame."""
    import torch
    import torch.nn.functional as functional

    count, channels, height, width = frames.shape
    n = len(matrices)
    if n == 0:
        return frames.new_zeros((0, channels, size, size))
    device = frames.device
    matrices_t = torch.as_tensor(matrices, dtype=torch.float64).to(device)
    owner = torch.as_tensor(frame_of, dtype=torch.int64).to(device)
    slot, most = _places(owner, count)
    # Each frame's crops stacked along the grid's height; unused places point outside the frame (read 0).
    grid = torch.full((count, most, size, size, 2), -2.0, dtype=torch.float64, device=device)
    grid[owner, slot] = _sampling_grid(matrices_t, height, width, size)
    grid_t = grid.reshape(count, most * size, size, 2).to(frames.dtype)
    sampled = functional.grid_sample(frames, grid_t, mode="bilinear", padding_mode="zeros", align_corners=False)
    sampled = sampled.reshape(count, channels, most, size, size).permute(0, 2, 1, 3, 4)
    return sampled.reshape(count * most, channels, size, size).index_select(0, owner * most + slot)


def to_uint8(crops: torch.Tensor) -> torch.Tensor:
    """Round as OpenCV's saturate_cast does."""
    import torch

    return crops.round().clamp(0, 255).to(torch.uint8)


def align_frames(frames: Sequence[np.ndarray | torch.Tensor], detections: Sequence[Sequence[Detection]], *,
                 device: str = "cpu") -> list[list[np.ndarray]]:
    """112x112x3 uint8 crops per frame, as `SFaceAligner.align` gives them, warped on `device` in one call per
    frame size. Frames: HxWx3 uint8 arrays (host) or 3xHxW uint8 tensors (already on the device)."""
    import torch

    out: list[list[np.ndarray]] = [[] for _ in frames]
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, frame in enumerate(frames):
        if detections[i]:
            shape = tuple(frame.shape[1:]) if isinstance(frame, torch.Tensor) else tuple(frame.shape[:2])
            groups.setdefault(shape, []).append(i)
    for indices in groups.values():
        stacked = torch.stack([_chw(frames[i], device) for i in indices]).float()
        dets = [d for i in indices for d in detections[i]]
        frame_of = [k for k, i in enumerate(indices) for _ in detections[i]]
        crops = to_uint8(warp_batch(stacked, alignment_matrices(dets), frame_of)).permute(0, 2, 3, 1).cpu().numpy()
        start = 0
        for i in indices:
            out[i] = list(crops[start:start + len(detections[i])])
            start += len(detections[i])
    return out


def _chw(frame: np.ndarray | torch.Tensor, device: str) -> torch.Tensor:
    import torch

    if isinstance(frame, torch.Tensor):
        return frame.to(device)
    return torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1)
