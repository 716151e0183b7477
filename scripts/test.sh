#!/usr/bin/env bash
# Sets up (packages + build of every target: the binary, tests and benches) and runs the test
# suite: the README's test command and CI's.
#
#   scripts/test.sh             # the default suite (everything but the `slow` label)
#   scripts/test.sh -L slow     # extra ctest arguments pass through
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
MEMES_BUILD_TARGETS=all "$root/scripts/setup.sh"
args=("$@")
if ((${#args[@]} == 0)); then args=(-LE slow); fi
ctest --test-dir "$build_dir" -j "${JOBS:-$(nproc)}" --output-on-failure --timeout 900 "${args[@]}"
# The sanitizer checks (scripts/sanitize.sh): transform_test and store_test under ASan+UBSan, then
# every libFuzzer target of scripts/fuzz_targets.txt replayed over its corpus and fuzzed
# FUZZ_SECONDS_EACH (10) seconds, in their own build dirs (about 13 min from scratch on 2 cores;
# no LibTorch code is built). Only with the default suite; MEMES_SKIP_SANITIZE=1 skips them.
if (($# == 0)) && [ "${MEMES_SKIP_SANITIZE:-0}" != 1 ]; then
  "$root/scripts/sanitize.sh"
fi
