"""The GPU replica's frame pipeline (issue 29 item 2): resize -> YuNet -> decode and NMS -> live gate -> align
-> SFace -> top-1 match, all in torch on one device, for a batch of decoded frames (3xHxW RGB uint8 device
tensors from `device_decode`, or HxWx3 BGR arrays from the host decoder). Only the faces' boxes, landmarks,
scores, gate verdicts, embeddings and matches cross back to the host, in one copy per batch.

Every step repeats the CPU engine's arithmetic (`yunet._OnnxYuNet`, `quality.BasicQualityGate` for purpose
"live", `aligner.similarity_matrix`, `sface._blob`), so a list built on the CPU matches this pipeline's
probes (tests/vision/test_device_pipeline.py): the resize is OpenCV's (INTER_AREA coverage weights when
shrinking, INTER_LINEAR when enlarging), NMS runs on integer-truncated boxes as FaceDetectorYN's does, and
the models are the same float32 graphs (`onnx_fp32.float32_model`) run by `torch_graph.TorchSession`, so a
GPU needs torch, not onnxruntime-gpu.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lfr_core.config import Settings
from lfr_core.vision.aligner import ARCFACE_TEMPLATE
from lfr_core.vision.batch_align import to_uint8, warp_batch
from lfr_core.vision.device import is_gpu, require_device
from lfr_core.vision.errors import ModelError
from lfr_core.vision.onnx_fp32 import Precision, check_agreement, float32_model

if TYPE_CHECKING:
    import torch

    from lfr_core.vision.torch_graph import TorchSession

STRIDES = (8, 16, 32)  # YuNet's three heads
EMBEDDING_DIM = 128
# Columns of the one host copy per batch: frame, box (4), landmarks (10), score, passed, match index and score,
# then the embedding. Indices travel as float32, exact below 2**24 (a gallery is refused above that).
_FRAME, _BOX, _LMS, _SCORE, _PASSED, _MATCH, _EMB = 0, slice(1, 5), slice(5, 15), 15, 16, slice(17, 19), slice(19, 19 + 128)
MAX_GALLERY = 2**24


@dataclass(frozen=True)
class Match:
    index: int  # row of the gallery
    score: float  # cosine


@dataclass(frozen=True)
class DeviceFace:
    box: np.ndarray  # float32 (x1, y1, x2, y2) in source-frame pixels
    landmarks: np.ndarray  # float32 (5, 2), YuNet order
    score: float
    passed_gate: bool  # the live gate (size, detector score); a face failing it is never aligned
    embedding: np.ndarray | None  # float32 (128,), L2-normalised; None when the gate refused the face
    match: Match | None  # top-1 in the gallery; None without a gallery or an embedding

    @property
    def size(self) -> float:
        """Shorter side of the box, as `Detection.size` measures it."""
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass(frozen=True)
class _Detected:
    """One frame size's detections, on the device: rows of (x, y, w, h, 10 landmarks, score) in detector
    pixels, each row's frame (index into the batch), sorted by score within each frame."""

    faces: torch.Tensor
    frame: torch.Tensor


class DevicePipeline:
    """YuNet + SFace on one device (torch). Build with `from_settings`; `run` a batch of decoded frames."""

    def __init__(self, detector_weights: Path, embedder_weights: Path, *, device: str = "cpu",
                 precision: Precision = "fp32", input_size: int = 640, score: float = 0.6, nms_iou: float = 0.3,
                 top_k: int = 5000, min_face_px: int = 24, min_score: float = 0.7) -> None:
        from lfr_core.vision import sface, yunet

        require_device(device, "device pipeline")  # never a silent CPU run for a GPU asked for
        self.device = device
        self.input_size, self.score, self.nms_iou, self.top_k = input_size, score, nms_iou, top_k
        self.min_face_px, self.min_score = min_face_px, min_score
        # The detector stays fp32 (as on onnxruntime): fp16 boxes would move faces across the gate's cuts.
        self._detector = _session(float32_model(detector_weights, batch_heads=True), device, "fp32",
                                  {"input": (2, 3, 320, 320)}, "yunet")
        self._embedder = _session(float32_model(embedder_weights), device, precision,
                                  {"data": (8, 3, 112, 112)}, "sface")
        self._outputs = [o.name for o in self._detector.get_outputs()]
        self._gallery: torch.Tensor | None = None
        self.identity = {"detector": yunet.identity(detector_weights, f"{self._detector.label}/fp32"),
                         "embedder": sface.identity(embedder_weights, f"{self._embedder.label}/{precision}")}

    @classmethod
    def from_settings(cls, settings: Settings, *, device: str | None = None) -> DevicePipeline:
        """The pipeline the settings describe (YuNet and SFace only: the graphs this pipeline decodes)."""
        from lfr_core.vision import sface, yunet
        from lfr_core.vision.registry import detector_scores

        v = settings.vision
        if v.detector != "yunet" or v.embedder != "sface":
            raise ModelError(f"the device pipeline runs yunet + sface, not {v.detector} + {v.embedder}; "
                             "set LFR_VISION__DETECTOR=yunet and LFR_VISION__EMBEDDER=sface")
        detect_score, gate_score = detector_scores(settings)
        return cls(v.detector_weights or yunet.default_weights(), v.embedder_weights or sface.default_weights(),
                   device=device or v.device, precision=v.precision, input_size=v.detector_input,
                   score=detect_score, nms_iou=v.nms_iou, min_face_px=settings.quality.min_live_face_px,
                   min_score=gate_score)

    def set_gallery(self, gallery: np.ndarray | torch.Tensor | None) -> None:
        """The (n, 128) L2-normalised embeddings each face's top-1 is found among, kept on the device."""
        import torch

        if gallery is None:
            self._gallery = None
            return
        if gallery.ndim != 2 or gallery.shape[1] != EMBEDDING_DIM or not 0 < len(gallery) < MAX_GALLERY:
            raise ValueError(f"gallery must be (n, {EMBEDDING_DIM}) with 0 < n < {MAX_GALLERY}, got {tuple(gallery.shape)}")
        self._gallery = torch.as_tensor(gallery).to(self.device, torch.float32)

    def run(self, frames: Sequence[np.ndarray | torch.Tensor]) -> list[list[DeviceFace]]:
        """Per frame, its faces (score order). Frames of one size share a detector forward and a warp; the
        embedder and the match run once for the batch."""
        import torch

        chw = [_to_rgb_chw(f, self.device) for f in frames]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, frame in enumerate(chw):
            groups.setdefault((frame.shape[1], frame.shape[2]), []).append(i)
        rows, crops = [], []
        with torch.inference_mode():
            for indices in groups.values():
                stacked = torch.stack([chw[i] for i in indices]).float()
                group_rows, group_crops = self._detect_and_align(stacked)
                group_rows[:, _FRAME] = torch.as_tensor(indices, device=stacked.device)[group_rows[:, _FRAME].long()]
                rows.append(group_rows)
                crops.append(group_crops)
            table = self._embed_and_match(torch.cat(rows) if rows else _empty_rows(self.device),
                                          torch.cat(crops) if crops else None)
        return _records(table.cpu().numpy(), len(frames), with_match=self._gallery is not None)

    def _detect_and_align(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows (frame in the group, source box, landmarks, score, passed) of frames (F, 3, H, W) float RGB of
        one size, and the passing faces' 112x112 RGB crops, rounded as OpenCV's uint8 crops are."""
        import torch

        height, width = frames.shape[2:]
        scale = self.input_size / max(height, width)  # what resize_longest applies, boxes are divided by it
        resized = resize_for_detector(frames, self.input_size)
        detected = self._detect(resized)
        box, landmarks = _to_source(detected.faces, scale)
        score = detected.faces[:, 14]
        passed = live_gate(box, score, self.min_face_px, self.min_score)
        matrices = similarity_matrices(landmarks[passed])
        crops = to_uint8(warp_batch(frames, matrices, detected.frame[passed])).float()
        rows = torch.cat([detected.frame[:, None].float(), box, landmarks.reshape(-1, 10), score[:, None],
                          passed[:, None].float()], dim=1)
        return rows, crops

    def _detect(self, resized: torch.Tensor) -> _Detected:
        """YuNet on frames of one size: one forward, then the heads decoded and suppressed per frame."""
        pad_w = -(-resized.shape[3] // 32) * 32
        outputs = self._detector.forward(detector_blob(resized))
        faces, frame = decode_heads(dict(zip(self._outputs, outputs)), pad_w, self.score)
        keep = nms_like_opencv(faces, frame, self.nms_iou, self.top_k)
        return _Detected(faces[keep], frame[keep])

    def _embed_and_match(self, rows: torch.Tensor, crops: torch.Tensor | None) -> torch.Tensor:
        """`rows` extended by the match (index, score) and the embedding: zeros for faces the gate refused."""
        import torch

        table = torch.zeros((len(rows), _EMB.start + EMBEDDING_DIM), dtype=torch.float32, device=rows.device)
        table[:, :_MATCH.start] = rows
        passed = rows[:, _PASSED] > 0
        if crops is None or len(crops) == 0:
            return table
        embeddings = l2_normalise(self._embedder.forward(crops)[0].float())
        table[passed, _EMB] = embeddings
        if self._gallery is not None:
            best_score, best = (embeddings @ self._gallery.T).max(dim=1)
            table[passed, _MATCH] = torch.stack([best.float(), best_score], dim=1)
        return table


def _session(model: bytes, device: str, precision: Precision, probe: dict[str, tuple[int, ...]],
             what: str) -> TorchSession:
    """A TorchSession on `device`; off the CPU float32 path it must first agree with the CPU float32 graph
    (as `onnx_fp32.check_agreement` requires of onnxruntime's GPU providers), or a list would not match."""
    from lfr_core.vision.torch_graph import TorchSession

    made = TorchSession(model, device=device, precision=precision)
    if is_gpu(device) or precision != "fp32":
        feeds = {name: np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
                 for name, shape in probe.items()}
        check_agreement(TorchSession(model), made, feeds, f"{what} on torch {device} {precision}")
    return made


def _to_rgb_chw(frame: np.ndarray | torch.Tensor, device: str) -> torch.Tensor:
    """3xHxW RGB uint8 on `device`: a device-decoded tensor as it is, a host BGR array uploaded once."""
    import torch

    if isinstance(frame, torch.Tensor):
        if frame.dtype != torch.uint8 or frame.ndim != 3 or frame.shape[0] != 3:
            raise ValueError(f"expected 3xHxW uint8 RGB tensors, got {tuple(frame.shape)} {frame.dtype}")
        return frame.to(device)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected HxWx3 uint8 BGR images, got {frame.shape} {frame.dtype}")
    return torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1).flip(0)


@functools.lru_cache(maxsize=64)
def _area_weights(src: int, dst: int) -> np.ndarray:
    """(dst, src) weights of OpenCV's INTER_AREA when shrinking (imgproc resize.cpp computeResizeAreaTab): each
    output pixel the coverage-weighted mean of the input pixels its cell overlaps."""
    scale = 1.0 / (dst / src)  # as cv::resize derives it from the sizes
    weights = np.zeros((dst, src))
    for d in range(dst):
        start, stop = d * scale, d * scale + scale
        cell = min(scale, src - start)
        first, last = math.ceil(start), math.floor(stop)
        last = min(last, src - 1)
        first = min(first, last)
        if first - start > 1e-3:
            weights[d, first - 1] = (first - start) / cell
        weights[d, first:last] = 1.0 / cell
        if stop - last > 1e-3:
            weights[d, last] = min(stop - last, 1.0, cell) / cell
    return weights


@functools.lru_cache(maxsize=64)
def _linear_taps(src: int, dst: int, clamp_edges: bool) -> tuple[np.ndarray, ...]:
    """OpenCV's INTER_LINEAR taps for 8-bit images (resize.cpp): per output pixel two source indices and their
    weights in its 1/2048 fixed point. Columns clamp the position at the edges; rows keep the fraction and
    clamp only the indices, as OpenCV does."""
    scale = 1.0 / (dst / src)
    first, second, w_first, w_second = (np.zeros(dst, np.int64) for _ in range(4))
    for d in range(dst):
        position = np.float32((d + 0.5) * scale - 0.5)
        left = math.floor(position)
        frac = np.float32(position - left)
        if clamp_edges and left < 0:
            left, frac = 0, np.float32(0)
        if clamp_edges and left >= src - 1:
            left, frac = src - 1, np.float32(0)
        first[d], second[d] = min(max(left, 0), src - 1), min(max(left + 1, 0), src - 1)
        w_first[d], w_second[d] = round(float(np.float32(1) - frac) * 2048), round(float(frac) * 2048)
    return first, second, w_first, w_second


def _resize_linear(frames: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """cv2.resize(INTER_LINEAR) of 0-255 integer frames, bit-exact: the horizontal pass in exact integers, the
    vertical with the truncations of OpenCV's SIMD pass (VResizeLinearVec_32s8u: sums >> 4, products >> 16,
    then + 2 >> 2)."""
    import torch

    def taps(src: int, dst: int, clamp: bool) -> list[torch.Tensor]:
        return [torch.as_tensor(t, device=frames.device) for t in _linear_taps(src, dst, clamp)]

    left, right, w_left, w_right = taps(frames.shape[3], out_w, True)
    rows = frames.index_select(3, left) * w_left + frames.index_select(3, right) * w_right  # < 2**20: exact
    rows_i = rows.to(torch.int32)
    top, bottom, w_top, w_bottom = taps(frames.shape[2], out_h, False)
    upper = (w_top[:, None].int() * (rows_i.index_select(2, top) >> 4)) >> 16
    lower = (w_bottom[:, None].int() * (rows_i.index_select(2, bottom) >> 4)) >> 16
    return ((upper + lower + 2) >> 2).clamp(0, 255).to(frames.dtype)


def resize_for_detector(frames: torch.Tensor, longest: int) -> torch.Tensor:
    """`yunet.resize_longest` on the device: (F, C, H, W) float frames of 0-255 values resized so the longest
    side is `longest`, with OpenCV's weights, rounded to integers as its uint8 output is (INTER_LINEAR
    bit-exact, INTER_AREA within one grey level on a few pixels in 10,000: float sums)."""
    import torch
    import torch.nn.functional as functional

    height, width = frames.shape[2:]
    scale = longest / max(height, width)
    if abs(scale - 1.0) < 1e-6:
        return frames
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    if scale < 1 and height % out_h == 0 and width % out_w == 0:
        # An integer factor (1080p to 640x360): area averaging is average pooling, far cheaper than two products.
        resized = functional.avg_pool2d(frames, (height // out_h, width // out_w))
    elif scale < 1:
        rows = torch.as_tensor(_area_weights(height, out_h), dtype=frames.dtype, device=frames.device)
        cols = torch.as_tensor(_area_weights(width, out_w), dtype=frames.dtype, device=frames.device)
        resized = rows @ frames @ cols.T  # separable: OpenCV sums along rows, then columns
    else:
        return _resize_linear(frames, out_h, out_w)
    return resized.round().clamp(0, 255)


def detector_blob(resized: torch.Tensor) -> torch.Tensor:
    """YuNet's input: BGR (FaceDetectorYN's order), padded bottom and right with zeros to a multiple of 32."""
    import torch.nn.functional as functional

    height, width = resized.shape[2:]
    pad_h, pad_w = -(-height // 32) * 32, -(-width // 32) * 32
    return functional.pad(resized.flip(1), (0, pad_w - width, 0, pad_h - height))


def decode_heads(out: dict[str, torch.Tensor], pad_w: int, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """`_OnnxYuNet._decode` for a batch: rows (x, y, w, h, 10 landmarks, score) in detector pixels of every
    anchor scoring above `threshold`, and each row's frame."""
    import torch

    rows, frames = [], []
    for stride in STRIDES:
        cols = pad_w // stride
        cls = out[f"cls_{stride}"].reshape(out[f"cls_{stride}"].shape[0], -1)
        score = torch.sqrt(cls.clamp(0, 1) * out[f"obj_{stride}"].reshape(cls.shape).clamp(0, 1))
        # OpenCV's NMSBoxes keeps scores strictly above its threshold (after the decoder's >=): net, above.
        frame, anchor = torch.nonzero(score > threshold, as_tuple=True)
        cell = torch.stack([anchor % cols, anchor // cols], dim=1).float()
        bbox = out[f"bbox_{stride}"].reshape(cls.shape[0], -1, 4)[frame, anchor]
        centre = (cell + bbox[:, :2]) * stride
        size = torch.exp(bbox[:, 2:]) * stride
        landmarks = (out[f"kps_{stride}"].reshape(cls.shape[0], -1, 5, 2)[frame, anchor] + cell[:, None, :]) * stride
        rows.append(torch.cat([centre - size / 2, size, landmarks.reshape(-1, 10), score[frame, anchor, None]], 1))
        frames.append(frame)
    return torch.cat(rows), torch.cat(frames)


def nms_like_opencv(faces: torch.Tensor, frame: torch.Tensor, iou: float, top_k: int) -> torch.Tensor:
    """Indices kept by per-frame NMS on the integer-truncated (x, y, w, h) boxes, as FaceDetectorYN suppresses,
    in score order within each frame; at most `top_k` per frame (OpenCV caps the candidates before NMS, which
    keeps the same faces whenever a frame has fewer than top_k candidates: YuNet's 5000 always)."""
    import torch
    from torchvision.ops import batched_nms

    xywh = faces[:, :4].trunc()  # numpy astype(int32) truncates toward zero
    boxes = torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], dim=1)
    keep = batched_nms(boxes, faces[:, 14], frame, iou)  # global score order, so score order per frame
    order = torch.sort(frame[keep], stable=True).indices
    keep = keep[order]
    per_frame = torch.bincount(frame[keep])
    first = (torch.cumsum(per_frame, 0) - per_frame)[frame[keep]]
    rank = torch.arange(len(keep), device=keep.device) - first
    return keep[rank < top_k]


def _to_source(faces: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes (x1, y1, x2, y2) and landmarks (N, 5, 2) in source pixels, as `yunet._detections` computes them."""
    import torch

    x, y, w, h = faces[:, 0], faces[:, 1], faces[:, 2], faces[:, 3]
    box = torch.stack([x, y, x + w, y + h], dim=1) / scale
    return box, faces[:, 4:14].reshape(-1, 5, 2) / scale


def live_gate(box: torch.Tensor, score: torch.Tensor, min_face_px: int, min_score: float) -> torch.Tensor:
    """`BasicQualityGate.detection_reasons(purpose="live")` is empty: the box's shorter side at least
    `min_face_px` and the detector score at least `min_score`."""
    import torch

    size = torch.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    return (size >= min_face_px) & (score >= min_score)


def similarity_matrices(landmarks: torch.Tensor) -> torch.Tensor:
    """(N, 2, 3) float64 least-squares similarity transforms of (N, 5, 2) landmarks onto ARCFACE_TEMPLATE:
    `aligner.similarity_matrix` batched. In 2-D Umeyama's rotation-and-scale is [[a, -b], [b, a]] with a and b
    the normalised dot and cross sums of the centred points, the same minimiser without a batched SVD."""
    import torch

    src = landmarks.to(torch.float64)
    dst = torch.as_tensor(ARCFACE_TEMPLATE, dtype=torch.float64, device=src.device).expand_as(src)
    src_mean, dst_mean = src.mean(dim=1), dst.mean(dim=1)
    src_c, dst_c = src - src_mean[:, None], dst - dst_mean[:, None]
    variance = (src_c ** 2).sum(dim=(1, 2))
    dot = (src_c * dst_c).sum(dim=(1, 2))
    cross = (src_c[..., 0] * dst_c[..., 1] - src_c[..., 1] * dst_c[..., 0]).sum(dim=1)
    degenerate = variance <= 0  # all landmarks equal: similarity_matrix's identity and scale 1
    safe = torch.where(degenerate, torch.ones_like(variance), variance)
    a = torch.where(degenerate, torch.ones_like(dot), dot / safe)
    b = torch.where(degenerate, torch.zeros_like(cross), cross / safe)
    linear = torch.stack([torch.stack([a, -b], dim=1), torch.stack([b, a], dim=1)], dim=1)  # (N, 2, 2)
    shift = dst_mean - (linear @ src_mean[:, :, None])[..., 0]
    return torch.cat([linear, shift[:, :, None]], dim=2)


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    """`types.l2_normalise` on the device."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _empty_rows(device: str) -> torch.Tensor:
    import torch

    return torch.zeros((0, _MATCH.start), dtype=torch.float32, device=device)


def _records(table: np.ndarray, frames: int, *, with_match: bool) -> list[list[DeviceFace]]:
    """The host copy of a batch's faces as frozen records, per frame, in score order."""
    out: list[list[DeviceFace]] = [[] for _ in range(frames)]
    for row in table:
        passed = bool(row[_PASSED] > 0)
        match = Match(int(row[_MATCH][0]), float(row[_MATCH][1])) if passed and with_match else None
        out[int(row[_FRAME])].append(DeviceFace(
            box=row[_BOX].copy(), landmarks=row[_LMS].reshape(5, 2).copy(), score=float(row[_SCORE]),
            passed_gate=passed, embedding=row[_EMB].copy() if passed else None, match=match))
    return out
