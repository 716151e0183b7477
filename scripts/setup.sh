#!/usr/bin/env bash
# Installs what memes needs on Debian 12 (scripts/packages.txt), then configures and builds the
# `memes` binary only (what `memes demo` needs; scripts/test.sh builds the tests and benches).
# Uses ccache when it is installed. Idempotent and quiet when everything is already there.
#
#   scripts/setup.sh              # packages + Release build of build/memes
#   BUILD_DIR=out scripts/setup.sh
#   MEMES_BUILD_TARGETS=all scripts/setup.sh   # build every target instead
#   MEMES_SKIP_BUILD=1 scripts/setup.sh   # packages only
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

mapfile -t wanted < <(grep -v '^\s*#' "$root/scripts/packages.txt" | sed '/^\s*$/d')
missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${MEMES_SKIP_BUILD:-0}" = 1 ]; then exit 0; fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
targets=${MEMES_BUILD_TARGETS:-memes}
# Quiet unless something fails: the build log goes to a file that is printed on failure.
log="$build_dir/build.log"
# shellcheck disable=SC2086  # a list of targets
if ! cmake --build "$build_dir" -j "$jobs" --target $targets >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "setup: build failed; full log in $log" >&2
  exit 1
fi
