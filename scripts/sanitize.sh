#!/usr/bin/env bash
# The sanitizer checks of transform/ (CI runs this from scripts/test.sh):
#  1. transform_test built with AddressSanitizer + UBSan (g++, -DMEMES_SANITIZE=ON) in its own
#     build dir, run on the hostile inputs (gdk-pixbuf fail/, randomly-modified/, truncations),
#     the GIF conformance suite and the generated cases;
#  2. when clang is installed, the libFuzzer target replayed over the committed corpus
#     transform/fuzz/corpus/ and fuzzed for FUZZ_SECONDS more (default 30).
# Builds only transform targets (no LibTorch code).
#
#   scripts/sanitize.sh                 # both
#   FUZZ_SECONDS=0 scripts/sanitize.sh  # skip the fuzz run
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${JOBS:-$(nproc)}
asan_dir=${ASAN_BUILD_DIR:-$root/build-asan}
fuzz_dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}
fuzz_seconds=${FUZZ_SECONDS:-30}
start=$(date +%s)

# Quiet unless something fails: logs are printed on failure.
build() {  # build DIR TARGET CMAKE_ARGS...
  local dir=$1 target=$2
  shift 2
  mkdir -p "$dir"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$dir" -DMEMES_BUILD_BENCHMARKS=OFF "$@" >"$dir/configure.log" 2>&1 ||
      { tail -n 40 "$dir/configure.log"; exit 1; }
  fi
  cmake --build "$dir" -j "$jobs" --target "$target" >"$dir/build.log" 2>&1 ||
    { tail -n 60 "$dir/build.log"; echo "sanitize: build of $target failed" >&2; exit 1; }
}

build "$asan_dir" transform_test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMES_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$asan_dir/transform/transform_test" --gtest_brief=1 2>"$asan_dir/test.stderr" ||
  { tail -n 80 "$asan_dir/test.stderr"; echo "sanitize: transform_test failed under ASan+UBSan" >&2; exit 1; }
echo "sanitize: transform_test clean under ASan+UBSan ($(( $(date +%s) - start ))s)"

if [ "$fuzz_seconds" -gt 0 ] && command -v clang++ >/dev/null; then
  build "$fuzz_dir" transform_fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMES_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMEMES_BUILD_TESTS=OFF
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # New inputs go to a scratch dir; the committed corpus is only read.
  "$fuzz_dir/transform/transform_fuzz" -max_total_time="$fuzz_seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$work" "$root/transform/fuzz/corpus" \
    >"$fuzz_dir/fuzz.log" 2>&1 ||
    { tail -n 60 "$fuzz_dir/fuzz.log"; echo "sanitize: the fuzzer found a crash" >&2; exit 1; }
  echo "sanitize: fuzzed $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$fuzz_dir/fuzz.log" |
    grep -o '[0-9]*$') inputs in ${fuzz_seconds}s without a finding"
fi
echo "sanitize: done in $(( $(date +%s) - start ))s"
