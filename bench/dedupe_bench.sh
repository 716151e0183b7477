#!/usr/bin/env bash
# Near-duplicate grouping figures on real images (bench/dedupe_bench.cpp): fetches the Noto and
# Twemoji packages from npm once (60–75 MB each; never in tests, never committed), then runs
# build/bench/dedupe_bench and prints its markdown with the machine load.
#
# Usage: bench/dedupe_bench.sh   (from the repository root, after building dedupe_bench)
# Settings (environment):
#   EMOJI_DIR  where the packages are (or get) unpacked   (default: /tmp/emoji)
#   ORIGINALS  emoji originals, each with 12 copies + the other vendor's drawing (1000)
#   ORIGINALS_FROM  google: Noto drawings are the originals, Twemoji the other vendor's; twitter:
#              the other way round (flat vector art, which a signature tuned on Noto alone can
#              miss: docs/benchmarks.md, "The content hash above a margin") (google)
#   STORED     hashes in the index / items in the catalog for the speed figures (200000)
#   BENCH      the binary (build/bench/dedupe_bench)
#   VIEWPOINT  1: also the scene pairs of OpenCV's example images (--viewpoint), from Debian's
#              opencv-doc package, downloaded (95 MB, `apt-get download`) and unpacked into
#              $EMOJI_DIR/opencv-doc once (0)
set -euo pipefail

BENCH=${BENCH:-build/bench/dedupe_bench}
EMOJI_DIR=${EMOJI_DIR:-/tmp/emoji}
ORIGINALS=${ORIGINALS:-1000}
STORED=${STORED:-200000}
VIEWPOINT=${VIEWPOINT:-0}
ORIGINALS_FROM=${ORIGINALS_FROM:-google}
case $ORIGINALS_FROM in
  google) other=twitter ;;
  twitter) other=google ;;
  *) echo "ORIGINALS_FROM must be google or twitter, not '$ORIGINALS_FROM'" >&2; exit 2 ;;
esac
[[ -x $BENCH ]] || { echo "no $BENCH: cmake --build build --target dedupe_bench" >&2; exit 2; }

mkdir -p "$EMOJI_DIR"
for package in emoji-datasource-google emoji-datasource-twitter; do
  if [[ ! -d $EMOJI_DIR/$package-16.0.0/package ]]; then
    (cd "$EMOJI_DIR" && npm pack --silent "$package@16.0.0" >/dev/null &&
       mkdir -p "$package-16.0.0" && tar -xzf "$package-16.0.0.tgz" -C "$package-16.0.0")
  fi
done

echo "load before: $(uptime)"
# --google: the originals' drawings, --twitter: the other vendor's (the flags' names).
stdbuf -oL "$BENCH" \
  --google "$EMOJI_DIR/emoji-datasource-$ORIGINALS_FROM-16.0.0/package/img/$ORIGINALS_FROM/64" \
  --twitter "$EMOJI_DIR/emoji-datasource-$other-16.0.0/package/img/$other/64" \
  --emoji-json "$EMOJI_DIR/emoji-datasource-google-16.0.0/package/emoji.json" \
  --gif-suite /usr/libexec/installed-tests/gdk-pixbuf \
  --originals "$ORIGINALS" --stored "$STORED"
echo "load after: $(uptime)"

if [[ $VIEWPOINT == 1 ]]; then
  data=$EMOJI_DIR/opencv-doc/usr/share/doc/opencv-doc/examples/data
  if [[ ! -d $data ]]; then
    (cd "$EMOJI_DIR" && apt-get download opencv-doc >/dev/null &&
       mkdir -p opencv-doc && dpkg-deb --fsys-tarfile opencv-doc_*_all.deb |
       tar -x -C opencv-doc ./usr/share/doc/opencv-doc/examples/data/)
  fi
  "$BENCH" --viewpoint "$data"
fi
