"""60 s of the soak (bench/soak.py; `make soak` runs 10 minutes): two cameras at 5 fps against the real
services end with no server error, and the JSON the issue names on the last line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lfr_core.config import PROJECT_ROOT


@pytest.mark.slow
@pytest.mark.services  # the soak starts PostgreSQL, S3 and Ray itself
def test_a_minute_of_two_cameras_at_5_fps_has_no_errors(shared_dir):
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "soak.py"), "--seconds", "60"],
                          capture_output=True, text=True, timeout=420, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) >= {"errors", "dropped_frames", "p95_ms", "rss_slope_mb_per_min"}
    assert result["errors"] == 0
    assert result["frames"] + result["dropped_frames"] >= 0.9 * 2 * 5 * 60  # every due frame answered or counted
    assert "Ingress" in result["rss_slope_by_process"] and "postgres" in result["rss_slope_by_process"]
