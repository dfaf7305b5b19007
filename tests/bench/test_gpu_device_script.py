"""bench/gpu_device.sh, the one-shot GPU measurement (issue 29 item 4), on a machine where torch sees no CUDA
GPU: it says so in its JSON instead of measuring the CPU as if it were the GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs the script: its python imports torch and checks the GPU
def test_the_device_script_refuses_to_measure_without_a_cuda_gpu(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: the script would measure")
    env = {**os.environ, "OUT": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "bench/gpu_device.sh"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    result = json.loads((tmp_path / "gpu.json").read_text())
    assert result["measured"] is False and "sees no CUDA GPU" in result["reason"]
    assert "torch" in result["machine"] and "cuda" in result["machine"]  # what the machine had, for the note
