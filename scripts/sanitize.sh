#!/usr/bin/env bash
# The sanitizer and fuzzing checks (CI runs this from scripts/test.sh):
#  1. transform_test and store_test built with AddressSanitizer + UBSan and run (hostile images,
#     shard folders, CSVs);
#  2. when clang is installed, every libFuzzer target in scripts/fuzz_targets.txt: its committed
#     seed corpus replayed, then FUZZ_SECONDS_EACH seconds of fuzzing (default 10; 0 replays
#     only). New inputs go to a scratch folder; the committed corpora are only read.
# With clang both share one build dir (-DMEMES_SANITIZE=ON -DMEMES_FUZZ=ON): the libraries are
# compiled once, with ASan/UBSan and the fuzzer's coverage, and serve the tests and the fuzzers
# (two separate dirs compiled core/transform/store/ingest twice: half of the old run's time).
# Without clang the tests are built with g++. Builds no LibTorch code.
#
#   scripts/sanitize.sh                        # both
#   FUZZ_SECONDS_EACH=0 scripts/sanitize.sh    # replay the corpora, no fuzzing
#   MEMES_SKIP_FUZZ=1 scripts/sanitize.sh      # sanitizer tests only
#   MEMES_SKIP_ASAN=1 scripts/sanitize.sh      # fuzz targets only
#   FUZZ_ONLY=shard_reader_fuzz FUZZ_SECONDS_EACH=600 scripts/sanitize.sh   # some targets, longer
#     (FUZZ_ONLY: space-separated cmake target names)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${JOBS:-$(nproc)}
sanitize_dir=${SANITIZE_BUILD_DIR:-$root/build-sanitize}
fuzz_seconds=${FUZZ_SECONDS_EACH:-${FUZZ_SECONDS:-10}}
fuzz_only=${FUZZ_ONLY:-}
start=$(date +%s)
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# Quiet unless something fails: logs are printed on failure.
build() {  # build DIR "TARGET…" CMAKE_ARGS...
  local dir=$1 targets=$2
  shift 2
  mkdir -p "$dir"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$dir" -DMEMES_BUILD_BENCHMARKS=OFF "${launcher[@]}" "$@" \
      >"$dir/configure.log" 2>&1 || { tail -n 40 "$dir/configure.log"; exit 1; }
  fi
  # shellcheck disable=SC2086  # the target list is split on purpose
  cmake --build "$dir" -j "$jobs" --target $targets >"$dir/build.log" 2>&1 ||
    { tail -n 60 "$dir/build.log"; echo "sanitize: build of $targets failed" >&2; exit 1; }
}

use_fuzz=1
if [ "${MEMES_SKIP_FUZZ:-0}" = 1 ]; then use_fuzz=0; fi
if ((use_fuzz)) && ! command -v clang++ >/dev/null; then
  echo "sanitize: clang++ not installed: fuzz targets skipped"
  use_fuzz=0
fi

# target binary corpus, one triple per line of scripts/fuzz_targets.txt
lines=()
targets=()
if ((use_fuzz)); then
  mapfile -t lines < <(sed -e 's/#.*//' -e '/^\s*$/d' "$root/scripts/fuzz_targets.txt")
  for line in "${lines[@]}"; do
    read -r target _ _ <<<"$line"
    if [ -z "$fuzz_only" ] || [[ " $fuzz_only " == *" $target "* ]]; then targets+=("$target"); fi
  done
  if ((${#targets[@]} == 0)); then echo "sanitize: no fuzz target matches '$fuzz_only'" >&2; exit 1; fi
fi

tests=()
if [ "${MEMES_SKIP_ASAN:-0}" != 1 ]; then tests=(transform_test store_test); fi
if ((${#tests[@]} + ${#targets[@]} == 0)); then exit 0; fi
if ((use_fuzz)); then
  build "$sanitize_dir" "${tests[*]} ${targets[*]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMEMES_SANITIZE=ON -DMEMES_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
else
  build "$sanitize_dir-gcc" "${tests[*]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMES_SANITIZE=ON
  sanitize_dir=$sanitize_dir-gcc
fi
echo "sanitize: built ${tests[*]} ${targets[*]} ($(( $(date +%s) - start ))s)"

if ((${#tests[@]})); then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for test in transform/transform_test store/store_test; do
    "$sanitize_dir/$test" --gtest_brief=1 2>"$sanitize_dir/test.stderr" >"$sanitize_dir/test.stdout" ||
      { tail -n 80 "$sanitize_dir/test.stdout" "$sanitize_dir/test.stderr"
        echo "sanitize: $test failed under ASan+UBSan" >&2; exit 1; }
  done
  echo "sanitize: transform_test, store_test clean under ASan+UBSan ($(( $(date +%s) - start ))s)"
fi
if ((${#targets[@]} == 0)); then exit 0; fi
# The fuzzers' own options, not the tests' (leaks are reported by libFuzzer itself).
unset ASAN_OPTIONS UBSAN_OPTIONS
fuzz_dir=$sanitize_dir
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for line in "${lines[@]}"; do
  read -r target binary corpus <<<"$line"
  if [ -n "$fuzz_only" ] && [[ " $fuzz_only " != *" $target "* ]]; then continue; fi
  mkdir -p "$work/$target"
  log="$fuzz_dir/$target.log"
  # The corpus is loaded (every file run once) before fuzzing starts; -runs=0 stops there.
  if [ "$fuzz_seconds" -gt 0 ]; then limit=(-max_total_time="$fuzz_seconds"); else limit=(-runs=0); fi
  (cd "$work" && "$fuzz_dir/$binary" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$fuzz_dir/$target-" -print_final_stats=1 "$work/$target" "$root/$corpus") >"$log" 2>&1 ||
    { tail -n 60 "$log"
      echo "sanitize: $target found a crash (log: $log; input: $fuzz_dir/$target-*)" >&2; exit 1; }
  echo "sanitize: $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
    grep -o '[0-9]*$') inputs ($(find "$root/$corpus" -type f | wc -l) seeds replayed, ${fuzz_seconds}s fuzzing), no finding"
done
echo "sanitize: done in $(( $(date +%s) - start ))s"
