"""The production pipeline on a device (issue 29 item 3): decode -> detect -> gate -> align -> embed -> match
against a 10,000-subject list, with the shipped models (YuNet, SFace) through the product's own code, at
640x360 and 1080p, on the clip (a few faces a frame) and the crowd photos (many), at batch sizes 1 to 64.

Two pipelines run in the same process on the same machine:
- device: what a GPU replica runs (`lfr_core.vision.device_pipeline.DevicePipeline`, torch only, no
  onnxruntime-gpu): JPEGs decoded on the device (`device_decode`, nvJPEG), then resize, YuNet (batched over
  frames of one size), the live gate, one warp for every face, SFace and the list's top-1 all on the device;
  only boxes, scores, landmarks, embeddings and matches come back to the host, once per batch;
- cpu: the CPU replica's pipeline (OpenCV decode, one frame per detector run, per-face warpAffine, SFace on
  one CPU thread, numpy match): the baseline, at batch 1 and 8, on onnxruntime's CPU provider, or on OpenCV
  DNN where onnxruntime is not installed (the JSON says which).
Per batch: frames/s (frames over mean batch latency, one batch at a time), p95 batch latency, CPU ms per frame
(process CPU time over frames: every thread), and on a GPU its utilisation (NVML, sampled while measuring)
and peak memory. Cameras at 5 fps one device serves with p95 <= 250 ms: the best frames/s among batches whose
p95 stays within 250 ms, over 5. With `--device cpu` the device pipeline's code runs on the CPU (a
rehearsal, not a figure).

Run: `python bench/gpu.py` (CUDA; `bench/gpu_device.sh` is the one-shot script for a lent GPU), or
`python bench/gpu.py --device cpu --quick` (about a minute here). Last stdout line: one JSON object.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from lfr_core.vision.device_pipeline import DevicePipeline
    from lfr_core.vision.engine import FaceEngine

SIZES = {"640x360": (640, 360), "1080p": (1920, 1080)}
CAMERA_FPS = 5.0
P95_BUDGET_MS = 250.0
SUBJECTS = 10_000
CPU_BATCHES = (1, 8)


def _fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop to the size's aspect, then resize: a camera's frame of that size."""
    w, h = size
    ih, iw = image.shape[:2]
    if iw * h > ih * w:
        cw = ih * w // h
        image = image[:, (iw - cw) // 2:(iw - cw) // 2 + cw]
    else:
        ch = iw * h // w
        image = image[(ih - ch) // 2:(ih - ch) // 2 + ch]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if image.shape[1] > w else cv2.INTER_LINEAR)


def camera_jpegs(shared: Path, n_clip: int) -> dict[tuple[str, str], list[bytes]]:
    """JPEG frames (quality 90, as the feed sends) per (source, size): the clip's frames and the crowd photos."""
    from lfr_core.vision.images import load_image
    from lfr_ops.feed import frames as video_frames

    clip = list(itertools.islice(video_frames(str(shared / "data/video/short_hamilton_clip.mp4"), fps=10.0), n_clip))
    crowd = [load_image(p, max_pixels=100_000_000, max_bytes=100_000_000)
             for p in sorted((shared / "data/crowd").glob("*.jpg"))]
    out = {}
    for source, images in (("clip", clip), ("crowd", crowd)):
        for name, size in SIZES.items():
            out[(source, name)] = [cv2.imencode(".jpg", _fit(im, size), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
                                   for im in images]
    return out


@dataclass
class Stages:
    """The models and the list both pipelines share."""

    pipeline: DevicePipeline  # on the device, with the gallery
    cpu_engine: FaceEngine  # on the CPU
    gallery: np.ndarray  # (SUBJECTS, 128) float32, L2-normalised
    threshold: float


class Matcher:
    """Top-1 of each embedding in the list, in numpy (the CPU replica's match)."""

    def __init__(self, gallery: np.ndarray) -> None:
        self.gallery = gallery

    def __call__(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(embeddings) == 0:
            return np.zeros(0, int), np.zeros(0, np.float32)
        scores = embeddings @ self.gallery.T
        best = scores.argmax(axis=1)
        return best, scores[np.arange(len(best)), best]


def device_pipeline(stages: Stages, device: str, limits: dict) -> Callable[[list[bytes]], tuple[int, int]]:
    """decode (device) -> resize -> detect -> gate -> align -> embed -> match, all on the device."""
    from lfr_core.vision.device_decode import decode_frames

    def run(jpegs: list[bytes]) -> tuple[int, int]:
        frames = [f for f in decode_frames(jpegs, device=device, **limits) if not isinstance(f, Exception)]
        faces = [f for row in stages.pipeline.run(frames) for f in row if f.passed_gate]
        return len(faces), sum(f.match is not None and f.match.score >= stages.threshold for f in faces)

    return run


def cpu_pipeline(stages: Stages, limits: dict) -> Callable[[list[bytes]], tuple[int, int]]:
    """The CPU replica's pipeline (lfr_core.live.pipeline.detect_faces), then embed and match in numpy."""
    from lfr_core.live.pipeline import detect_faces
    from lfr_core.vision.images import decode_image

    engine = stages.cpu_engine
    match = Matcher(stages.gallery)

    def run(jpegs: list[bytes]) -> tuple[int, int]:
        frames = [decode_image(j, **limits) for j in jpegs]
        crops = [f.crop for row in detect_faces(engine, frames) for f in row if f.crop is not None]
        embeddings = engine.embedder.embed_batch(crops) if crops else np.zeros((0, 128), np.float32)
        _, scores = match(embeddings)
        return len(crops), int((scores >= stages.threshold).sum())

    return run


class GpuSampler:
    """GPU utilisation (NVML, every 50 ms) while a measurement runs; None without a GPU or NVML."""

    def __init__(self, index: int | None) -> None:
        self.handle = None
        if index is not None:
            try:
                import pynvml

                pynvml.nvmlInit()
                self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                self.nvml = pynvml
            except Exception:  # NVML missing or refused: the figure is absent, said as null
                self.handle = None
        self.samples: list[float] = []
        self.memory_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> GpuSampler:
        self.samples, self._stop = [], threading.Event()
        if self.handle is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append(float(self.nvml.nvmlDeviceGetUtilizationRates(self.handle).gpu))
            self.memory_mb = max(self.memory_mb, self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used / 2**20)

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self.handle is not None:
            self._thread.join()

    @property
    def utilisation(self) -> float | None:
        return round(float(np.mean(self.samples)), 1) if self.samples else None


def measure(run: Callable[[list[bytes]], tuple[int, int]], jpegs: list[bytes], batch: int, seconds: float,
            sampler: GpuSampler) -> dict:
    """One batch at a time for `seconds` (at least 3 batches), after one warm-up batch."""
    chunks = [[jpegs[(start + i) % len(jpegs)] for i in range(batch)] for start in range(0, len(jpegs), batch)]
    run(chunks[0])
    latencies, faces, matches = [], 0, 0
    with sampler:
        cpu0, start = time.process_time(), time.perf_counter()
        for chunk in itertools.cycle(chunks):
            t = time.perf_counter()
            n, m = run(chunk)
            latencies.append(time.perf_counter() - t)
            faces, matches = faces + n, matches + m
            if time.perf_counter() - start >= seconds and len(latencies) >= 3:
                break
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    frames = batch * len(latencies)
    return {"batch": batch, "frames_per_s": round(frames / wall, 2),
            "p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1),
            "cpu_ms_per_frame": round(cpu * 1000 / frames, 2), "faces_per_frame": round(faces / frames, 2),
            "matches_per_frame": round(matches / frames, 3), "gpu_util_pct": sampler.utilisation}


def best_within_budget(rows: list[dict]) -> dict | None:
    """The row of the best frames/s whose p95 stays within the budget; None when no batch keeps it."""
    return max((r for r in rows if r["p95_ms"] <= P95_BUDGET_MS), key=lambda r: r["frames_per_s"], default=None)


def cameras_served(rows: list[dict]) -> int:
    """Cameras at CAMERA_FPS that the best batch within the p95 budget serves."""
    best = best_within_budget(rows)
    return int(best["frames_per_s"] // CAMERA_FPS) if best else 0


def serve_batch(rows: list[dict]) -> dict | None:
    """The fused detector's `@serve.batch` from this measurement (Terraform's gpu_serve_batch): the batch of the
    best frames/s whose p95 stays within the budget, waiting at most that batch's mean latency to fill (at full
    load frames arrive at about that rate, so the device never idles longer than a batch takes). None when no
    batch keeps p95 within the budget."""
    best = best_within_budget(rows)
    if best is None:
        return None
    wait = 0.0 if best["batch"] == 1 else round(best["batch"] / best["frames_per_s"], 4)  # a batch of one is full
    return {"max_batch_size": best["batch"], "batch_wait_timeout_s": wait}


def build_stages(device: str, subjects: int) -> Stages:
    from lfr_core.config import get_settings
    from lfr_core.vision.device_pipeline import DevicePipeline
    from lfr_core.vision.engine import build_engine
    from lfr_core.vision.types import l2_normalise

    settings = get_settings()
    pipeline = DevicePipeline.from_settings(settings, device=device)
    # The CPU baseline on onnxruntime where installed; a GPU image without it measures against OpenCV DNN.
    cpu_vision = {"device": "cpu", "runtime": "onnxruntime" if _onnxruntime_version() else "opencv"}
    cpu_engine = build_engine(settings.model_copy(update={"vision": settings.vision.model_copy(update=cpu_vision)}))
    gallery = l2_normalise(np.random.default_rng(0).normal(size=(subjects, 128)).astype(np.float32))
    pipeline.set_gallery(gallery)
    return Stages(pipeline, cpu_engine, gallery, settings.match.threshold)


def _onnxruntime_version() -> str | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batches", default="1,2,4,8,16,32,64")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--subjects", type=int, default=SUBJECTS)
    parser.add_argument("--quick", action="store_true", help="batches 1,4, 0.5 s each (a check, not a figure)")
    opts = parser.parse_args()
    import torch
    from rich.console import Console
    from rich.table import Table

    from lfr_core.config import get_settings
    from lfr_core.vision.device import device_index, is_gpu, require_device

    require_device(opts.device, "bench/gpu.py")  # no silent CPU run of a GPU bench
    batches = [1, 4] if opts.quick else [int(b) for b in opts.batches.split(",")]
    seconds = 0.5 if opts.quick else opts.seconds
    gpu = torch.cuda.get_device_name(opts.device) if is_gpu(opts.device) else None
    settings = get_settings()
    limits = {"max_pixels": settings.serve.max_live_pixels,
              "max_bytes": min(settings.vision.max_image_bytes, settings.serve.max_body_bytes)}
    stages = build_stages(opts.device, opts.subjects)
    jpegs = camera_jpegs(settings.shared_dir, max(batches) if not opts.quick else 8)
    sampler = GpuSampler(device_index(opts.device) if gpu else None)
    on_device, on_cpu = device_pipeline(stages, opts.device, limits), cpu_pipeline(stages, limits)

    results = []
    for (source, size), frames in jpegs.items():
        rows = [measure(on_device, frames, b, seconds, sampler) for b in batches]
        base = [measure(on_cpu, frames, b, seconds, GpuSampler(None)) for b in CPU_BATCHES if b <= max(batches)]
        best, best_cpu = max(r["frames_per_s"] for r in rows), max(r["frames_per_s"] for r in base)
        results.append({"source": source, "size": size, "device": rows, "cpu": base,
                        "best_frames_per_s": best, "cpu_best_frames_per_s": best_cpu,
                        "ratio_vs_cpu": round(best / best_cpu, 2), "cameras_at_5fps_p95_250ms": cameras_served(rows),
                        "cpu_cameras_at_5fps_p95_250ms": cameras_served(base)})
        print(f"{source} {size} done", file=sys.stderr, flush=True)
    peak_mb = torch.cuda.max_memory_allocated(opts.device) / 2**20 if gpu else None

    table = Table(title=f"production pipeline (YuNet + SFace, {opts.subjects} subjects) on {gpu or opts.device}"
                        f" vs the CPU pipeline, same run")
    for col in ("source", "size", "batch", "frames/s", "p95 ms", "CPU ms/frame", "faces/frame", "GPU %",
                "CPU pipeline frames/s", "ratio"):
        table.add_column(col)
    for r in results:
        for row in r["device"]:
            table.add_row(r["source"], r["size"], str(row["batch"]), f"{row['frames_per_s']:.1f}",
                          f"{row['p95_ms']:.0f}", f"{row['cpu_ms_per_frame']:.1f}", f"{row['faces_per_frame']:.1f}",
                          "-" if row["gpu_util_pct"] is None else f"{row['gpu_util_pct']:.0f}",
                          f"{r['cpu_best_frames_per_s']:.1f}", f"{row['frames_per_s'] / r['cpu_best_frames_per_s']:.2f}x")
    Console(width=180).print(table)
    clip_1080 = next(r for r in results if r["source"] == "clip" and r["size"] == "1080p")
    print(json.dumps({
        "gpu": gpu, "device": opts.device, "quick": opts.quick, "torch": torch.__version__, "cuda": torch.version.cuda,
        "driver": _driver() if gpu else None, "onnxruntime": _onnxruntime_version(),
        "detector": stages.pipeline.identity["detector"].runtime,
        "embedder": stages.pipeline.identity["embedder"].runtime,
        "cpu_baseline": stages.cpu_engine.identity["embedder"]["runtime"], "subjects": opts.subjects,
        "cpu_threads": settings.vision.threads,
        "frames_per_s_1080p_clip": clip_1080["best_frames_per_s"],
        "cameras_at_5fps_p95_250ms": max(r["cameras_at_5fps_p95_250ms"] for r in results if r["size"] == "1080p"),
        "serve_batch_1080p_clip": serve_batch(clip_1080["device"]),
        "peak_gpu_mb_torch": round(peak_mb) if peak_mb is not None else None,
        "peak_gpu_mb_nvml": round(sampler.memory_mb) if gpu and sampler.handle is not None else None,
        "results": results}))


def _driver() -> str | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        return str(pynvml.nvmlSystemGetDriverVersion())
    except Exception:  # NVML missing: the driver is then unknown, said as null
        return None


if __name__ == "__main__":
    main()
