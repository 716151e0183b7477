// Format sniffing and cheap header parsing: which decoder a file needs and how large its canvas
// is, read from the first bytes before any decoder allocates. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace memes::transform {

enum class Container { kGif, kPng, kApng, kJpeg, kWebp, kBmp, kMp4, kWebm };

struct Sniffed {
  Container container = Container::kGif;
  std::string format;  // "gif", "png", "apng", "jpeg", "webp", "bmp", "mp4", "webm"
  // Canvas from the header; 0×0 for MP4/WebM, whose size FFmpeg reads from the container.
  int width = 0, height = 0;
};

// Identifies the format and parses the canvas size from the header. Errors: Unsupported naming
// the first bytes; Corrupt when a known format's header is cut short or names no size.
Result<Sniffed> Sniff(std::span<const uint8_t> bytes);

// The block structure of a GIF, walked without decoding any pixel (sub-blocks skipped).
struct GifLayout {
  int images = 0;  // complete image descriptors + data (frames)
  // Start time of each complete image and the end of the last, in seconds, with FFmpeg's gif
  // demuxer rule: a delay under 2/100 s counts as 10/100 s.
  std::vector<double> start_seconds;
  double end_seconds = 0;
  bool truncated = false;  // the file ends before the trailer (0x3B)
  bool malformed = false;  // an unknown block introducer was met
};
// Requires: bytes start with a GIF signature.
GifLayout ScanGif(std::span<const uint8_t> bytes);

// "unsupported format (first bytes 49 49 2a 00 08 00 00 00)".
std::string DescribeFirstBytes(std::span<const uint8_t> bytes);

}  // namespace memes::transform
