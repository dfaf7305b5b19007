"""What the live service is scaled to around a window (lfr_core/live/scaling.py): the decision the DAG asks for and
the Serve application applies (ray_apps/scaling/), and the command between them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lfr_core.config import Settings
from lfr_core.live.scaling import Edge, ScaleRequest, bounds, for_window


def test_a_window_starts_with_the_most_replicas_warmed_and_ends_with_the_fewest() -> None:
    settings = Settings(_env_file=None, serve={"min_replicas": 1, "max_replicas": 3})
    assert for_window(settings, Edge.START) == ScaleRequest(3, warm=True)
    assert for_window(settings, Edge.END) == ScaleRequest(1, warm=False)
    assert ScaleRequest(3, warm=True).as_args() == ["3", "--warm"] and ScaleRequest(1, warm=False).as_args() == ["1"]


def test_only_the_lower_bound_moves_and_the_upper_one_never_falls_below_it() -> None:
    assert bounds({"min_replicas": 1, "max_replicas": 9, "target_ongoing_requests": 4}, 3) == {
        "min_replicas": 3, "max_replicas": 9}
    assert bounds({"max_replicas": 2}, 5) == {"min_replicas": 5, "max_replicas": 5}
    assert bounds({}, 1) == {"min_replicas": 1, "max_replicas": 1}


def test_the_command_says_not_running_in_one_json_line_without_a_serve_app(tmp_path) -> None:
    env = {**os.environ, "LFR_SERVE_RAY_ADDRESS_FILE": str(tmp_path / "none"), "LFR_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "ray_apps.scaling", "2", "--warm"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"serve": "not running"}
