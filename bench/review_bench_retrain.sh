#!/bin/sh
# After bench/review_bench.sh (run with WORK=... to keep its folders): accuracy of the model
# retrained once the review's suggestions are applied, against the noisy baseline and the
# clean-label upper bound, all on the same true-label test set (the first TEST Fashion-MNIST
# test images) with the same budget (the fast preset's recipe, 10 epochs).
#   bench/review_bench_retrain.sh BUILD_DIR SETTING_DIR [ACTION] [TEST]
# SETTING_DIR: one of review_bench.sh's folders (store/, review/, truth.npy); ACTION: relabel
# (accept every suggestion), drop (drop every suspect) or person (a person who looks: relabel the
# injected errors among the suspects to their true class, keep the rest). The store is changed
# (label import).
# Prints one JSON line per training. Figures: docs/benchmarks.md ("memes review").
set -eu
build=$1
dir=$2
action=${3:-relabel}
test_images=${4:-1000}
here=$(cd "$(dirname "$0")" && pwd)
train() {  # train NAME STORE; a finished training in $dir/NAME (run/done) is reused
  if [ ! -f "$dir/$1/run/done" ]; then
    train_again "$1" "$2"
  fi
  printf '{"training": "%s", ' "$1"
  tail -1 "$dir/$1/run/metrics.jsonl" | sed 's/^{//'
}
train_again() {
  rm -rf "$dir/$1"
  mkdir -p "$dir/$1"
  "$build/memes" pack --store "$2" -o "$dir/$1/shards" --augment none --test-fraction 0 -q >/dev/null
  /usr/bin/python3 "$here/review_bench.py" testset "$dir/$1/shards" "$test_images"
  "$build/memes" train "$dir/$1/shards" -o "$dir/$1/run" --preset fast --threads 1 -q >/dev/null
  touch "$dir/$1/run/done"
}
uptime
# The upper bound: the same images with their true labels.
items=$(wc -c <"$dir/records.bin")
items=$((items / 3073))
if [ ! -d "$dir/clean/store" ]; then
  /usr/bin/python3 "$here/review_bench.py" make "$dir/clean" "$items" 0 uniform 1
  "$build/bench/review_bench_store" "$dir/clean/store" "$dir/clean/records.bin" \
    "$dir/clean/classes.txt" >/dev/null
fi
train noisy "$dir/store"
train clean-labels "$dir/clean/store"
/usr/bin/python3 "$here/review_bench.py" decide "$dir" "$dir/review/suspects.csv" "$dir/decided.csv" \
  "$action"
"$build/memes" label --store "$dir/store" import "$dir/decided.csv" >/dev/null
"$build/memes" label --store "$dir/store" export "$dir/labels-after.csv" >/dev/null
/usr/bin/python3 "$here/review_bench.py" labels "$dir" "$dir/labels-after.csv"
train "after-$action" "$dir/store"
uptime
