// The image settings: how a downloaded picture becomes the S×S RGB frames a dataset is made of
// (size, fit, background, frames kept per animation). One type with one set of defaults, shared
// by the pipeline file ([image]), transform/ (DecodeOptions), the store (catalog meta), pack
// (dataset.json) and train/ (the checkpoint), so that `predict` fits a picture exactly as the
// crawl did. Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace memes {

enum class FitMode {
  kPad,      // keep the whole picture, letterbox with the background colour (default)
  kCrop,     // centre crop to a square, then scale
  kStretch,  // scale each axis independently
};

inline constexpr int kMaxImageSize = 4096;  // the largest S any module accepts
inline constexpr int kMaxFramesKept = 64;

struct ImageSettings {
  int size = 32;                            // S: frames are 3×S×S bytes; 1..kMaxImageSize
  FitMode fit = FitMode::kPad;              // pad keeps the whole sticker
  uint8_t background[3] = {255, 255, 255};  // RGB that transparent and padded pixels become
  int max_frames = 4;  // frames kept per animation, spread over its duration; 1..kMaxFramesKept
  bool operator==(const ImageSettings&) const = default;
  size_t frame_bytes() const { return 3u * size * size; }
};

// "pad", "crop", "stretch".
const char* FitModeName(FitMode mode);
// The mode named by FitModeName; nullopt for anything else.
std::optional<FitMode> ParseFitMode(std::string_view name);

// "ffffff": six lower-case hex digits, no '#' (the store's catalog and dataset.json write this).
std::string BackgroundHex(const uint8_t rgb[3]);
// Reads "ffffff" or "#ffffff" (either case) into rgb; false (rgb untouched) for anything else.
bool ParseBackgroundHex(std::string_view text, uint8_t rgb[3]);

// "size 32, fit pad, background ffffff, max_frames 4", for messages.
std::string DescribeImageSettings(const ImageSettings& settings);

// InvalidArgument naming the first field out of range, else OK.
Status CheckImageSettings(const ImageSettings& settings);

}  // namespace memes
