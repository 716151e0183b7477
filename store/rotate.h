// Quarter-turn rotation of planar frames (C×S×S bytes), for the rot4 augmentation of pack.
// Thread-safe: pure functions.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <span>

namespace memes::store {

// Writes `source` rotated by `quarter_turns` × 90° counter-clockwise into `target` (the same
// convention as numpy.rot90(image, k)): target[y][x] = source[x][S-1-y] for one turn.
// Requires: both spans hold `channels`×S×S bytes, planar (channel-major, then row-major);
//           they do not overlap; quarter_turns in 0..3.
inline void RotatePlanar(std::span<const uint8_t> source, std::span<uint8_t> target, int size,
                         int channels, int quarter_turns) {
  const int s = size;
  const size_t plane = static_cast<size_t>(s) * s;
  assert(source.size() == channels * plane && target.size() == channels * plane);
  assert(quarter_turns >= 0 && quarter_turns < 4);
  // One loop per turn, so the inner loop is a plain strided copy the compiler can unroll.
  for (int c = 0; c < channels; ++c) {
    const uint8_t* in = source.data() + c * plane;
    uint8_t* out = target.data() + c * plane;
    switch (quarter_turns) {
      case 0:
        std::copy(in, in + plane, out);
        break;
      case 1:  // out[y][x] = in[x][s-1-y]
        for (int y = 0; y < s; ++y) {
          const uint8_t* column = in + (s - 1 - y);
          for (int x = 0; x < s; ++x) out[y * s + x] = column[x * s];
        }
        break;
      case 2:  // out[y][x] = in[s-1-y][s-1-x]
        for (size_t i = 0; i < plane; ++i) out[i] = in[plane - 1 - i];
        break;
      default:  // 3: out[y][x] = in[s-1-x][y]
        for (int y = 0; y < s; ++y) {
          const uint8_t* column = in + y;
          for (int x = 0; x < s; ++x) out[y * s + x] = column[(s - 1 - x) * s];
        }
        break;
    }
  }
}

}  // namespace memes::store
