"""Face engine speed on one CPU core: every backend at batch 1/8/32, the default pipeline, and a dlib peer.

Run: `python bench/vision.py [--quick]` (make bench-vision). Images are single-face photos from
../shared/data/faces (deepface, ageitgey) resized to 640 px on the longest side, plus crowd photos for
the detectors. The peer baseline is the face_recognition stack (dlib HOG detector with one upsample as
face_recognition does by default, 5-point shape predictor, ResNet-34 descriptor) on the same images.
YOLO and open_clip run with random weights (no face weights obtainable here): their timings are real,
their outputs are not. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lfr_core.config import get_settings
from lfr_core.vision.engine import build_engine, largest_face
from lfr_core.vision.images import load_image
from lfr_core.vision.registry import build_detector, build_embedder
from lfr_core.vision.yunet import resize_longest


def pin_one_core() -> int:
    core = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {core})
    cv2.setNumThreads(1)
    import torch

    torch.set_num_threads(1)
    return core


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, items: list, batch: int, min_items: int) -> float:
    """ms per item: one warm-up batch, then whole batches until min_items items (cycling the inputs)."""
    batches = max(1, -(-min_items // batch))
    pool = [items[i % len(items)] for i in range(batch * (batches + 1))]
    fn(pool[:batch])
    t0 = time.perf_counter()
    for b in range(1, batches + 1):
        fn(pool[b * batch:(b + 1) * batch])
    return (time.perf_counter() - t0) * 1000.0 / (batches * batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer images and repeats (about a minute)")
    args = ap.parse_args()
    core = pin_one_core()
    s = get_settings()
    s = s.model_copy(update={"vision": s.vision.model_copy(update={"threads": 1, "device": "cpu"})})
    faces = Path(s.shared_dir) / "data" / "faces"
    import csv

    with open(faces / "manifest.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["identity"] and r["dataset"] in ("deepface", "ageitgey")]
    n_img = 8 if args.quick else 20
    min_items = 8 if args.quick else 32
    lim = {"max_pixels": s.vision.max_image_pixels, "max_bytes": s.vision.max_image_bytes}
    images = [resize_longest(load_image(faces / r["path"], **lim), 640)[0] for r in rows[:n_img]]
    crowd = [resize_longest(load_image(p, **lim), 640)[0]
             for p in sorted((Path(s.shared_dir) / "data" / "crowd").glob("*.jpg"))[: 3 if args.quick else 6]]
    batches = (1, 8) if args.quick else (1, 8, 32)

    engine = build_engine(s)
    crops = []
    for fs in engine.analyse_batch(images, purpose="live"):
        f = largest_face(fs)
        if f is not None:
            crops.append(f.crop)

    results: list[dict] = []
    detectors = [("yunet", {}), ("scrfd", {}), ("yolo-random", {"detector": "yolo"})]
    for name, upd in detectors:
        det = build_detector(s.model_copy(update={"vision": s.vision.model_copy(update={"detector": name, **upd})}))
        for b in batches:
            ms = timed(det.detect_batch, images, b, min_items)
            results.append({"stage": "detect", "backend": name, "batch": b, "ms_per_item": ms, "unit": "image",
                            "per_s": 1000 / ms, "peak_rss_mb": peak_rss_mb()})
        ms = timed(det.detect_batch, crowd, 1, len(crowd))
        results.append({"stage": "detect-crowd", "backend": name, "batch": 1, "ms_per_item": ms, "unit": "image",
                        "per_s": 1000 / ms, "peak_rss_mb": peak_rss_mb()})
    for name, upd in (("sface", {}), ("open_clip-random", {"embedder": "open_clip"})):
        emb = build_embedder(s.model_copy(update={"vision": s.vision.model_copy(update={"embedder": name, **upd})}))
        for b in batches:
            ms = timed(emb.embed_batch, crops, b, min_items if name == "sface" else max(b, 8))
            results.append({"stage": "embed", "backend": name, "batch": b, "ms_per_item": ms, "unit": "face",
                            "per_s": 1000 / ms, "peak_rss_mb": peak_rss_mb()})

    # Default pipeline, one 640 px image with one face per call: decode excluded, detect+align+gate+embed.
    default_ms = timed(lambda ims: engine.analyse_batch(ims, purpose="live"), images, 1, len(images))
    results.append({"stage": "pipeline", "backend": "yunet+sface", "batch": 1, "ms_per_item": default_ms,
                    "unit": "image", "per_s": 1000 / default_ms, "peak_rss_mb": peak_rss_mb()})

    dlib_ms = bench_dlib(images, results)

    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Face engine on one CPU core (core {core}); {len(images)} images at 640 px, {len(crowd)} crowd")
    for c in ("stage", "backend", "batch", "ms per item", "unit", "items/s", "peak RSS MB"):
        t.add_column(c)
    for r in results:
        t.add_row(r["stage"], r["backend"], str(r["batch"]), f"{r['ms_per_item']:.1f}", r["unit"],
                  f"{r['per_s']:.1f}", f"{r['peak_rss_mb']:.0f}")
    Console(width=140).print(t)
    speedup = dlib_ms / default_ms if dlib_ms else None
    print(f"default pipeline {default_ms:.1f} ms/image; dlib peer {dlib_ms:.1f} ms/image; speedup {speedup:.2f}x")
    print(json.dumps({"ms_per_image_default": round(default_ms, 2), "ms_per_image_dlib": round(dlib_ms, 2),
                      "speedup_vs_dlib": round(speedup, 2) if speedup else None, "images": len(images),
                      "core": core, "quick": args.quick, "results": results}))


def bench_dlib(images: list[np.ndarray], results: list[dict]) -> float:
    import dlib

    spec = importlib.util.find_spec("face_recognition_models")  # its __init__ needs pkg_resources; use files only
    models = Path(spec.origin).parent / "models"
    detector = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    rec = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    rgbs = [np.ascontiguousarray(im[:, :, ::-1]) for im in images]

    def detect(ims):
        return [detector(im, 1) for im in ims]

    def pipeline(ims):
        for im in ims:
            dets = detector(im, 1)
            if len(dets):
                d = max(dets, key=lambda r: r.area())
                rec.compute_face_descriptor(im, sp(im, d))

    det_ms = timed(detect, rgbs, 1, len(rgbs))
    results.append({"stage": "detect", "backend": "dlib-hog", "batch": 1, "ms_per_item": det_ms, "unit": "image",
                    "per_s": 1000 / det_ms, "peak_rss_mb": peak_rss_mb()})
    pairs = []
    for im in rgbs:
        dets = detector(im, 1)
        if len(dets):
            pairs.append((im, sp(im, max(dets, key=lambda r: r.area()))))
    emb_ms = timed(lambda ps: [rec.compute_face_descriptor(im, sh) for im, sh in ps], pairs, 1, len(pairs))
    results.append({"stage": "embed", "backend": "dlib-resnet", "batch": 1, "ms_per_item": emb_ms, "unit": "face",
                    "per_s": 1000 / emb_ms, "peak_rss_mb": peak_rss_mb()})
    ms = timed(pipeline, rgbs, 1, len(rgbs))
    results.append({"stage": "pipeline", "backend": "dlib (face_recognition)", "batch": 1, "ms_per_item": ms,
                    "unit": "image", "per_s": 1000 / ms, "peak_rss_mb": peak_rss_mb()})
    return ms


if __name__ == "__main__":
    main()
