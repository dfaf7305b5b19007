"""Build detector and embedder backends from settings; fail loudly on unknown names or missing weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lfr_core.config import Settings, get_settings
from lfr_core.vision.device import require_device
from lfr_core.vision.errors import ModelError
from lfr_core.vision.protocols import Detector, Embedder


def _require(path: Path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"{what} weights file not found: {p}")
    return p


# (detection cut, quality-gate cut) per detector: each scores faces on its own scale. SCRFD's scores run
# lower than YuNet's: with YuNet's cuts it failed to enrol 19 of the shared faces (rank-1 0.922), with its
# own 3 (rank-1 0.993, as YuNet); `lfr eval --detector scrfd`.
DETECTOR_SCORES: dict[str, tuple[float, float]] = {"yunet": (0.6, 0.7), "scrfd": (0.5, 0.5), "yolo": (0.6, 0.7)}


def detector_scores(s: Settings) -> tuple[float, float]:
    """The detection and quality-gate score cuts in force: the settings where set, else the detector's."""
    detect, gate = DETECTOR_SCORES[s.vision.detector]  # every backend in DETECTORS has its cuts (tested)
    v, q = s.vision.detector_score, s.quality.min_detector_score
    return (detect if v is None else v), (gate if q is None else q)


def _yunet(s: Settings) -> Detector:
    from lfr_core.vision import yunet

    w = _require(s.vision.detector_weights or yunet.default_weights(), "yunet")
    v = s.vision
    return yunet.YuNetDetector(w, input_size=v.detector_input, score=detector_scores(s)[0], nms_iou=v.nms_iou,
                               runtime=v.runtime, threads=v.threads, device=v.device)


def _scrfd(s: Settings) -> Detector:
    from lfr_core.vision import scrfd

    w = _require(s.vision.detector_weights or scrfd.default_weights(s.shared_dir), "scrfd")
    v = s.vision
    if v.runtime == "opencv":
        raise ModelError("scrfd runs on onnxruntime or torch, not opencv: set LFR_VISION__RUNTIME")
    return scrfd.SCRFDDetector(w, input_size=v.detector_input, score=detector_scores(s)[0], nms_iou=v.nms_iou,
                               threads=v.threads, device=v.device, runtime=v.runtime)


def _yolo(s: Settings) -> Detector:
    from lfr_core.vision import yolo

    v = s.vision
    w = _require(v.detector_weights, "yolo") if v.detector_weights is not None else None
    return yolo.YOLODetector(w, arch=v.yolo_arch, device=v.device, input_size=v.detector_input,
                             score=detector_scores(s)[0], nms_iou=v.nms_iou)


def _sface(s: Settings) -> Embedder:
    from lfr_core.vision import sface

    v = s.vision
    return sface.SFaceEmbedder(_require(v.embedder_weights or sface.default_weights(), "sface"), runtime=v.runtime,
                               threads=v.threads, device=v.device, precision=v.precision)


def _open_clip(s: Settings) -> Embedder:
    from lfr_core.vision import open_clip

    v = s.vision
    w = _require(v.embedder_weights, "open_clip") if v.embedder_weights is not None else None
    return open_clip.OpenCLIPEmbedder(w, arch=v.open_clip_arch, device=v.device)


DETECTORS: dict[str, Callable[[Settings], Detector]] = {"yunet": _yunet, "scrfd": _scrfd, "yolo": _yolo}
EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {"sface": _sface, "open_clip": _open_clip}


def _build(kind: str, table: dict[str, Callable[[Settings], Any]], name: str, s: Settings) -> Any:
    if name not in table:
        raise ModelError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(table))}")
    # Before any weights load: a GPU pod that sees no GPU fails here, whichever backend it runs.
    require_device(s.vision.device, f"{kind} {name}")
    return table[name](s)


def build_detector(settings: Settings | None = None) -> Detector:
    s = settings or get_settings()
    return _build("detector", DETECTORS, s.vision.detector, s)


def build_embedder(settings: Settings | None = None) -> Embedder:
    s = settings or get_settings()
    return _build("embedder", EMBEDDERS, s.vision.embedder, s)
