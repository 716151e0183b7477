#!/usr/bin/env bash
# The GPU checks and figures of issue 13 (item 3), in one go, on a machine with a CUDA GPU.
# Prepared and checked on a CPU machine (bash -n, the --dry-run below); NOT yet run on a GPU:
# no figure in docs/benchmarks.md comes from it until someone runs it there.
#
# Steps (each logged to $LOGS/<step>.log; a failed step is reported and the next ones still run
# where they can, the exit status is 1 if any failed):
#   1 preflight  python3 with a CUDA torch that sees a GPU, cmake, g++, and Debian's -dev
#                packages (cmake/Dependencies.cmake names any missing one)
#   2 build      memes, memes-train, train_data_test, train_model_test against the LibTorch
#                inside that PyTorch (build-gpu/, Release)
#   3 tests      the train suites (ctest -R '^train_'): their models take device "auto", so on
#                this build they run on the GPU
#   4 parity     the same checkpoint's probabilities from `memes predict --device cpu` and
#                `--device cuda` on the test pictures, max abs difference (TF32 convolutions:
#                tolerance $PARITY_TOL)
#   5 memes      `memes train` on Fashion-MNIST (60 000/10 000) with $PRESET (the airbench-style
#                `fast` preset when this build has it) and $TRAIN_ARGS (e.g. the data-on-device
#                flag of the recipe work); images/s and time to $TARGET test accuracy
#   6 pytorch    the PyTorch eager peer on the same GPU and shards (bench/pytorch_train.py
#                --device cuda: channels-last, autocast, GradScaler), same figures
#   7 summary    one table, also in $LOGS/summary.txt
#
#   bench/train_gpu.sh [--dry-run]
# Environment (defaults): EPOCHS=10 PRESET=fast PEER_PRESET=$PRESET BATCH=512 TARGET=0.93
#   PARITY_TOL=5e-3 TRAIN_ARGS="" PYTHON=python3 JOBS=$(nproc) LOGS=/tmp/memes-gpu
#   FASHION_MNIST=/usr/share/datasets/fashion-mnist (the four .gz files of dataset-fashion-mnist)
#   SHARDS=$LOGS/fashion-shards (made from FASHION_MNIST when it holds no dataset.json)
#
# On this project's lent GPU machine (an image with PyTorch, CUDA and CMake but none of Debian's
# -dev packages, and no network): step 2 cannot build memes there, because FFmpeg, OpenCV, oneTBB
# and the other libraries the memes libraries link (about 300 MiB of Debian packages) are not
# installed and cannot be fetched; the preflight says so and steps 2–5 are skipped, while step 6
# (PyTorch only) still runs if Fashion-MNIST's .gz files (30 MiB) were carried along and
# FASHION_MNIST points at them. On a Debian 12 machine with a GPU, after scripts/setup.sh and a
# CUDA PyTorch (pip), every step runs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
EPOCHS=${EPOCHS:-10}
PRESET=${PRESET:-fast}
PEER_PRESET=${PEER_PRESET:-$PRESET}
BATCH=${BATCH:-512}
TARGET=${TARGET:-0.93}
PARITY_TOL=${PARITY_TOL:-5e-3}
TRAIN_ARGS=${TRAIN_ARGS:-}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
LOGS=${LOGS:-/tmp/memes-gpu}
FASHION_MNIST=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
SHARDS=${SHARDS:-$LOGS/fashion-shards}
build=$root/build-gpu
mkdir -p "$LOGS"
failed=()
skipped=()

# step NAME COMMAND...: runs COMMAND with its output in $LOGS/NAME.log, records a failure.
step() {
  local name=$1
  shift
  echo "== $name: $*"
  if [ "$dry_run" = 1 ]; then return 0; fi
  if "$@" >"$LOGS/$name.log" 2>&1; then
    echo "   ok ($LOGS/$name.log)"
    return 0
  fi
  echo "   FAILED: tail of $LOGS/$name.log" >&2
  tail -n 30 "$LOGS/$name.log" >&2
  failed+=("$name")
  return 1
}
skip() {
  echo "== $1: skipped ($2)"
  skipped+=("$1: $2")
}

# --- 1 preflight -----------------------------------------------------------------------------
have_torch=0
if "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  have_torch=1
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda,
    torch.cuda.get_device_name(), "%.0f GiB" % (torch.cuda.get_device_properties(0).total_memory / 2**30))' \
    | tee "$LOGS/device.txt"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv >>"$LOGS/device.txt" 2>&1 || true
else
  echo "preflight: $PYTHON has no torch that sees a CUDA device" >&2
  [ "$dry_run" = 1 ] || exit 2
fi
can_build=1
for tool in cmake g++ pkg-config; do
  command -v "$tool" >/dev/null || { echo "preflight: no $tool" >&2; can_build=0; }
done
missing=()
if command -v pkg-config >/dev/null; then
  for module in libavformat libavcodec libswscale libwebp libwebpdemux libcurl sqlite3 gumbo \
    libjpeg re2 tbb opencv4; do
    pkg-config --exists "$module" || missing+=("$module")
  done
fi
for header in toml++/toml.h CLI/CLI.hpp nlohmann/json.hpp httplib.h gtest/gtest.h; do
  [ -e "/usr/include/$header" ] || missing+=("$header")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "preflight: Debian development packages missing (${missing[*]}): memes cannot be built" \
    "here; run scripts/setup.sh on a Debian 12 machine with a GPU (this is expected on the" \
    "project's lent GPU machine, which has no Debian packages and no network)" >&2
  can_build=0
fi

# --- 2 build ---------------------------------------------------------------------------------
memes=$build/memes
if [ "$can_build" = 1 ]; then
  prefix=$("$PYTHON" -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null)
  step configure cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DMEMES_BUILD_BENCHMARKS=OFF || can_build=0
fi
if [ "$can_build" = 1 ]; then
  step build cmake --build "$build" -j "$JOBS" --target memes memes-train train_data_test \
    train_model_test || can_build=0
fi

# --- 3 the train suites on the GPU -----------------------------------------------------------
if [ "$can_build" = 1 ]; then
  step tests ctest --test-dir "$build" -R '^train_' --output-on-failure --timeout 900
else
  skip tests "memes not built"
fi

# --- shards for steps 4-6 --------------------------------------------------------------------
have_shards=0
if [ -f "$SHARDS/dataset.json" ]; then
  have_shards=1
elif [ -f "$FASHION_MNIST/train-images-idx3-ubyte.gz" ]; then
  step shards "$PYTHON" "$root/bench/fashion_mnist_to_shards.py" "$SHARDS" "$FASHION_MNIST" &&
    have_shards=1
else
  skip shards "no $SHARDS/dataset.json and no Fashion-MNIST in $FASHION_MNIST"
fi

# --- 5 memes train (before 4: parity uses its checkpoint) ------------------------------------
preset=$PRESET
if [ "$can_build" = 1 ] && [ "$dry_run" = 0 ] &&
  ! "$memes" train --help 2>&1 | grep -q -- "$PRESET"; then
  echo "   this build has no preset '$PRESET'; using 'small' (set PRESET to choose)" >&2
  preset=small
fi
run=$LOGS/memes-run
if [ "$can_build" = 1 ] && [ "$have_shards" = 1 ]; then
  # shellcheck disable=SC2086 # TRAIN_ARGS is a list of options
  step memes "$memes" train "$SHARDS" -o "$run" --force --preset "$preset" --epochs "$EPOCHS" \
    --batch-size "$BATCH" --device cuda --threads "$JOBS" -q $TRAIN_ARGS
else
  skip memes "needs memes and the shards"
fi

# --- 4 parity: the same checkpoint on CPU and GPU --------------------------------------------
if [ "$can_build" = 1 ] && [ -f "$run/last.pt" ]; then
  pictures=$LOGS/parity-pictures
  parity() {
    rm -rf "$pictures" && mkdir -p "$pictures"
    # 64 test records as PNGs: the same bytes go through both devices.
    "$PYTHON" - "$SHARDS" "$pictures" <<'PY' || return 1
import json, os, sys, zlib, struct
shards, out = sys.argv[1], sys.argv[2]
size = json.load(open(os.path.join(shards, "dataset.json")))["image_size"]
data = open(os.path.join(shards, "test_batch.bin"), "rb").read()
record = 1 + 3 * size * size
def png(rgb_rows):
    raw = b"".join(b"\0" + row for row in rgb_rows)
    chunk = lambda tag, body: (struct.pack(">I", len(body)) + tag + body +
                               struct.pack(">I", zlib.crc32(tag + body) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in range(64):
    r = data[i * record + 1:(i + 1) * record]
    plane = size * size
    rows = [bytes(v for x in range(size) for v in (r[y * size + x], r[plane + y * size + x],
                                                   r[2 * plane + y * size + x]))
            for y in range(size)]
    open(os.path.join(out, "%03d.png" % i), "wb").write(png(rows))
PY
    "$memes" predict "$run/last.pt" "$pictures" --json --top-k 1000 --device cpu >"$LOGS/cpu.jsonl" &&
      "$memes" predict "$run/last.pt" "$pictures" --json --top-k 1000 --device cuda >"$LOGS/cuda.jsonl" &&
      "$PYTHON" - "$LOGS/cpu.jsonl" "$LOGS/cuda.jsonl" "$PARITY_TOL" <<'PY'
import json, sys
cpu = [json.loads(l) for l in open(sys.argv[1])]
gpu = [json.loads(l) for l in open(sys.argv[2])]
assert len(cpu) == len(gpu) == 64, (len(cpu), len(gpu))
worst = 0.0
for a, b in zip(cpu, gpu):
    pa = {t["class"]: t["probability"] for t in a["top"]}
    pb = {t["class"]: t["probability"] for t in b["top"]}
    worst = max(worst, max(abs(pa[c] - pb[c]) for c in pa))
print("parity: max abs probability difference CPU vs CUDA over 64 pictures: %.3g" % worst)
sys.exit(0 if worst <= float(sys.argv[3]) else 1)
PY
  }
  step parity parity
else
  skip parity "needs memes and a checkpoint from the memes step"
fi

# --- 6 the PyTorch eager peer ----------------------------------------------------------------
if [ "$have_torch" = 1 ] && [ "$have_shards" = 1 ]; then
  step pytorch env PYTHONUNBUFFERED=1 "$PYTHON" "$root/bench/pytorch_train.py" "$SHARDS" \
    --preset "$PEER_PRESET" --epochs "$EPOCHS" --batch-size "$BATCH" --device cuda \
    --threads "$JOBS"
else
  skip pytorch "needs a CUDA torch and the shards"
fi

# --- 7 summary -------------------------------------------------------------------------------
[ "$dry_run" = 1 ] && exit 0
"$PYTHON" - "$run/metrics.jsonl" "$LOGS/pytorch.log" "$TARGET" "$preset" "$PEER_PRESET" \
  <<'PY' | tee "$LOGS/summary.txt"
import json, os, sys
ours_path, theirs_path, target = sys.argv[1], sys.argv[2], float(sys.argv[3])
def lines(path):
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out
def figures(name, rows, seconds_key, ips_key, acc_key):
    if not rows:
        return "%-28s no figures" % name
    elapsed, reached = 0.0, None
    for r in rows:
        elapsed += r[seconds_key]
        if reached is None and r[acc_key] >= target:
            reached = elapsed
    ips = sum(r[ips_key] for r in rows[1:] or rows) / len(rows[1:] or rows)  # epoch 1 warms up
    return "%-28s %8.0f images/s  best test %.2f%%  time to %.0f%%: %s" % (
        name, ips, 100 * max(r[acc_key] for r in rows), 100 * target,
        "%.1f s" % reached if reached is not None else "not reached")
print(figures("memes (%s)" % sys.argv[4], lines(ours_path), "seconds", "images_per_s", "test_acc"))
print(figures("pytorch eager (%s)" % sys.argv[5], lines(theirs_path), "train_seconds",
              "images_per_s", "test_acc"))
PY
[ ${#skipped[@]} -gt 0 ] && printf 'skipped: %s\n' "${skipped[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
