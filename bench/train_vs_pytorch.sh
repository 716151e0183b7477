#!/usr/bin/env bash
# `memes train` against PyTorch eager in Python (bench/pytorch_train.py): same architecture,
# same shards, same recipe, same threads, same batch. Runs the two alternately REPEATS times
# (the machine may be shared: each side's best run counts) and prints per-epoch figures and the
# epoch-time ratio (ours ÷ theirs; training phase only, evaluation excluded on both sides).
#
#   bench/train_vs_pytorch.sh SHARDS [EPOCHS=2] [LIMIT_TRAIN=0 (all)] [LIMIT_TEST=0] [PRESET=small]
#   env: MEMES=build/memes THREADS=2 BATCH=128 REPEATS=2 WIDTHS=32,64,64 (fast preset only)
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
# fast preset: both sides' conv-group widths (memes's preset default; airbench's are 64,256,256).
widths=${WIDTHS:-32,64,64}
width_args=()
[ "$preset" = fast ] && width_args=(--widths "$widths")
repeats=${REPEATS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "shards $shards, preset $preset, $epochs epochs, batch $batch, $threads threads," \
     "limit train $limit_train test $limit_test, $repeats runs each"
for r in $(seq 1 "$repeats"); do
  "$memes" -q train "$shards" -o "$work/memes$r" --preset "$preset" --epochs "$epochs" \
    --batch-size "$batch" --threads "$threads" --limit-train "$limit_train" \
    --limit-test "$limit_test" --seed 1 "${width_args[@]}"
  /usr/bin/python3 "$root/bench/pytorch_train.py" "$shards" --preset "$preset" --epochs "$epochs" \
    --batch-size "$batch" --threads "$threads" --limit-train "$limit_train" \
    --limit-test "$limit_test" --seed 1 "${width_args[@]}" > "$work/pytorch$r.jsonl"
done

/usr/bin/python3 - "$work" "$repeats" <<'PY'
import json, sys
work, repeats = sys.argv[1], int(sys.argv[2])
ours_runs = [[json.loads(l) for l in open("%s/memes%d/metrics.jsonl" % (work, r))] for r in range(1, repeats + 1)]
theirs_runs = [[json.loads(l) for l in open("%s/pytorch%d.jsonl" % (work, r))] for r in range(1, repeats + 1)]
print("%5s | %10s %8s %8s | %10s %8s %8s | %6s" % ("epoch", "memes s", "img/s", "test acc",
      "pytorch s", "img/s", "test acc", "ratio"))
total_ours = total_theirs = 0
for e in range(len(ours_runs[0])):
    images = theirs_runs[0][e]["images_per_s"] * theirs_runs[0][e]["train_seconds"]
    ours_rate = max(run[e]["images_per_s"] for run in ours_runs)
    theirs_rate = max(run[e]["images_per_s"] for run in theirs_runs)
    ours_seconds, theirs_seconds = images / ours_rate, images / theirs_rate
    total_ours += ours_seconds
    total_theirs += theirs_seconds
    print("%5d | %10.1f %8.0f %7.2f%% | %10.1f %8.0f %7.2f%% | %6.3f" % (
        e + 1, ours_seconds, ours_rate, 100 * ours_runs[0][e]["test_acc"], theirs_seconds,
        theirs_rate, 100 * theirs_runs[0][e]["test_acc"], ours_seconds / theirs_seconds))
print("epoch time ratio (memes / pytorch), best of %d runs each: %.3f" % (repeats, total_ours / total_theirs))
# The peer's --preset fast lines carry no CPU seconds: compare them only when both sides do.
if all("train_cpu_seconds" in m for run in ours_runs + theirs_runs for m in run):
    ours_cpu = sum(min(run[e]["train_cpu_seconds"] for run in ours_runs) for e in range(len(ours_runs[0])))
    theirs_cpu = sum(min(run[e]["train_cpu_seconds"] for run in theirs_runs) for e in range(len(theirs_runs[0])))
    print("training CPU seconds (all threads), best of %d: memes %.1f, pytorch %.1f, ratio %.3f" % (
        repeats, ours_cpu, theirs_cpu, ours_cpu / theirs_cpu))
print("final test accuracy: memes %.2f%%, pytorch %.2f%% (difference %.2f points)" % (
    100 * ours_runs[0][-1]["test_acc"], 100 * theirs_runs[0][-1]["test_acc"],
    100 * (ours_runs[0][-1]["test_acc"] - theirs_runs[0][-1]["test_acc"])))
PY
