#!/usr/bin/env bash
# End-to-end benchmark on real images: a keyword site built from the Google and Twitter emoji
# sets (bench/emoji_site.py) served on 127.0.0.1, then memes crawl → pack/train/eval split by the
# near-duplicate groups the crawl made ("dedupe") → label group → pack (split by base emoji code,
# "group") → train → eval, and the same pack/train/eval with --split-unit image to show how much
# a per-image split (the original project's method) overstates accuracy.
#
# Usage: bench/emoji_e2e.sh   (from the repository root, after building build/memes)
# Settings (environment):
#   EMOJI_DIR  folder holding emoji-datasource-{,google-,twitter-}16.0.0/package (/tmp/emoji)
#   WORK       output folder (default: a new /tmp/memes-emoji-e2e.XXXXXX); kept for inspection
#   LIMIT      at most this many emoji (emoji_site.py --limit; 0: all)
#   EPOCHS     training epochs per split (6)      THREADS  --threads of train/eval (1)
#   PRESET     model preset (small)               AUGMENT  pack --augment (none)
#   SEED       pack/train seed (1)                MEMES    the binary (build/memes)
#   DEDUPE     1: also train on the split by the crawl's own near-duplicate groups (1)
# Needs python3 and GNU time (/usr/bin/time; Debian package `time`) for peak RSS.
# Prints a table per stage (items, seconds, items/s, peak RSS) and the test accuracy, overall
# and per class, of both splits; everything is also left under $WORK.
set -euo pipefail

MEMES=${MEMES:-build/memes}
EMOJI_DIR=${EMOJI_DIR:-/tmp/emoji}
LIMIT=${LIMIT:-0}
EPOCHS=${EPOCHS:-6}
THREADS=${THREADS:-1}
PRESET=${PRESET:-small}
AUGMENT=${AUGMENT:-none}
SEED=${SEED:-1}
DEDUPE=${DEDUPE:-1}
WORK=${WORK:-$(mktemp -d /tmp/memes-emoji-e2e.XXXXXX)}
mkdir -p "$WORK"
[[ -x /usr/bin/time ]] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
[[ -x $MEMES ]] || { echo "no $MEMES: build it first" >&2; exit 2; }

# A free port: bind port 0 and read back what the kernel chose.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$(dirname "$0")/emoji_site.py" --emoji-dir "$EMOJI_DIR" --site "$WORK/site" \
  --port "$PORT" --limit "$LIMIT" --store "$WORK/store"

python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/site" \
  >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/groups.csv')" \
    2>/dev/null && break
  sleep 0.1
done

# stage NAME COMMAND…: runs it under GNU time; stdout/stderr/time in $WORK/NAME.{out,err,time}.
# Exit status 1 ("the job ran but some items failed") is accepted and counted in the table.
stage() {
  local name=$1
  shift
  echo "== $name: $*" >&2
  local rc=0
  /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  echo "$rc" >"$WORK/$name.rc"
  if ((rc > 1)); then
    echo "stage $name failed (exit $rc):" >&2
    tail -20 "$WORK/$name.err" >&2
    exit 1
  fi
}

# pack_train_eval NAME SPLIT_UNIT: pack the store as it is now, train and evaluate on it.
pack_train_eval() {
  local name=$1 unit=$2
  stage "pack-$name" "$MEMES" -q pack --store "$WORK/store" -o "$WORK/shards-$name" \
    --split-unit "$unit" --augment "$AUGMENT" --seed "$SEED"
  stage "train-$name" "$MEMES" -q train "$WORK/shards-$name" -o "$WORK/run-$name" \
    --preset "$PRESET" --epochs "$EPOCHS" --threads "$THREADS" --seed "$SEED" --device cpu
  stage "eval-$name" "$MEMES" -q eval "$WORK/run-$name/last.pt" "$WORK/shards-$name" --json \
    -o "$WORK/eval-$name" --threads "$THREADS" --device cpu
}

stage crawl "$MEMES" -q crawl "$WORK/site/pipeline.toml" --store "$WORK/store"
UNITS="group image"
if ((DEDUPE)); then
  # Before `label group`: the groups are the crawl's near-duplicate groups alone.
  "$MEMES" dedupe --store "$WORK/store" --report >"$WORK/dedupe-report.out" 2>&1 || true
  pack_train_eval dedupe group
  UNITS="dedupe group image"
fi
stage group "$MEMES" label --store "$WORK/store" group "$WORK/site/groups.csv"
pack_train_eval group group
pack_train_eval image image

python3 - "$WORK" "$EPOCHS" "$UNITS" <<'EOF'
import json, os, re, sqlite3, sys
work, epochs, units = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def timing(name):
    text = open(os.path.join(work, name + ".time")).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return seconds, rss / 1024

db = sqlite3.connect(os.path.join(work, "store", "catalog.sqlite"))
items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
ok = db.execute("SELECT COUNT(*) FROM items WHERE status='ok'").fetchone()[0]
groups = db.execute("SELECT COUNT(DISTINCT group_id) FROM items WHERE group_id IS NOT NULL").fetchone()[0]
errors = db.execute("SELECT COUNT(*) FROM errors").fetchone()[0]
print(f"store: {items} items ({ok} ok), {groups} near-duplicate groups after `label group`, "
      f"{errors} fetch/decode errors")
print(open(os.path.join(work, "group.out")).read().strip())
report = os.path.join(work, "dedupe-report.out")
if os.path.exists(report):
    print("before `label group` (the crawl's own near-duplicate groups): "
          + open(report).readline().strip())

rows = [("crawl", items, "images fetched+decoded")]
rows.append(("group", int(re.search(r"read (\d+) rows", open(os.path.join(work, "group.out")).read()).group(1)), "CSV rows"))
results = {}
for unit in units:
    meta = json.load(open(os.path.join(work, f"shards-{unit}", "dataset.json")))
    train = sum(meta["counts"]["train"].values())
    test = sum(meta["counts"]["test"].values())
    rows.append((f"pack-{unit}", train + test, "records written"))
    rows.append((f"train-{unit}", train * epochs, f"training images ({train} x {epochs} epochs)"))
    rows.append((f"eval-{unit}", test, "test images"))
    results[unit] = (meta, json.load(open(os.path.join(work, f"eval-{unit}", "eval.json"))))

print(f"\n| stage | items | s | items/s | peak RSS MB | items are |")
print("|---|---:|---:|---:|---:|---|")
for name, count, what in rows:
    seconds, rss = timing(name)
    rate = count / seconds if seconds > 0 else 0
    print(f"| {name} | {count} | {seconds:.1f} | {rate:.0f} | {rss:.0f} | {what} |")

# Mean of per-class accuracies: the two splits hold different class mixes, so top-1 alone
# mixes leakage with the share of the easiest class.
print("\n| split unit | train items | test items | groups train/test/both sides | test top-1 | mean per-class | top-5 |")
print("|---|---:|---:|---|---:|---:|---:|")
for unit, (meta, ev) in results.items():
    g = meta["groups"]
    balanced = sum(c["accuracy"] for c in ev["per_class"]) / len(ev["per_class"])
    print(f"| {unit} | {sum(meta['items']['train'].values())} | {sum(meta['items']['test'].values())} "
          f"| {g['train']}/{g['test']}/{g.get('both', 0)} | {100 * ev['top1']:.1f} % "
          f"| {100 * balanced:.1f} % | {100 * ev['top5']:.1f} % |")
print("\n| class | test images (" + " / ".join(units) + ") | "
      + " | ".join(f"accuracy, split by {u}" for u in units) + " |")
print("|---|---:|" + "---:|" * len(units))
per_class = {u: {c["class"]: c for c in results[u][1]["per_class"]} for u in units}
for name in per_class[units[0]]:
    cells = [per_class[u].get(name, {"images": 0, "accuracy": 0}) for u in units]
    print(f"| {name} | " + " / ".join(str(c["images"]) for c in cells) + " | "
          + " | ".join(f"{100 * c['accuracy']:.1f} %" for c in cells) + " |")
EOF
echo "outputs in $WORK" >&2
