#!/usr/bin/env bash
# `memes train` against PyTorch eager in Python (bench/pytorch_train.py): same architecture,
# same shards, same recipe, same threads, same batch. Prints per-epoch figures of both and the
# epoch-time ratio (ours ÷ theirs; training phase only, evaluation excluded on both sides).
#
#   bench/train_vs_pytorch.sh SHARDS [EPOCHS=2] [LIMIT_TRAIN=0 (all)] [LIMIT_TEST=0] [PRESET=small]
#   MEMES=build/memes THREADS=2 BATCH=128
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shards=$1
epochs=${2:-2}
limit_train=${3:-0}
limit_test=${4:-0}
preset=${5:-small}
memes=${MEMES:-$root/build/memes}
threads=${THREADS:-2}
batch=${BATCH:-128}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "shards $shards, preset $preset, $epochs epochs, batch $batch, $threads threads," \
     "limit train $limit_train test $limit_test"
start=$(date +%s.%N)
"$memes" -q train "$shards" -o "$work/memes" --preset "$preset" --epochs "$epochs" \
  --batch-size "$batch" --threads "$threads" --limit-train "$limit_train" \
  --limit-test "$limit_test" --seed 1
memes_wall=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
/usr/bin/python3 "$root/bench/pytorch_train.py" "$shards" --preset "$preset" --epochs "$epochs" \
  --batch-size "$batch" --threads "$threads" --limit-train "$limit_train" \
  --limit-test "$limit_test" --seed 1 > "$work/pytorch.jsonl"
pytorch_wall=$(echo "$(date +%s.%N) - $start" | bc)

/usr/bin/python3 - "$work/memes/metrics.jsonl" "$work/pytorch.jsonl" "$memes_wall" "$pytorch_wall" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
theirs = [json.loads(l) for l in open(sys.argv[2])]
print("%5s | %10s %8s %8s | %10s %8s %8s | %6s" % ("epoch", "memes s", "img/s", "test acc",
      "pytorch s", "img/s", "test acc", "ratio"))
total_ours = total_theirs = 0
for o, t in zip(ours, theirs):
    # memes' images_per_s is over the training phase only, as pytorch's train_seconds
    ours_seconds = t["images_per_s"] * t["train_seconds"] / o["images_per_s"]
    total_ours += ours_seconds
    total_theirs += t["train_seconds"]
    print("%5d | %10.1f %8.0f %7.2f%% | %10.1f %8.0f %7.2f%% | %6.3f" % (
        o["epoch"], ours_seconds, o["images_per_s"], 100 * o["test_acc"], t["train_seconds"],
        t["images_per_s"], 100 * t["test_acc"], ours_seconds / t["train_seconds"]))
print("epoch time ratio (memes / pytorch), all epochs: %.3f" % (total_ours / total_theirs))
print("final test accuracy: memes %.2f%%, pytorch %.2f%% (difference %.2f points)" % (
    100 * ours[-1]["test_acc"], 100 * theirs[-1]["test_acc"],
    100 * (ours[-1]["test_acc"] - theirs[-1]["test_acc"])))
print("wall time incl. start-up and evaluation: memes %.1f s, pytorch %.1f s" % (
    float(sys.argv[3]), float(sys.argv[4])))
PY
