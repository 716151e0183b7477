#!/usr/bin/env bash
# The fast recipe minus one part per row (`--recipe-off PART`, `--label-smoothing 0`), same
# slice of SHARDS, same seed, --threads 1 (bit-reproducible), one run a row; PARALLEL rows at a
# time (accuracy does not depend on it, the wall times do). Prints one tab-separated line per row:
# row, test accuracy per epoch, wall seconds, load average at the start.
#
#   bench/train_ablation.sh SHARDS [LIMIT_TRAIN=4000] [LIMIT_TEST=1000] [EPOCHS=3]
#   env: MEMES=build/memes PRESET=fast PARALLEL=1 SEED=1
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shards=$1
limit_train=${2:-4000}
limit_test=${3:-1000}
epochs=${4:-3}
memes=${MEMES:-$root/build/memes}
preset=${PRESET:-fast}
parallel=${PARALLEL:-1}
seed=${SEED:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=(full whitening dirac bn lookahead tta label-smoothing)
run_row() {
  local row=$1 extra=()
  case $row in
    full) ;;
    label-smoothing) extra=(--label-smoothing 0) ;;
    *) extra=(--recipe-off "$row") ;;
  esac
  local load start end
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  "$memes" -q train "$shards" -o "$work/$row" --preset "$preset" --epochs "$epochs" \
    --limit-train "$limit_train" --limit-test "$limit_test" --no-verify --threads 1 \
    --seed "$seed" "${extra[@]}"
  end=$(date +%s.%N)
  printf '%s\t%s\t%.1f\t%s\n' "$row" "$(/usr/bin/python3 -c "
import json, sys
print(' '.join('%.1f' % (100 * json.loads(l)['test_acc']) for l in open(sys.argv[1])))
" "$work/$row/metrics.jsonl")" "$(echo "$end - $start" | bc)" "$load" > "$work/$row.tsv"
}
printf 'row\ttest_acc_per_epoch\twall_s\tload\n'
for ((i = 0; i < ${#rows[@]}; i += parallel)); do
  for row in "${rows[@]:i:parallel}"; do run_row "$row" & done
  wait
done
for row in "${rows[@]}"; do cat "$work/$row.tsv"; done
