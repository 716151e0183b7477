// Still PNG, JPEG and BMP through OpenCV's imdecode.
#include <exception>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "transform/decoders.h"

namespace memes::transform {

Status DecodeStill(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                   int* width, int* height) {
  // JPEG has no alpha, and IMREAD_COLOR applies its EXIF orientation; PNG and BMP keep alpha
  // (IMREAD_UNCHANGED) so it can be composited onto the background.
  const int flags = sniffed.container == Container::kJpeg ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
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
  *width = image.cols;
  *height = image.rows;
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
