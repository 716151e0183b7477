// Still JPEG through OpenCV's imdecode (libjpeg-turbo; EXIF orientation; DCT scaling). The
// code reads any still OpenCV decodes, but DecodeToFrames sends only JPEG here.
#include <algorithm>
#include <exception>
#include <string>

#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include "transform/decoders.h"

namespace memes::transform {

Status DecodeStill(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                   int* width, int* height) {
  // JPEG has no alpha, and IMREAD_COLOR applies its EXIF orientation; PNG and BMP keep alpha
  // (IMREAD_UNCHANGED) so it can be composited onto the background.
  const bool is_jpeg = sniffed.container == Container::kJpeg;
  int flags = is_jpeg ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
  if (is_jpeg && !sink.options().keep_full_size) {
    // libjpeg can decode at 1/2, 1/4 or 1/8 scale for little more than the cost of the
    // smaller image: take the largest reduction that still leaves 4x the frame size.
    const int shorter = std::min(sniffed.width, sniffed.height);
    const int needed = 4 * sink.options().size;
    if (shorter >= 8 * needed) {
      flags = cv::IMREAD_REDUCED_COLOR_8;
    } else if (shorter >= 4 * needed) {
      flags = cv::IMREAD_REDUCED_COLOR_4;
    } else if (shorter >= 2 * needed) {
      flags = cv::IMREAD_REDUCED_COLOR_2;
    }
  }
  static std::once_flag quiet_logs;  // a refused file is a Status, not a line on stderr
  std::call_once(quiet_logs,
                 [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
  cv::Mat image;
  try {
    const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1,
                          const_cast<uint8_t*>(bytes.data()));
    image = cv::imdecode(encoded, flags);
  } catch (const std::exception& error) {
    return Corrupt("invalid " + sniffed.format + ": " + error.what());
  }
  if (image.empty()) return Corrupt("invalid or truncated " + sniffed.format);
  if (image.depth() == CV_16U) image.convertTo(image, CV_8U, 1.0 / 257.0);
  if (image.depth() != CV_8U) return Unsupported(sniffed.format + " with unusual sample depth");
  // The canvas is the header's size, turned when EXIF orientation swapped the axes.
  const bool turned = (image.cols < image.rows) != (sniffed.width < sniffed.height);
  *width = turned ? sniffed.height : sniffed.width;
  *height = turned ? sniffed.width : sniffed.height;
  PixelOrder order;
  switch (image.channels()) {
    case 1:
      order = PixelOrder::kGray;
      break;
    case 3:
      order = PixelOrder::kBgr;
      break;
    case 4:
      order = PixelOrder::kBgra;
      break;
    default:
      return Unsupported(sniffed.format + " with " + std::to_string(image.channels()) +
                         " channels");
  }
  return sink.Add(image.data, image.cols, image.rows, image.step[0], order, 0.0, 0.0);
}

}  // namespace memes::transform
