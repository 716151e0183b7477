#!/usr/bin/env bash
# jemalloc (the default build, train/allocator.h) against glibc malloc (a build configured with
# -DMEMES_JEMALLOC=OFF; with ccache only the link differs), alternated REPEATS times on the same
# slice of SHARDS, at each thread count of THREADS. Prints one tab-separated line per run:
# allocator, repeat, threads, wall seconds, images/s per epoch, page faults (perf stat, when
# perf is there and allowed), load average at the start.
#
#   cmake -S . -B build-glibc -DMEMES_JEMALLOC=OFF ... && cmake --build build-glibc --target memes
#   bench/train_alloc_bench.sh SHARDS [LIMIT_TRAIN=2000] [LIMIT_TEST=200] [EPOCHS=2]
#   env: JEMALLOC_MEMES=build/memes GLIBC_MEMES=build-glibc/memes PRESET=fast REPEATS=2
#        THREADS="2 1"
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shards=$1
limit_train=${2:-2000}
limit_test=${3:-200}
epochs=${4:-2}
jemalloc_memes=${JEMALLOC_MEMES:-$root/build/memes}
glibc_memes=${GLIBC_MEMES:-$root/build-glibc/memes}
preset=${PRESET:-fast}
repeats=${REPEATS:-2}
thread_counts=${THREADS:-2 1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf_prefix=()
if perf stat -e page-faults -x, -o /dev/null true 2>/dev/null; then
  perf_prefix=(perf stat -e page-faults -x, -o "$work/perf.csv")
fi
printf 'allocator\trepeat\tthreads\twall_s\timages_per_s\tpage_faults\tload\n'
for repeat in $(seq "$repeats"); do
  for threads in $thread_counts; do
    for allocator in jemalloc glibc; do
      memes=$jemalloc_memes
      [ "$allocator" = glibc ] && memes=$glibc_memes
      run=$work/run
      rm -rf "$run" "$work/perf.csv"
      load=$(cut -d' ' -f1 /proc/loadavg)
      start=$(date +%s.%N)
      # MALLOC_CONF would override the compiled-in settings: measure the build as shipped.
      env -u MALLOC_CONF "${perf_prefix[@]}" "$memes" -q train "$shards" -o "$run" \
        --preset "$preset" --epochs "$epochs" --limit-train "$limit_train" \
        --limit-test "$limit_test" --no-verify --threads "$threads"
      end=$(date +%s.%N)
      faults=-
      [ -f "$work/perf.csv" ] && faults=$(grep page-faults "$work/perf.csv" | cut -d, -f1)
      rates=$(/usr/bin/python3 -c "
import json, sys
print(' '.join('%.0f' % json.loads(l)['images_per_s'] for l in open(sys.argv[1])))
" "$run/metrics.jsonl")
      printf '%s\t%s\t%s\t%.1f\t%s\t%s\t%s\n' "$allocator" "$repeat" "$threads" \
        "$(echo "$end - $start" | bc)" "$rates" "$faults" "$load"
    done
  done
done
