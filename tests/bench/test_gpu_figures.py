"""What bench/gpu.py concludes from its rows: the cameras one device serves within the p95 budget, and the
`@serve.batch` it proposes for Terraform's gpu_serve_batch (the batch of the best frames/s within that budget,
waiting at most its mean latency)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import gpu  # bench/gpu.py

ROWS = [{"batch": 1, "frames_per_s": 300.0, "p95_ms": 5.0}, {"batch": 16, "frames_per_s": 1600.0, "p95_ms": 14.0},
        {"batch": 64, "frames_per_s": 2000.0, "p95_ms": 400.0}]  # the fastest batch breaks the p95 budget


def test_the_proposed_batch_is_the_fastest_within_the_p95_budget_and_waits_its_mean_latency():
    assert gpu.serve_batch(ROWS) == {"max_batch_size": 16, "batch_wait_timeout_s": 0.01}  # 16 frames / 1600 per s
    assert gpu.cameras_served(ROWS) == 320  # 1600 frames/s at 5 fps a camera
    assert gpu.serve_batch(ROWS[:1]) == {"max_batch_size": 1, "batch_wait_timeout_s": 0.0}  # nothing to wait for


def test_no_batch_within_the_budget_proposes_nothing():
    slow = [{**row, "p95_ms": 300.0} for row in ROWS]
    assert gpu.serve_batch(slow) is None and gpu.cameras_served(slow) == 0
