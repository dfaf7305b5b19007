"""GPU throughput of the live pipeline's torch backends at batch sizes 1 to 64 (issue: live matching, "on a
GPU machine"): YOLO (ultralytics, built from its architecture file: random weights, so its detections are
meaningless and only speed is measured) and open_clip (random weights) through the product's own backends
(`lfr_core.vision.yolo`, `lfr_core.vision.open_clip`, pre- and post-processing included), on the clip's
640x360 frames and aligned face crops from it; SFace for reference on the CPU (onnxruntime's wheel here has
no CUDA provider and OpenCV no CUDA, so SFace has no GPU runtime).

Pipeline frames/s at batch b: b frames detected plus FACES_PER_FRAME crops per frame embedded, one batch
each. The table's ratio is against batch 1 in the same run; the GPU is named.

Run: `python bench/gpu.py` (CUDA), or `python bench/gpu.py --device cpu --quick` to check the script on a
machine without a GPU. Last stdout line: one JSON object.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FACES_PER_FRAME = 4  # a busy street camera; random-weight YOLO finds no real faces, so the count is fixed


def clip_frames_and_crops(shared: Path, n_frames: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from lfr_core.vision.aligner import SFaceAligner
    from lfr_core.vision.yunet import YuNetDetector, default_weights
    from lfr_ops.feed import frames as video_frames

    frames = list(itertools.islice(video_frames(str(shared / "data/video/short_hamilton_clip.mp4"), fps=30.0), n_frames))
    detector, aligner = YuNetDetector(default_weights()), SFaceAligner()
    crops = [aligner.align(f, d) for f in frames[::5] for d in detector.detect(f)]
    if not crops:
        raise SystemExit("YuNet found no face in the clip's frames: cannot make crops")
    return frames, crops


def per_second(fn, items: list, batch: int, seconds: float) -> float:
    """Items per second of fn over batches of `batch` items (after one warm-up batch), for `seconds`."""
    chunk = [items[i % len(items)] for i in range(batch)]
    fn(chunk)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n == 0:
        fn(chunk)
        n += batch
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batches", default="1,2,4,8,16,32,64")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--quick", action="store_true", help="batches 1,4 and 0.5 s each (a check, not a figure)")
    opts = parser.parse_args()
    import torch
    from rich.console import Console
    from rich.table import Table

    from lfr_core.config import get_settings
    from lfr_core.vision.open_clip import OpenCLIPEmbedder
    from lfr_core.vision.registry import detector_scores
    from lfr_core.vision.sface import SFaceEmbedder, default_weights
    from lfr_core.vision.yolo import YOLODetector

    batches = [1, 4] if opts.quick else [int(b) for b in opts.batches.split(",")]
    seconds = 0.5 if opts.quick else opts.seconds
    if opts.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run on a GPU machine, or --device cpu to check the script")
    gpu = torch.cuda.get_device_name(opts.device) if opts.device.startswith("cuda") else None
    settings = get_settings()
    frames, crops = clip_frames_and_crops(settings.shared_dir, max(batches))
    yolo = YOLODetector(None, arch=settings.vision.yolo_arch, device=opts.device,
                        input_size=settings.vision.detector_input, score=detector_scores(settings)[0])
    clip = OpenCLIPEmbedder(None, arch=settings.vision.open_clip_arch, device=opts.device)
    sface = SFaceEmbedder(default_weights(), threads=1)

    rows = []
    for b in batches:
        detect_fps = per_second(yolo.detect_batch, frames, b, seconds)
        clip_fps = per_second(clip.embed_batch, crops, b * FACES_PER_FRAME, seconds)
        sface_fps = per_second(sface.embed_batch, crops, min(b * FACES_PER_FRAME, 64), seconds / 2)
        pipeline_clip = 1 / (1 / detect_fps + FACES_PER_FRAME / clip_fps)
        pipeline_sface = 1 / (1 / detect_fps + FACES_PER_FRAME / sface_fps)
        rows.append({"batch": b, "yolo_frames_per_s": detect_fps, "open_clip_faces_per_s": clip_fps,
                     "sface_cpu_faces_per_s": sface_fps, "pipeline_yolo_open_clip_frames_per_s": pipeline_clip,
                     "pipeline_yolo_sface_cpu_frames_per_s": pipeline_sface})
        print(f"batch {b} done", file=sys.stderr, flush=True)
    peak_mb = torch.cuda.max_memory_allocated(opts.device) / 2**20 if gpu else None

    base = rows[0]
    table = Table(title=f"live pipeline on {gpu or opts.device} (YOLO {settings.vision.yolo_arch} and open_clip "
                        f"{settings.vision.open_clip_arch}, random weights; {FACES_PER_FRAME} faces a frame)")
    for col in ("batch", "YOLO frames/s", "open_clip faces/s", "SFace (CPU) faces/s", "YOLO+open_clip frames/s",
                "YOLO+SFace frames/s", "vs batch 1"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["batch"]), f"{r['yolo_frames_per_s']:.1f}", f"{r['open_clip_faces_per_s']:.1f}",
                      f"{r['sface_cpu_faces_per_s']:.1f}", f"{r['pipeline_yolo_open_clip_frames_per_s']:.1f}",
                      f"{r['pipeline_yolo_sface_cpu_frames_per_s']:.1f}",
                      f"{r['pipeline_yolo_open_clip_frames_per_s'] / base['pipeline_yolo_open_clip_frames_per_s']:.2f}x")
    Console(width=160).print(table)
    best = max(rows, key=lambda r: r["pipeline_yolo_open_clip_frames_per_s"])
    print(json.dumps({"gpu": gpu, "device": opts.device, "torch": torch.__version__, "cuda": torch.version.cuda,
                      "quick": opts.quick, "faces_per_frame": FACES_PER_FRAME,
                      "best_batch": best["batch"],
                      "best_pipeline_yolo_open_clip_fps": round(best["pipeline_yolo_open_clip_frames_per_s"], 1),
                      "peak_gpu_mb": round(peak_mb) if peak_mb is not None else None, "results": rows}))


if __name__ == "__main__":
    main()
