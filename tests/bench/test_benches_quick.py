"""Benches that cannot rot (issue 31 item 4): each bench's `--quick` runs as a subprocess, under a private
LFR_HOME (benches that start services pick free ports themselves, lfr_ops/bench_env.py), and must exit 0
with a last stdout line that is one JSON object holding the bench's main keys. A change that breaks a bench
fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lfr_core.config import PROJECT_ROOT
from lfr_ops.rtsp_camera import missing as rtsp_camera_missing
from tests.browser import in_ci

# live's RTSP phase feeds the test camera, which needs GStreamer's RTSP server (.ci/ensure-gstreamer): without it
# the phase is left out, except under CI=true, where the bench then fails saying what to install.
RTSP = ["--rtsp"] if in_ci() or rtsp_camera_missing() is None else []

# bench script, its arguments, the keys its JSON line must have, a time limit (s)
BENCHES = {
    "vision": (["--quick"], {"ms_per_image_default", "ms_per_image_dlib", "speedup_vs_dlib", "results"}, 240),
    "watchlist": (["--quick"], {"build_images_per_s_per_core", "build_speedup_vs_one_at_a_time", "purge_s",
                                "purge_speedup_vs_naive", "pgvector_p95_ms", "pgvector_recall1", "details"}, 240),
    # No CUDA in CI: the device pipeline's code (batched detector and warp, device decode's fallback) on the CPU.
    "gpu": (["--device", "cpu", "--quick"], {"device", "frames_per_s_1080p_clip", "cameras_at_5fps_p95_250ms",
                                           "serve_batch_1080p_clip", "detector", "embedder", "results"}, 240),
    "capacity": (["--quick"], {"stage_cpu_ms_per_frame", "plans", "projected_targets"}, 60),
    "live": (["--quick", *RTSP], {"overhead_share", "serve_cpu_efficiency", "cameras_at_5fps",
                                  "serve_vs_loop_fps_ratio_2feeds", "p95_ms_2feeds", "peak_rss_mb", "rtsp"}, 400),
    "serve_floor": (["--quick"], {"http", "stream", "idle_ms_per_s"}, 240),
}
# Benches that start PostgreSQL, S3 or Ray themselves: their runs carry the `services` marker.
STARTS_SERVICES = {"watchlist", "live", "serve_floor"}
# bench/soak.py has a --quick (10 s) too; tests/bench/test_soak.py already runs it (60 s) and checks its JSON line.


def run_quick(name: str, args: list[str], home: Path, limit_s: float) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_HOME"] = str(home)
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / f"{name}.py"), *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=limit_s)
    return done, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.services) if name in STARTS_SERVICES else name
                                  for name in sorted(BENCHES)])
def test_bench_quick_prints_its_json_line(name: str, tmp_path: Path) -> None:
    args, keys, limit_s = BENCHES[name]
    done, took = run_quick(name, args, tmp_path / "home", limit_s)
    assert done.returncode == 0, f"bench/{name}.py {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"bench/{name}.py printed nothing"
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    assert keys <= summary.keys(), f"bench/{name}.py's JSON line lacks {sorted(keys - summary.keys())}"
    print(f"bench/{name}.py {' '.join(args)}: {took:.1f} s")
