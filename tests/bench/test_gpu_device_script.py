"""bench/gpu_device.sh, the one-shot GPU measurement (issue 29 item 4), on a machine whose onnxruntime has no
CUDA provider: it says so in its JSON instead of measuring the CPU as if it were the GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_device_script_refuses_to_measure_without_a_cuda_runtime(tmp_path: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA: the script would measure")
    env = {**os.environ, "OUT": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "bench/gpu_device.sh"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    result = json.loads((tmp_path / "gpu.json").read_text())
    assert result["measured"] is False and "CUDAExecutionProvider" in result["reason"]
    assert "ort" in result["machine"]  # what the machine had, for the note
