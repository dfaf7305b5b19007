"""Live matching speed: Ray Serve (batched detector + embedder, 2 replicas each) against a single-process
loop with the same models (engine.analyse_batch per frame + the exact matcher), on this machine's CPUs.

Run: `python bench/live.py`. It starts its own PostgreSQL and S3 under a temporary LFR_HOME on free ports,
a live deployment with a six-person watchlist, and a private Ray node (num_cpus = 2). Feeds: the Hamilton
clip (640x360) and the crowd photos resized to 640x360. Throughput: feeds sending as fast as they can
(2 requests in flight each). Latency: feeds at 5 fps, frame-to-response. Peak memory: RSS of this process
and all its children (Ray workers, PostgreSQL, S3), sampled every 0.5 s. Last stdout line: one JSON object.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DURATION_S = float(os.environ.get("LFR_BENCH_SECONDS", "20"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakRss(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb, self.stop = 0.0, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self.stop.wait(0.5)


def load_frames(shared: Path) -> tuple[list[bytes], list[bytes]]:
    video, crowd = [], []
    cap = cv2.VideoCapture(str(shared / "data/video/short_hamilton_clip.mp4"))
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % 3 == 0:
            video.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
        i += 1
    for path in sorted((shared / "data/crowd").glob("*.jpg")):
        im = cv2.imread(str(path))
        if im is not None:
            crowd.append(cv2.imencode(".jpg", cv2.resize(im, (640, 360)), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return video, crowd


def setup(settings) -> dict:
    from lfr_core import apikeys, deployments
    from lfr_core.db.connection import connect
    from lfr_core.demo_data import stage_custody_manifest
    from lfr_core.roles import Actor
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist import lifecycle
    from lfr_core.watchlist.build import build_version
    from tests.serve.conftest import watchlist_rows

    store, engine = ObjectStore(settings), build_engine(settings)
    now = datetime.now(UTC)
    with connect(settings) as conn:
        spec = deployments.validate_spec({
            "place": "bench", "purpose": "bench", "legal_basis": "bench", "intelligence_ref": "BENCH",
            "window_start": now + timedelta(seconds=3), "window_end": now + timedelta(hours=1),
            "authorising_officer": "bench", "threshold": settings.match.threshold}, settings)
        dep = deployments.create(conn, spec, Actor("planner", "planner"))
        manifest = stage_custody_manifest(store, settings, watchlist_rows(settings, settings.shared_dir), "bench")
        version = build_version(conn, store, engine, settings, deployment_id=str(dep["id"]), manifest_uri=manifest,
                                actor=Actor("planner", "planner"))
        lifecycle.approve(conn, str(version["id"]), Actor("authoriser", "authoriser"))
        time.sleep(max(0.0, (dep["window_start"] - datetime.now(UTC)).total_seconds()) + 0.1)
        lifecycle.activate(conn, str(version["id"]), Actor("operator", "operator"))
        key = apikeys.create(conn, "bench", "operator", Actor("admin", "admin"), deployment_id=dep["id"])
        conn.commit()
    return {"deployment": str(dep["id"]), "version": str(version["id"]), "key": key, "engine": engine}


def loop_baseline(engine, matcher, frames: list[bytes], seconds: float) -> dict:
    """One process: decode, analyse_batch([frame]), match; as fast as it goes (latency = service time)."""
    from lfr_core.vision.images import decode_image

    times, end, i = [], time.monotonic() + seconds, 0
    start = time.monotonic()
    while time.monotonic() < end:
        t0 = time.perf_counter()
        image = decode_image(frames[i % len(frames)], max_pixels=40_000_000, max_bytes=25_000_000)
        faces = engine.analyse_batch([image], purpose="live")[0]
        emb = [f.embedding for f in faces if f.embedding is not None]
        if emb:
            matcher.above_threshold(np.stack(emb))
        times.append((time.perf_counter() - t0) * 1000)
        i += 1
    return {"fps": i / (time.monotonic() - start), "p50_ms": float(np.percentile(times, 50)),
            "p95_ms": float(np.percentile(times, 95))}


def serve_feeds(url: str, ctx: dict, feeds: list[list[bytes]], seconds: float, fps: float | None) -> dict:
    """Each feed in its own threads: at `fps` (paced, 2 in flight max, else dropped) or flat out (2 in flight)."""
    lat: list[float] = []
    counts = {"ok": 0, "dropped": 0, "other": 0}
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker(frames: list[bytes], camera: str, offset: int, stride: int) -> None:
        client = httpx.Client(timeout=30)
        endpoint = f"{url}/v1/deployments/{ctx['deployment']}/frames"
        headers = {"X-API-Key": ctx["key"], "X-Camera-Id": camera, "Content-Type": "image/jpeg"}
        i, start = offset, time.monotonic()
        while time.monotonic() < end:
            if fps:
                delay = start + (i - offset) / fps - time.monotonic()  # lanes interleave: feed rate = fps
                if delay > 0:
                    time.sleep(delay)
            t0 = time.perf_counter()
            r = client.post(endpoint, content=frames[i % len(frames)],
                            headers={**headers, "X-Capture-Time": datetime.now(UTC).isoformat()})
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if r.status_code == 200:
                    counts["ok"] += 1
                    lat.append(ms)
                elif r.status_code == 503:
                    counts["dropped"] += 1
                else:
                    counts["other"] += 1
            i += stride
        client.close()

    threads = []
    for n, frames in enumerate(feeds):
        for lane in range(2):  # two requests in flight per feed
            threads.append(threading.Thread(target=worker, args=(frames, f"bench-{n}", lane, 2)))
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return {"fps": counts["ok"] / elapsed, "p50_ms": float(np.percentile(lat, 50)) if lat else None,
            "p95_ms": float(np.percentile(lat, 95)) if lat else None, **counts}


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="lfr-bench-"))
    os.environ.update({"LFR_HOME": str(home), "LFR_DB__PORT": str(free_port()),
                       "LFR_S3__ENDPOINT": f"127.0.0.1:{free_port()}"})
    from rich.console import Console
    from rich.table import Table

    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.matching.matcher import ExactMatcher
    from lfr_core.services import manager

    console = Console(stderr=True)
    settings = get_settings()
    rss = PeakRss()
    rss.start()
    manager.up(settings)
    results: dict[str, dict] = {}
    try:
        ctx = setup(settings)
        video, crowd = load_frames(settings.shared_dir)
        with connect(settings) as conn:
            matcher = ExactMatcher.load(conn, ctx["version"])
        console.print("loop baseline ...")
        results["loop 1 feed max"] = loop_baseline(ctx["engine"], matcher, video, DURATION_S / 2)
        mixed = [f for pair in zip(video, crowd * 10) for f in pair]
        results["loop 2 feeds max"] = loop_baseline(ctx["engine"], matcher, mixed, DURATION_S / 2)
        del ctx["engine"]

        import ray
        from ray import serve

        from ray_apps.app import run

        port = free_port()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            model = {"min_replicas": 2, "max_replicas": 2, "num_cpus": 0.5}
            run({"detector": model, "embedder": {**model, "num_cpus": 0.25}, "ingress_num_cpus": 0.25},
                host="127.0.0.1", port=port)
            url = f"http://127.0.0.1:{port}"
            serve_feeds(url, ctx, [video], 3, None)  # warm-up
            console.print("serve ...")
            results["serve 1 feed max"] = serve_feeds(url, ctx, [video], DURATION_S, None)
            results["serve 2 feeds max"] = serve_feeds(url, ctx, [video, crowd], DURATION_S, None)
            results["serve 1 feed 5 fps"] = serve_feeds(url, ctx, [video], DURATION_S, 5.0)
            results["serve 2 feeds 5 fps"] = serve_feeds(url, ctx, [video, crowd], DURATION_S, 5.0)
        finally:
            serve.shutdown()
            ray.shutdown()
    finally:
        manager.down(settings)
        rss.stop.set()
    ratio1 = results["serve 1 feed max"]["fps"] / results["loop 1 feed max"]["fps"]
    ratio2 = results["serve 2 feeds max"]["fps"] / results["loop 2 feeds max"]["fps"]
    table = Table(title=f"live matching on {os.cpu_count()} CPUs (YuNet + SFace, 640x360)")
    for col in ("run", "frames/s", "p50 ms", "p95 ms", "dropped", "vs loop"):
        table.add_column(col)
    for name, r in results.items():
        vs = {"serve 1 feed max": f"{ratio1:.2f}x", "serve 2 feeds max": f"{ratio2:.2f}x"}.get(name, "")
        table.add_row(name, f"{r['fps']:.1f}", f"{r['p50_ms']:.0f}" if r["p50_ms"] else "-",
                      f"{r['p95_ms']:.0f}" if r["p95_ms"] else "-", str(r.get("dropped", "-")), vs)
    Console().print(table)
    print(json.dumps({"serve_vs_loop_fps_ratio_2feeds": round(ratio2, 2),
                      "serve_vs_loop_fps_ratio_1feed": round(ratio1, 2),
                      "p95_ms_2feeds": round(results["serve 2 feeds 5 fps"]["p95_ms"], 1),
                      "p95_ms_1feed": round(results["serve 1 feed 5 fps"]["p95_ms"], 1),
                      "serve_fps_2feeds_max": round(results["serve 2 feeds max"]["fps"], 1),
                      "loop_fps_2feeds_max": round(results["loop 2 feeds max"]["fps"], 1),
                      "peak_rss_mb": round(rss.peak_mb)}))


if __name__ == "__main__":
    main()
