// Near-duplicate signatures: the content window (ink moments around a flat border) and the DCT
// hash with bits above a margin over the median. Figures behind each constant: bench/dedupe_bench
// --variants 1.
#include "transform/signature.h"
#include "transform/orientation.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace memes::transform {

namespace {

// Largest channel difference under which two corners share the border colour: JPEG ringing
// and palette dithering on a flat border stay below it.
constexpr int kCornerTolerance = 24;
// Ink below this much difference from the border colour weighs nothing (JPEG noise on a flat
// background would otherwise pull the moments towards the frame's centre).
constexpr int kInkNoise = 16;
// The window spans the ink's centre ± kSpreads standard deviations on each axis.
constexpr double kSpreads = 2.0;
constexpr int kHashSide = 32;  // the window is resampled to this before the DCT

// The 64 low DCT frequencies of a 32×32 grey picture: [8u + v] is coefficient (u, v) (u:
// vertical frequency), except that the DC term's place takes (0, 8): the DC term is the mean
// brightness, always far above the median.
std::array<float, 64> LowFrequencies(const cv::Mat& grey32) {
  cv::Mat dct;
  cv::dct(grey32, dct);
  std::array<float, 64> low{};
  for (int u = 0; u < 8; ++u) {
    for (int v = 0; v < 8; ++v) low[8 * u + v] = dct.at<float>(u, v);
  }
  low[0] = dct.at<float>(0, 8);
  return low;
}

// MarginBits of a 32×32 grey picture's LowFrequencies.
uint64_t MarginDctBits(const cv::Mat& grey32, float margin, float floor_share) {
  return MarginBits(LowFrequencies(grey32), margin, floor_share);
}

// The affine map from frame pixels onto a side×side picture of the frame's content window;
// nullopt when none was found (the window is then the whole frame).
std::optional<cv::Mat> WindowMap(const ContentWindow& window, int side) {
  if (!window.found) return std::nullopt;
  // Pixel centres: index i sits at i + 0.5 in both frames, and the window [c - h, c + h] maps
  // onto [0, side]: j + 0.5 = (i + 0.5 - c + h) * scale.
  const double half_x = kSpreads * window.spread_x, half_y = kSpreads * window.spread_y;
  const double scale_x = side / (2 * half_x), scale_y = side / (2 * half_y);
  cv::Mat map =
      (cv::Mat_<double>(2, 3) << scale_x, 0, scale_x * (0.5 + half_x - window.centre_x) - 0.5, 0,
       scale_y, scale_y * (0.5 + half_y - window.centre_y) - 0.5);
  return map;
}

// A size² planar RGB frame as size² grey floats (BT.601 luma).
cv::Mat PlanarGrey(std::span<const uint8_t> planar, int size) {
  const size_t plane = static_cast<size_t>(size) * size;
  cv::Mat grey(size, size, CV_32F);
  for (int y = 0; y < size; ++y) {
    float* row = grey.ptr<float>(y);
    for (int x = 0; x < size; ++x) {
      const size_t at = static_cast<size_t>(y) * size + x;
      row[x] = 0.299f * planar[at] + 0.587f * planar[plane + at] + 0.114f * planar[2 * plane + at];
    }
  }
  return grey;
}

// The frame's window (FindContentWindow of it) resampled to kHashSide² grey floats.
cv::Mat WindowGrey(std::span<const uint8_t> planar, int size, const ContentWindow& window) {
  const cv::Mat grey = PlanarGrey(planar, size);
  cv::Mat out;
  const auto to_window = WindowMap(window, kHashSide);
  if (!to_window) {
    cv::resize(grey, out, cv::Size(kHashSide, kHashSide), 0, 0,
               size > kHashSide ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
  }
  cv::warpAffine(grey, out, *to_window, cv::Size(kHashSide, kHashSide), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(window.border_grey));
  return out;
}

// The middle band of a square picture (BandTop), resized to side×side: area-averaged where it
// shrinks, linear where it stretches (a 32-row frame's 14-row band to 32 rows).
cv::Mat Band(const cv::Mat& square, int side) {
  const int top = BandTop(square.rows);
  const cv::Mat band = square.rowRange(top, square.rows - top);
  cv::Mat out;
  const bool shrinks = band.cols > side || band.rows > side;
  cv::resize(band, out, cv::Size(side, side), 0, 0, shrinks ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

// ContentHash's bits of a grey picture in the eight orientations of phash.h.
OrientationHashes OrientationHashesOf(const cv::Mat& grey);

}  // namespace

uint64_t MarginBits(std::span<const float, 64> low, float margin, float floor_share) {
  std::array<float, 64> sorted{};
  std::copy(low.begin(), low.end(), sorted.begin());
  std::nth_element(sorted.begin(), sorted.begin() + 32, sorted.end());
  const float median = sorted[32];
  std::array<float, 64> deviation{};
  float square_sum = 0;
  for (int i = 0; i < 64; ++i) {
    deviation[i] = std::abs(low[i] - median);
    square_sum += deviation[i] * deviation[i];
  }
  std::nth_element(deviation.begin(), deviation.begin() + 32, deviation.end());
  // A band of flat stripes has more than half its coefficients at exactly zero, and then a
  // median absolute deviation of zero too: the floor keeps the threshold above rounding noise.
  const float threshold =
      median + std::max(margin * deviation[32], floor_share * std::sqrt(square_sum / 64));
  uint64_t bits = 0;
  for (int i = 0; i < 64; ++i) bits = (bits << 1) | (low[i] > threshold ? 1u : 0u);
  return bits;
}

ContentWindow FindContentWindow(std::span<const uint8_t> planar, int size,
                                std::span<const uint8_t, 3> background) {
  assert(planar.size() == 3u * size * size);
  const size_t plane = static_cast<size_t>(size) * size;
  ContentWindow window;
  const size_t last = static_cast<size_t>(size) - 1;
  const std::array<size_t, 4> corners = {0, last, last * size, last * size + last};
  auto difference = [&](size_t a, size_t b) {
    return std::max({std::abs(planar[a] - planar[b]),
                     std::abs(planar[plane + a] - planar[plane + b]),
                     std::abs(planar[2 * plane + a] - planar[2 * plane + b])});
  };
  size_t border = 0;
  for (const size_t corner : corners) {
    int agree = 0;
    for (const size_t other : corners) agree += difference(corner, other) <= kCornerTolerance;
    if (agree >= 3) {
      window.bordered = true;
      border = corner;
      break;
    }
  }
  // No shared corner colour: weighed against the colour a letterbox of it would have.
  std::array<int, 3> border_rgb = {background[0], background[1], background[2]};
  if (window.bordered)
    border_rgb = {planar[border], planar[plane + border], planar[2 * plane + border]};
  for (int c = 0; c < 3; ++c) window.border_rgb[c] = static_cast<uint8_t>(border_rgb[c]);
  window.border_grey = 0.299f * border_rgb[0] + 0.587f * border_rgb[1] + 0.114f * border_rgb[2];
  double weight = 0, sum_x = 0, sum_y = 0, sum_xx = 0, sum_yy = 0;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const size_t at = static_cast<size_t>(y) * size + x;
      const int ink = std::max({std::abs(planar[at] - border_rgb[0]),
                                std::abs(planar[plane + at] - border_rgb[1]),
                                std::abs(planar[2 * plane + at] - border_rgb[2])}) -
                      kInkNoise;
      if (ink <= 0) continue;
      weight += ink;
      sum_x += double(ink) * (x + 0.5);
      sum_y += double(ink) * (y + 0.5);
      sum_xx += double(ink) * (x + 0.5) * (x + 0.5);
      sum_yy += double(ink) * (y + 0.5) * (y + 0.5);
    }
  }
  if (weight <= 0) return window;  // a flat frame: nothing to centre on
  window.found = true;
  window.centre_x = sum_x / weight;
  window.centre_y = sum_y / weight;
  // At least half a pixel, so a one-pixel line still has a window to stretch.
  window.spread_x = std::sqrt(std::max(0.25, sum_xx / weight - window.centre_x * window.centre_x));
  window.spread_y = std::sqrt(std::max(0.25, sum_yy / weight - window.centre_y * window.centre_y));
  return window;
}

uint64_t ContentHash(std::span<const uint8_t> planar, int size,
                     std::span<const uint8_t, 3> background) {
  return MarginDctBits(WindowGrey(planar, size, FindContentWindow(planar, size, background)),
                       kContentMargin, kBandFloor);
}

OrientationHashes ContentHashes(std::span<const uint8_t> planar, int size,
                                std::span<const uint8_t, 3> background) {
  return ContentHashes(planar, size, FindContentWindow(planar, size, background));
}

OrientationHashes ContentHashes(std::span<const uint8_t> planar, int size,
                                const ContentWindow& window) {
  return OrientationHashesOf(WindowGrey(planar, size, window));
}

OrientationHashes BandHashes(std::span<const uint8_t> planar, int size) {
  assert(planar.size() == 3u * size * size && size >= 4);
  const cv::Mat grey = PlanarGrey(planar, size);
  OrientationHashes hashes{};
  for (int k = 0; k < kOrientations; ++k)
    hashes[k] = MarginDctBits(Band(Oriented(grey, k), kHashSide), kBandMargin, kBandFloor);
  return hashes;
}

namespace {

OrientationHashes OrientationHashesOf(const cv::Mat& grey) {
  OrientationHashes hashes{};
  for (int k = 0; k < kOrientations; ++k)
    hashes[k] = MarginDctBits(Oriented(grey, k), kContentMargin, kBandFloor);
  return hashes;
}

}  // namespace

}  // namespace memes::transform

namespace memes::transform {

namespace {

// A size² planar RGB frame as size² RGB float pixels.
cv::Mat PlanarColour(std::span<const uint8_t> planar, int size) {
  const size_t plane = static_cast<size_t>(size) * size;
  cv::Mat rgb(size, size, CV_32FC3);
  for (int y = 0; y < size; ++y) {
    cv::Vec3f* row = rgb.ptr<cv::Vec3f>(y);
    for (int x = 0; x < size; ++x) {
      const size_t at = static_cast<size_t>(y) * size + x;
      row[x] = {float(planar[at]), float(planar[plane + at]), float(planar[2 * plane + at])};
    }
  }
  return rgb;
}

// A kThumbSide² RGB float picture as thumbnail bytes (RGB interleaved row by row).
ContentThumb ThumbBytes(const cv::Mat& thumb) {
  ContentThumb out{};
  for (int y = 0; y < kThumbSide; ++y) {
    const cv::Vec3f* row = thumb.ptr<cv::Vec3f>(y);
    for (int x = 0; x < kThumbSide; ++x) {
      for (int c = 0; c < 3; ++c) {
        out[3 * (y * kThumbSide + x) + c] = cv::saturate_cast<uint8_t>(row[x][c]);
      }
    }
  }
  return out;
}

}  // namespace

ContentThumbs BandThumbsOf(std::span<const uint8_t> planar, int size) {
  assert(planar.size() == 3u * size * size && size >= 4);
  const cv::Mat rgb = PlanarColour(planar, size);
  ContentThumbs thumbs{};
  for (int k = 0; k < kOrientations; ++k)
    thumbs[k] = ThumbBytes(Band(Oriented(rgb, k), kThumbSide));
  return thumbs;
}

ContentThumbs ContentThumbsOf(std::span<const uint8_t> planar, int size,
                              std::span<const uint8_t, 3> background) {
  return ContentThumbsOf(planar, size, FindContentWindow(planar, size, background));
}

ContentThumbs ContentThumbsOf(std::span<const uint8_t> planar, int size,
                              const ContentWindow& window) {
  assert(planar.size() == 3u * size * size);
  const cv::Mat rgb = PlanarColour(planar, size);
  // The window at 4× the thumbnail's side, then each thumbnail cell the mean of 4×4 of it:
  // an area average, so a palette's banding and JPEG noise average out within a cell.
  constexpr int kFine = 4 * kThumbSide;
  cv::Mat fine, thumb;
  const auto to_window = WindowMap(window, kFine);
  if (!to_window) {
    cv::resize(rgb, fine, cv::Size(kFine, kFine), 0, 0, cv::INTER_LINEAR);
  } else {
    cv::warpAffine(rgb, fine, *to_window, cv::Size(kFine, kFine), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT,
                   cv::Scalar(window.border_rgb[0], window.border_rgb[1], window.border_rgb[2]));
  }
  cv::resize(fine, thumb, cv::Size(kThumbSide, kThumbSide), 0, 0, cv::INTER_AREA);
  // Orientation k as ContentHashes turns the grey window.
  ContentThumbs thumbs{};
  for (int k = 0; k < kOrientations; ++k) thumbs[k] = ThumbBytes(Oriented(thumb, k));
  return thumbs;
}

cv::Mat Oriented(const cv::Mat& picture, int k) {
  static constexpr cv::RotateFlags kCounterClockwise[] = {cv::ROTATE_90_COUNTERCLOCKWISE,
                                                          cv::ROTATE_180, cv::ROTATE_90_CLOCKWISE};
  cv::Mat base;
  if (k >= 4) {
    cv::flip(picture, base, 1);
  } else {
    base = picture;
  }
  // A mirror image is already a fresh matrix; the picture itself is copied.
  if (k % 4 == 0) return k >= 4 ? base : base.clone();
  cv::Mat turned;
  cv::rotate(base, turned, kCounterClockwise[k % 4 - 1]);
  return turned;
}

}  // namespace memes::transform
