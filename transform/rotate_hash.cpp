// RotatePlanar (exact quarter turns) and the perceptual hash helpers.
#include <algorithm>
#include <bit>
#include <cassert>

#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frames.h"
#include "transform/phash.h"

namespace memes::transform {

std::vector<uint8_t> RotatePlanar(std::span<const uint8_t> planar, int size, int quarter_turns) {
  const size_t plane = static_cast<size_t>(size) * size;
  assert(planar.size() == 3 * plane);
  const int turns = ((quarter_turns % 4) + 4) % 4;
  std::vector<uint8_t> rotated(planar.size());
  const int last = size - 1;
  // Counter-clockwise: out(row, col) reads the input pixel that turns onto it. One loop per
  // turn keeps the inner loops free of branches.
  for (int channel = 0; channel < 3; ++channel) {
    const uint8_t* in = planar.data() + channel * plane;
    uint8_t* out = rotated.data() + channel * plane;
    for (int row = 0; row < size; ++row) {
      uint8_t* out_row = out + row * size;
      switch (turns) {
        case 0:
          std::copy_n(in + row * size, size, out_row);
          break;
        case 1:  // out(row, col) = in(col, last - row)
          for (int col = 0; col < size; ++col) out_row[col] = in[col * size + (last - row)];
          break;
        case 2:  // out(row, col) = in(last - row, last - col)
          for (int col = 0; col < size; ++col) out_row[col] = in[(last - row) * size + last - col];
          break;
        case 3:  // out(row, col) = in(last - col, row)
          for (int col = 0; col < size; ++col) out_row[col] = in[(last - col) * size + row];
          break;
      }
    }
  }
  return rotated;
}

int HammingDistance(uint64_t a, uint64_t b) { return std::popcount(a ^ b); }

uint64_t PerceptualHash(std::span<const uint8_t> planar, int size) {
  const size_t plane = static_cast<size_t>(size) * size;
  assert(planar.size() == 3 * plane);
  // (3, S, S) planar RGB -> (S, S, 3) interleaved BGR, the order img_hash expects.
  cv::Mat bgr(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    uint8_t* row = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < size; ++x) {
      const size_t at = static_cast<size_t>(y) * size + x;
      row[3 * x] = planar[2 * plane + at];
      row[3 * x + 1] = planar[plane + at];
      row[3 * x + 2] = planar[at];
    }
  }
  cv::Mat hash;
  cv::img_hash::pHash(bgr, hash);  // 1×8 bytes
  uint64_t bits = 0;
  for (int i = 0; i < hash.cols; ++i) bits = (bits << 8) | hash.at<uint8_t>(0, i);
  return bits;
}

OrientationHashes PerceptualHashes(std::span<const uint8_t> planar, int size) {
  assert(planar.size() == 3u * size * size);
  std::vector<uint8_t> mirrored(planar.size());
  for (size_t row = 0; row < 3u * size; ++row) {
    std::reverse_copy(planar.begin() + row * size, planar.begin() + (row + 1) * size,
                      mirrored.begin() + row * size);
  }
  OrientationHashes hashes{};
  hashes[0] = PerceptualHash(planar, size);
  hashes[4] = PerceptualHash(mirrored, size);
  for (int turns = 1; turns < 4; ++turns) {
    hashes[turns] = PerceptualHash(RotatePlanar(planar, size, turns), size);
    hashes[4 + turns] = PerceptualHash(RotatePlanar(mirrored, size, turns), size);
  }
  return hashes;
}

}  // namespace memes::transform
