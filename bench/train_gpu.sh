#!/usr/bin/env bash
# GPU figure (prepared, NOT yet run: no GPU machine was available when it was written).
# Builds memes against the LibTorch inside this machine's PyTorch (CUDA), packs shards, trains
# se-resnext29-8x64 for a few epochs with mixed precision, and the same in PyTorch eager
# (bench/pytorch_train.py --device cuda: channels-last, autocast, GradScaler) on the same shards,
# and prints images/s and test accuracy of both.
#
#   bench/train_gpu.sh [EPOCHS=3] [SHARDS=/tmp/memes-gpu-shards]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
epochs=${1:-3}
shards=${2:-/tmp/memes-gpu-shards}
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"; print(torch.cuda.get_device_name())'
build=$root/build-gpu
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DMEMES_BUILD_TESTS=OFF -DMEMES_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target memes
if [ ! -f "$shards/dataset.json" ]; then
  if [ -d /usr/share/datasets/fashion-mnist ]; then
    python3 "$root/bench/fashion_mnist_to_shards.py" "$shards"
  else
    echo "no shards: pass a folder of packed shards as the second argument" >&2
    exit 2
  fi
fi
"$build/memes" train "$shards" -o /tmp/memes-gpu-run --preset se-resnext29-8x64 --epochs "$epochs" \
  --device cuda --batch-size 256
python3 "$root/bench/pytorch_train.py" "$shards" --preset se-resnext29-8x64 --epochs "$epochs" \
  --batch-size 256 --device cuda --threads "$(nproc)" > /tmp/memes-gpu-pytorch.jsonl
python3 - <<'PY'
import json
ours = [json.loads(l) for l in open("/tmp/memes-gpu-run/metrics.jsonl")]
theirs = [json.loads(l) for l in open("/tmp/memes-gpu-pytorch.jsonl")]
for o, t in zip(ours, theirs):
    print("epoch %d: memes %.0f images/s, test %.2f%% | pytorch %.0f images/s, test %.2f%% | ratio %.2f"
          % (o["epoch"], o["images_per_s"], 100 * o["test_acc"], t["images_per_s"],
             100 * t["test_acc"], t["images_per_s"] / o["images_per_s"]))
PY
