#include "core/image_settings.h"

#include <cstdio>

namespace memes {

const char* FitModeName(FitMode mode) {
  switch (mode) {
    case FitMode::kPad:
      return "pad";
    case FitMode::kCrop:
      return "crop";
    case FitMode::kStretch:
      return "stretch";
  }
  return "pad";
}

std::optional<FitMode> ParseFitMode(std::string_view name) {
  for (FitMode mode : {FitMode::kPad, FitMode::kCrop, FitMode::kStretch}) {
    if (name == FitModeName(mode)) return mode;
  }
  return std::nullopt;
}

std::string BackgroundHex(const uint8_t rgb[3]) {
  char hex[7];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return hex;
}

bool ParseBackgroundHex(std::string_view text, uint8_t rgb[3]) {
  if (!text.empty() && text.front() == '#') text.remove_prefix(1);
  if (text.size() != 6) return false;
  uint8_t parsed[3];
  for (int i = 0; i < 3; ++i) {
    unsigned value = 0;
    for (int j = 0; j < 2; ++j) {
      const char c = text[2 * i + j];
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= c - '0';
      else if (c >= 'a' && c <= 'f')
        value |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        value |= c - 'A' + 10;
      else
        return false;
    }
    parsed[i] = static_cast<uint8_t>(value);
  }
  for (int i = 0; i < 3; ++i) rgb[i] = parsed[i];
  return true;
}

std::string DescribeImageSettings(const ImageSettings& settings) {
  return "size " + std::to_string(settings.size) + ", fit " + FitModeName(settings.fit) +
         ", background " + BackgroundHex(settings.background) + ", max_frames " +
         std::to_string(settings.max_frames);
}

Status CheckImageSettings(const ImageSettings& settings) {
  if (settings.size < 1 || settings.size > kMaxImageSize) {
    return InvalidArgument("image size must be 1.." + std::to_string(kMaxImageSize) + ", not " +
                           std::to_string(settings.size));
  }
  if (settings.max_frames < 1 || settings.max_frames > kMaxFramesKept) {
    return InvalidArgument("max_frames must be 1.." + std::to_string(kMaxFramesKept) + ", not " +
                           std::to_string(settings.max_frames));
  }
  return Status::Ok();
}

}  // namespace memes
