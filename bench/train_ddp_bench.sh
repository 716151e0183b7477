#!/bin/bash
# Data-parallel scaling on one machine: images/s of `memes train` as 1 process and as 2 ranks
# (Gloo over 127.0.0.1, torchrun's variables set by hand), each rank with one thread,
# alternated REPEATS times so that a changing load hits both alike.
# Usage: bench/train_ddp_bench.sh SHARDS [TRAIN_IMAGES] [PRESET] [BATCH]
# Prints one line per run: ranks, images/s (metrics.jsonl: all ranks' images / epoch seconds).
set -euo pipefail
shards=$1
images=${2:-4096}
preset=${3:-small}
batch=${4:-128}
repeats=${REPEATS:-2}
memes=${MEMES:-build/memes}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(train "$shards" --preset "$preset" --epochs 1 --batch-size "$batch" --threads 1
        --limit-train "$images" --limit-test 64 --no-verify -q)
rate() { python3 -c 'import json,sys; print(round(json.loads(open(sys.argv[1]).readlines()[-1])["images_per_s"]))' "$1"; }
port=$((20000 + RANDOM % 20000))
echo "uptime before: $(uptime)"
for r in $(seq "$repeats"); do
  RANK=0 WORLD_SIZE=1 "$memes" "${common[@]}" -o "$work/one$r"
  echo "ranks 1: $(rate "$work/one$r/metrics.jsonl") images/s"
  port=$((port + 1))
  env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$memes" "${common[@]}" -o "$work/two$r" &
  env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$memes" "${common[@]}" -o "$work/two$r"
  wait
  echo "ranks 2: $(rate "$work/two$r/metrics.jsonl") images/s"
done
echo "uptime after: $(uptime)"
