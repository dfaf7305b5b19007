"""Soak: two cameras at 5 fps against the real services for a long run (default 10 minutes), looking for
errors, dropped frames, latency and memory that grows.

Run: `make soak` or `python bench/soak.py [--seconds N]` (CI runs 60 s through tests/bench/test_soak.py). Like
bench/live.py it starts its own PostgreSQL and durable S3 under a temporary LFR_HOME on free ports, a live
deployment with a six-person watchlist and the Serve app on a private 2-CPU Ray node; the feeds are the
Hamilton clip and the crowd photos as 640x360 frames, each camera with two requests in flight, frames due
every 200 ms (a frame whose successor is due before a lane is free is dropped by the camera and counted).
Every 5 s the resident memory of each process is sampled; the slope (MB per minute, least squares over the
run after its first fifth, the warm-up) is reported per process role. Errors are responses other than 200
and 503 (a 503 is the service shedding load: counted as a dropped frame). Last stdout line: one JSON object
with `errors`, `dropped_frames`, `p95_ms`, `rss_slope_mb_per_min` (the largest over the roles) and the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live import bench_processes, load_frames, role_of, serve_feeds, setup, start_serve, stop_serve

SAMPLE_EVERY_S = 5.0


def rss_by_role(home: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in bench_processes(home):
        try:
            cmd = " ".join(p.cmdline()) or p.name()
            mb = p.memory_info().rss / 2**20
        except psutil.Error:
            continue
        role = role_of(p.pid, cmd)
        out[role] = out.get(role, 0.0) + mb
    return out


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope after the first fifth of the run (start-up and warm-up allocate by design)."""
    kept = samples[len(samples) // 5:]
    if len(kept) < 3:
        return 0.0
    t = np.array([s[0] for s in kept]) / 60.0
    mb = np.array([s[1] for s in kept])
    return float(np.polyfit(t, mb, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LFR_SOAK_SECONDS", "600")))
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="10 s (a check that the soak runs, not a figure)")
    opts = parser.parse_args()
    if opts.quick:
        opts.seconds = 10.0

    from lfr_ops.bench_env import private_service_env

    home = Path(tempfile.mkdtemp(prefix="lfr-soak-"))
    os.environ.update(private_service_env(home))
    from rich.console import Console
    from rich.table import Table

    from lfr_core.config import get_settings
    from lfr_ops.local_stack import manager

    settings = get_settings()
    manager.up(settings)
    samples: dict[str, list[tuple[float, float]]] = {}
    try:
        ctx = setup(settings)
        del ctx["engine"]
        video, crowd = load_frames(settings.shared_dir)
        try:
            url = start_serve()
            serve_feeds(url, ctx, [video, crowd], 3, opts.fps)  # warm-up, not counted
            result: dict = {}
            run = threading.Thread(target=lambda: result.update(
                serve_feeds(url, ctx, [video, crowd], opts.seconds, opts.fps)))
            start = time.monotonic()
            run.start()
            while run.is_alive():
                now = time.monotonic() - start
                for role, mb in rss_by_role(home).items():
                    samples.setdefault(role, []).append((now, mb))
                run.join(SAMPLE_EVERY_S)
        finally:
            stop_serve()
    finally:
        manager.down(settings)

    slopes = {role: slope_mb_per_min(s) for role, s in samples.items()}
    table = Table(title=f"soak: 2 cameras x {opts.fps:g} fps for {opts.seconds:.0f} s (YuNet + SFace, 640x360)")
    for col in ("process", "RSS start MB", "RSS end MB", "slope MB/min"):
        table.add_column(col)
    for role, s in sorted(samples.items()):
        table.add_row(role, f"{s[0][1]:.0f}", f"{s[-1][1]:.0f}", f"{slopes[role]:+.2f}")
    console = Console(width=120)
    console.print(table)
    console.print(f"frames answered {result['ok']}, dropped {result['dropped']}, errors {result['other']}, "
                  f"p50 {result['p50_ms'] or 0:.0f} ms, p95 {result['p95_ms'] or 0:.0f} ms")
    print(json.dumps({"errors": result["other"], "dropped_frames": result["dropped"], "frames": result["ok"],
                      "p95_ms": round(result["p95_ms"], 1) if result["p95_ms"] else None,
                      "rss_slope_mb_per_min": round(max(slopes.values(), default=0.0), 3),
                      "rss_slope_by_process": {r: round(v, 3) for r, v in slopes.items()},
                      "seconds": opts.seconds, "load_avg_1m": round(os.getloadavg()[0], 2)}))
    shutil.rmtree(home, ignore_errors=True)  # a run that fails keeps its LFR_HOME (the services' logs)


if __name__ == "__main__":
    main()
