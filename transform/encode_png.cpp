// Writing frames back out as PNG (for `memes inspect --out`).
#include <cassert>
#include <exception>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frames.h"

namespace memes::transform {

std::vector<uint8_t> PlanarToInterleaved(std::span<const uint8_t> planar, int size) {
  const size_t plane = size_t(size) * size;
  assert(planar.size() == 3 * plane);
  std::vector<uint8_t> rgb(3 * plane);
  for (size_t i = 0; i < plane; ++i) {
    rgb[3 * i] = planar[i];
    rgb[3 * i + 1] = planar[plane + i];
    rgb[3 * i + 2] = planar[2 * plane + i];
  }
  return rgb;
}

std::vector<uint8_t> EncodePng(std::span<const uint8_t> rgb, int width, int height) {
  assert(rgb.size() == size_t(width) * height * 3);
  std::vector<uint8_t> png;
  try {
    const cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
    cv::Mat bgr;
    cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imencode(".png", bgr, png)) png.clear();
  } catch (const std::exception&) {
    png.clear();
  }
  return png;
}

}  // namespace memes::transform
