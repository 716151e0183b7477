#!/bin/sh
# memes review on a Fashion-MNIST subset with injected label noise (10% and 20%, uniform and
# class-conditional): precision and recall of the flagged set against the injected errors, for
# memes review and for the NumPy peer of prune_by_noise_rate (bench/confident_learning.py) on
# the same out-of-fold probabilities. Needs Debian's dataset-fashion-mnist and python3-numpy.
#   bench/review_bench.sh [BUILD_DIR] [ITEMS] [EPOCHS] [FOLDS]
# Figures: docs/benchmarks.md ("memes review").
set -eu
build=${1:-build}
items=${2:-1000}
epochs=${3:-10}
folds=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uptime
for setting in "0.1 uniform" "0.2 uniform" "0.1 pairs" "0.2 pairs"; do
  set -- $setting
  dir="$work/$1-$2"
  /usr/bin/python3 "$here/review_bench.py" make "$dir" "$items" "$1" "$2" 1
  "$build/bench/review_bench_store" "$dir/store" "$dir/records.bin" "$dir/classes.txt" >/dev/null
  start=$(date +%s)
  "$build/memes" review --store "$dir/store" --out "$dir/review" --folds "$folds" \
    --preset tiny --epochs "$epochs" --batch-size 32 --no-rot4 --threads 1 -q >/dev/null
  seconds=$(( $(date +%s) - start ))
  printf '%s %s noise, %s s: ' "$1" "$2" "$seconds"
  /usr/bin/python3 "$here/review_bench.py" score "$dir" "$dir/review"
done
uptime
