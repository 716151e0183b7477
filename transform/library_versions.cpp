#include "transform/library_versions.h"

#include <webp/decode.h>
#include <opencv2/core/version.hpp>

extern "C" {
#include <libavutil/avutil.h>
}

namespace memes::transform {

std::vector<LibraryVersion> LibraryVersions() {
  const int webp = WebPGetDecoderVersion();
  return {
      {"FFmpeg", av_version_info()},
      {"libwebp", std::to_string(webp >> 16) + "." + std::to_string((webp >> 8) & 0xff) + "." +
                      std::to_string(webp & 0xff)},
      {"OpenCV", CV_VERSION},
  };
}

}  // namespace memes::transform
