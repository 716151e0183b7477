#include "transform/fit.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace memes::transform {

int BytesPerPixel(PixelOrder order) {
  switch (order) {
    case PixelOrder::kRgba:
    case PixelOrder::kBgra:
      return 4;
    case PixelOrder::kRgb:
    case PixelOrder::kBgr:
      return 3;
    case PixelOrder::kGray:
      return 1;
  }
  return 4;
}

namespace {

// Blends one channel value onto the background; exact for a = 0 and a = 255.
inline uint8_t Blend(uint32_t value, uint32_t alpha, uint32_t background) {
  const uint32_t sum = value * alpha + background * (255 - alpha) + 127;
  return static_cast<uint8_t>((sum + (sum >> 8)) >> 8);  // sum / 255, rounded
}

template <int R, int G, int B>
void CompositeRows(const uint8_t* pixels, int width, int height, size_t stride,
                   const uint8_t background[3], cv::Mat& rgb) {
  for (int y = 0; y < height; ++y) {
    const uint8_t* in = pixels + stride * static_cast<size_t>(y);
    uint8_t* out = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x, in += 4, out += 3) {
      const uint32_t alpha = in[3];
      if (alpha == 255) {  // the common cases first: opaque and fully transparent pixels
        out[0] = in[R], out[1] = in[G], out[2] = in[B];
        continue;
      }
      if (alpha == 0) {
        out[0] = background[0], out[1] = background[1], out[2] = background[2];
        continue;
      }
      out[0] = Blend(in[R], alpha, background[0]);
      out[1] = Blend(in[G], alpha, background[1]);
      out[2] = Blend(in[B], alpha, background[2]);
    }
  }
}

// Resizes `source` into `target`, whose size and type are set (it may be an ROI: resize writes
// into it in place). Downscaling averages areas (INTER_AREA); upscaling is bilinear.
// OpenCV's general area path is slow for large factors (about 1.2 ms for 660x666 -> 32x32);
// its exact-integer-factor path is several times faster. So a large reduction first shrinks
// by the largest power of two k that leaves at least twice the target, over a centred region
// whose sides are multiples of k (dropping under k pixels per side, i.e. under a quarter of an
// output pixel), then area-resizes the rest. Box means of k x k blocks followed by an area
// resize average the same source pixels as one area resize, up to 8-bit rounding.
void Resize(const cv::Mat& source, cv::Mat& target) {
  const cv::Size to = target.size();
  if (to.width > source.cols || to.height > source.rows) {
    cv::resize(source, target, to, 0, 0, cv::INTER_LINEAR);
    return;
  }
  int k = 1;
  while (source.cols / (2 * k) >= 2 * to.width && source.rows / (2 * k) >= 2 * to.height) k *= 2;
  if (k == 1) {
    cv::resize(source, target, to, 0, 0, cv::INTER_AREA);
    return;
  }
  const int width = source.cols / k * k, height = source.rows / k * k;
  const cv::Mat region =
      source(cv::Rect((source.cols - width) / 2, (source.rows - height) / 2, width, height));
  cv::Mat reduced;
  cv::resize(region, reduced, cv::Size(width / k, height / k), 0, 0, cv::INTER_AREA);
  cv::resize(reduced, target, to, 0, 0, cv::INTER_AREA);
}

}  // namespace

void CompositeToRgb(const uint8_t* pixels, int width, int height, size_t stride, PixelOrder order,
                    const uint8_t background[3], cv::Mat& rgb) {
  rgb.create(height, width, CV_8UC3);
  switch (order) {
    case PixelOrder::kRgba:
      CompositeRows<0, 1, 2>(pixels, width, height, stride, background, rgb);
      return;
    case PixelOrder::kBgra:
      CompositeRows<2, 1, 0>(pixels, width, height, stride, background, rgb);
      return;
    case PixelOrder::kRgb:
    case PixelOrder::kBgr:
    case PixelOrder::kGray: {
      const int channels = BytesPerPixel(order);
      const int type = channels == 3 ? CV_8UC3 : CV_8UC1;
      const cv::Mat source(height, width, type, const_cast<uint8_t*>(pixels), stride);
      if (order == PixelOrder::kRgb) {
        source.copyTo(rgb);
      } else {
        cv::cvtColor(source, rgb,
                     order == PixelOrder::kBgr ? cv::COLOR_BGR2RGB : cv::COLOR_GRAY2RGB);
      }
      return;
    }
  }
}

std::vector<uint8_t> FitToPlanar(const cv::Mat& rgb, int size, FitMode mode,
                                 const uint8_t background[3]) {
  assert(rgb.type() == CV_8UC3 && !rgb.empty() && size > 0);
  const int width = rgb.cols;
  const int height = rgb.rows;

  cv::Mat fitted(size, size, CV_8UC3, cv::Scalar(background[0], background[1], background[2]));
  switch (mode) {
    case FitMode::kStretch:
      Resize(rgb, fitted);
      break;
    case FitMode::kPad: {
      const double scale = std::min(double(size) / width, double(size) / height);
      const int fit_width = std::clamp(static_cast<int>(std::lround(width * scale)), 1, size);
      const int fit_height = std::clamp(static_cast<int>(std::lround(height * scale)), 1, size);
      // Invariant: the ROI keeps its size and type, so resize writes into `fitted` in place.
      cv::Mat roi =
          fitted(cv::Rect((size - fit_width) / 2, (size - fit_height) / 2, fit_width, fit_height));
      Resize(rgb, roi);
      break;
    }
    case FitMode::kCrop: {
      const int side = std::min(width, height);
      const cv::Mat centre = rgb(cv::Rect((width - side) / 2, (height - side) / 2, side, side));
      Resize(centre, fitted);
      break;
    }
  }
  // (size, size, 3) interleaved -> (3, size, size) planar.
  const size_t plane = static_cast<size_t>(size) * size;
  std::vector<uint8_t> planar(3 * plane);
  for (int y = 0; y < size; ++y) {
    const uint8_t* row = fitted.ptr<uint8_t>(y);
    const size_t base = static_cast<size_t>(y) * size;
    for (int x = 0; x < size; ++x) {
      planar[base + x] = row[3 * x];
      planar[plane + base + x] = row[3 * x + 1];
      planar[2 * plane + base + x] = row[3 * x + 2];
    }
  }
  return planar;
}

}  // namespace memes::transform
