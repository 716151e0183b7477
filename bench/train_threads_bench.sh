#!/usr/bin/env bash
# --threads 1 vs 2 vs auto on a slice of SHARDS, alternated REPEATS times, first on the machine as
# it is, then with a busy loop (`yes > /dev/null`) on one core. Not to be run under nice: the
# load is what it measures. Prints one tab-separated line per run: condition, repeat, threads,
# wall seconds, images/s per epoch, last test accuracy, load average at the start.
#
#   bench/train_threads_bench.sh SHARDS [LIMIT_TRAIN=2000] [LIMIT_TEST=200] [EPOCHS=2]
#   env: MEMES=build/memes PRESET=fast REPEATS=2 MAX_THREADS=2
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shards=$1
limit_train=${2:-2000}
limit_test=${3:-200}
epochs=${4:-2}
memes=${MEMES:-$root/build/memes}
preset=${PRESET:-fast}
repeats=${REPEATS:-2}
max_threads=${MAX_THREADS:-2}
work=$(mktemp -d)
busy=
trap '[ -n "$busy" ] && kill "$busy" 2>/dev/null; rm -rf "$work"' EXIT
printf 'condition\trepeat\tthreads\twall_s\timages_per_s\ttest_acc\tload\n'
for condition in as-is busy-core; do
  if [ "$condition" = busy-core ]; then
    yes > /dev/null &
    busy=$!
  fi
  for repeat in $(seq "$repeats"); do
    for threads in 1 "$max_threads" auto; do
      run=$work/run_$threads
      rm -rf "$run"
      load=$(cut -d' ' -f1 /proc/loadavg)
      start=$(date +%s.%N)
      "$memes" -q train "$shards" -o "$run" --preset "$preset" --epochs "$epochs" \
        --limit-train "$limit_train" --limit-test "$limit_test" --no-verify --threads "$threads"
      end=$(date +%s.%N)
      figures=$(/usr/bin/python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(' '.join('%.0f' % m['images_per_s'] for m in lines) + '\t%.4f' % lines[-1]['test_acc'])
" "$run/metrics.jsonl")
      printf '%s\t%s\t%s\t%.1f\t%s\t%s\n' "$condition" "$repeat" "$threads" \
        "$(echo "$end - $start" | bc)" "$figures" "$load"
    done
  done
  if [ -n "$busy" ]; then
    kill "$busy"
    busy=
  fi
done
