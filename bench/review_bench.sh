#!/bin/sh
# memes review on a Fashion-MNIST subset with injected label noise (10% and 20%, uniform and
# class-conditional): precision and recall of the flagged set against the injected errors, for
# memes review and for the NumPy peer of prune_by_noise_rate (bench/confident_learning.py) on
# the same out-of-fold probabilities. Needs Debian's dataset-fashion-mnist and python3-numpy.
#   bench/review_bench.sh [BUILD_DIR] [ITEMS] [EPOCHS] [FOLDS]
# DATA=emoji: real emoji art instead (review_bench.py emoji: classes are emoji categories, ITEMS
# emoji per category, each drawn by Apple, Google and Twitter as one near-duplicate group;
# uniform noise only; EMOJI_DIR holds the unpacked emoji-datasource packages).
# Environment: PRESET (fast), THREADS (2), SETTINGS ("0.1 uniform,0.2 uniform,0.1 pairs,0.2 pairs"),
# SEED (1: review's --seed, its folds and training seed; the noise is always seed 1), OPTIONS
# (more `memes review` options, e.g. "--repeats 2"), WORK (a folder to keep the stores and reviews
# in; default a temporary one, removed at the end; REVIEW names the review folder in it, "review").
# EPOCHS "-" leaves the epochs to the preset's recipe. Figures: docs/benchmarks.md ("memes review").
set -eu
build=${1:-build}
items=${2:-4000}
epochs=${3:--}
folds=${4:-4}
preset=${PRESET:-fast}
threads=${THREADS:-2}
seed=${SEED:-1}
review=${REVIEW:-review}
settings=${SETTINGS:-0.1 uniform,0.2 uniform,0.1 pairs,0.2 pairs}
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${WORK:-}" ]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
epoch_option=""
[ "$epochs" = "-" ] || epoch_option="--epochs $epochs"
uptime
echo "$settings" | tr ',' '\n' | while read -r noise kind; do
  dir="$work/$noise-$kind"
  made="${DATA:-fmnist} $items $noise $kind"
  # The same noisy store as before (data and noise are seeded) is reviewed again, not rebuilt.
  if [ "$(cat "$dir/made" 2>/dev/null)" != "$made" ]; then
    rm -rf "$dir"
    if [ "${DATA:-fmnist}" = emoji ]; then
      /usr/bin/python3 "$here/review_bench.py" emoji "$dir" "$items" "$noise" "$kind" 1
      "$build/bench/review_bench_store" "$dir/store" "$dir/records.bin" "$dir/classes.txt" \
        "$dir/groups.txt" >/dev/null
    else
      /usr/bin/python3 "$here/review_bench.py" make "$dir" "$items" "$noise" "$kind" 1
      "$build/bench/review_bench_store" "$dir/store" "$dir/records.bin" "$dir/classes.txt" \
        >/dev/null
    fi
    echo "$made" >"$dir/made"
  fi
  start=$(date +%s)
  # shellcheck disable=SC2086 # epoch_option and OPTIONS are words
  "$build/memes" review --store "$dir/store" --out "$dir/$review" --folds "$folds" \
    --preset "$preset" $epoch_option --no-rot4 --threads "$threads" --seed "$seed" \
    ${OPTIONS:-} -q >"$dir/$review.log"
  seconds=$(( $(date +%s) - start ))
  printf '%s %s noise, %s s, %s: ' "$noise" "$kind" "$seconds" "$(uptime | sed 's/.*load/load/')"
  REVIEW_SELECT="$build/bench/review_bench_select" \
    /usr/bin/python3 "$here/review_bench.py" score "$dir" "$dir/$review"
done
uptime
