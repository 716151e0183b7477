// transform/: the bytes of one downloaded file → the 32×32 RGB frames a dataset is made of.
// Sniffs the format from magic bytes, decodes (FFmpeg, libwebp, OpenCV), composites alpha onto a
// background, picks frames, fits, hashes. Thread-safe: every function is reentrant and shares no
// state, so many files may be decoded on many threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/image_settings.h"
#include "core/status.h"
#include "transform/phash.h"
#include "transform/signature.h"

namespace memes::transform {

using FitMode = memes::FitMode;  // core/image_settings.h

// The image settings (size, fit, background, max_frames: core/image_settings.h, one set of
// defaults for the whole program) plus what only decoding needs.
struct DecodeOptions : ImageSettings {
  // Limits against hostile input; each is checked before the allocation it guards.
  uint64_t max_file_bytes = 20'000'000;
  uint64_t max_canvas_pixels = 40'000'000;  // checked from the header, before decoding
  int max_decoded_frames = 1000;            // decoding stops here (result flagged partial)
  int time_budget_ms = 2000;  // decoding stops here (partial, or an error with no frame)
  // Additions beyond the 32×32 output:
  bool drop_near_duplicates = true;  // drop a kept frame near-identical to the one before it
  bool keep_full_size = false;       // also return each kept frame at canvas size (Frame::full_rgb)
};

struct Frame {
  int index = 0;                // frame number in the file (0-based)
  double time_seconds = 0;      // presentation time
  std::vector<uint8_t> planar;  // 3*size*size bytes: all R (row-major), then all G, then all B
  uint64_t phash = 0;  // near-duplicate signature of the fitted frame (signature.h ContentHash)
  // phash in the eight orientations (phash.h, ContentHashes); [0] == phash. Near-duplicate
  // grouping probes them all so that a rotated or mirrored re-upload joins the picture's group.
  OrientationHashes orientation_hashes{};
  // The verification thumbnail in the same eight orientations (signature.h ContentThumbsOf):
  // grouping checks a hash candidate against it before joining.
  ContentThumbs orientation_thumbs{};
  // The second candidate hash and its verification thumbnail in the same eight orientations
  // (signature.h BandHashes, BandThumbsOf).
  OrientationHashes second_hashes{};
  ContentThumbs second_thumbs{};
  // Only with DecodeOptions::keep_full_size: the composited canvas before fitting,
  // full_width*full_height*3 bytes of interleaved RGB, row-major.
  std::vector<uint8_t> full_rgb;
  int full_width = 0, full_height = 0;
};

struct Decoded {
  std::string format;           // "gif", "png", "apng", "jpeg", "webp", "bmp", "mp4", "webm"
  int width = 0, height = 0;    // canvas
  int frames_in_file = 0;       // whole frames decoded (a damaged tail is not counted)
  bool partial = false;         // damage after some frames; `frames` holds what came before
  std::string partial_reason;   // e.g. "truncated GIF after frame 7"
  std::vector<Frame> frames;    // kept frames, fitted to size×size
  double duration_seconds = 0;  // end of the last decoded frame (0 for a still image)
};

// Decodes one file held in memory. Never throws; every failure is a Status:
//   kLimitExceeded  "file of N bytes exceeds limit of M", "canvas 65535x65535 exceeds limit",
//                   "decode time budget of 2000 ms exceeded" (when no frame was decoded yet)
//   kUnsupported    "unsupported format (first bytes 49 49 2a 00 …)"
//   kCorrupt        "truncated GIF after frame 0", "invalid PNG", "zero-size canvas"
//   kInvalidArgument options out of range
// Requires: bytes stay valid for the call. Returns at least one frame when OK.
// On first use it sets FFmpeg's log level to quiet and caps any single FFmpeg allocation at
// 256 MiB (av_max_alloc), process-wide.
Result<Decoded> DecodeToFrames(std::span<const uint8_t> bytes, const DecodeOptions& options);

// Exact rotation of a planar 3×S×S frame by quarter turns (0..3, counter-clockwise), no resampling.
// Requires: planar.size() == 3*size*size. Any integer quarter_turns is taken modulo 4.
std::vector<uint8_t> RotatePlanar(std::span<const uint8_t> planar, int size, int quarter_turns);

// Number of differing bits between two perceptual hashes (0..64); <= 8 is "looks the same".
int HammingDistance(uint64_t a, uint64_t b);

// (3, size, size) planar -> (size, size, 3) interleaved RGB, e.g. to write a fitted frame out.
// Requires: planar.size() == 3*size*size.
std::vector<uint8_t> PlanarToInterleaved(std::span<const uint8_t> planar, int size);

// PNG bytes of width×height interleaved RGB (e.g. Frame::full_rgb). Empty if encoding failed.
// Requires: rgb.size() == width*height*3.
std::vector<uint8_t> EncodePng(std::span<const uint8_t> rgb, int width, int height);

// The format sniffed from the first bytes ("gif", "png", …) or an Unsupported status naming them.
Result<std::string> SniffFormat(std::span<const uint8_t> bytes);

}  // namespace memes::transform
