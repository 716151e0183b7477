#!/usr/bin/env bash
# Presets side by side on the real-emoji bench's group split: trains each PRESET:EPOCHS on the
# same shards (made by bench/emoji_e2e.sh, WORK/shards-group), one after the other in one run,
# and prints wall time, top-1, mean per-class accuracy and per-class accuracy for each.
#
#   bench/emoji_presets.sh WORK [RUNS="small:15 fast:15"]
#   env: MEMES=build/memes THREADS=0 (auto) SEED=1
# Needs GNU time (/usr/bin/time) and python3.
set -euo pipefail
work=$1
runs=${2:-"small:15 fast:15"}
MEMES=${MEMES:-build/memes}
THREADS=${THREADS:-0}
SEED=${SEED:-1}
shards=$work/shards-group
[[ -f $shards/dataset.json ]] || { echo "$shards: no dataset.json (run bench/emoji_e2e.sh first)" >&2; exit 2; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
for run in $runs; do
  preset=${run%%:*} epochs=${run##*:}
  out=$work/presets/$preset-$epochs
  rm -rf "$out" && mkdir -p "$out"
  /usr/bin/time -v -o "$out/train.time" "$MEMES" -q train "$shards" -o "$out/run" --preset "$preset" \
    --epochs "$epochs" --threads "$THREADS" --seed "$SEED" --device cpu 2>"$out/train.err"
  "$MEMES" -q eval "$out/run/last.pt" "$shards" --json -o "$out/eval" --threads "$THREADS" \
    --device cpu >/dev/null
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
python3 - "$work" $runs <<'PY'
import json, os, re, sys
work, runs = sys.argv[1], sys.argv[2:]
def wall(path):
    text = open(path).read()
    s = 0.0
    for part in re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1).split(":"):
        s = s * 60 + float(part)
    return s
results = []
for run in runs:
    preset, epochs = run.split(":")
    out = os.path.join(work, "presets", f"{preset}-{epochs}")
    ev = json.load(open(os.path.join(out, "eval", "eval.json")))
    metrics = [json.loads(l) for l in open(os.path.join(out, "run", "metrics.jsonl"))]
    results.append((run, wall(os.path.join(out, "train.time")), ev, metrics))
print("\n| preset:epochs | train wall s (incl. start and per-epoch test) | test top-1 | mean per-class | top-5 | top-1 per epoch |")
print("|---|---:|---:|---:|---:|---|")
for run, seconds, ev, metrics in results:
    balanced = sum(c["accuracy"] for c in ev["per_class"]) / len(ev["per_class"])
    curve = " ".join(f"{100 * m['test_acc']:.1f}" for m in metrics)
    print(f"| {run} | {seconds:.0f} | {100 * ev['top1']:.1f} % | {100 * balanced:.1f} % | {100 * ev['top5']:.1f} % | {curve} |")
print("\n| class | test images | " + " | ".join(r[0] for r in results) + " |")
print("|---|---:|" + "---:|" * len(results))
for i, c in enumerate(results[0][2]["per_class"]):
    cells = " | ".join(f"{100 * r[2]['per_class'][i]['accuracy']:.1f} %" for r in results)
    print(f"| {c['class']} | {c['images']} | {cells} |")
PY
