// Quarter-turn rotation of planar frames (C×S×S bytes), for the rot4 augmentation of pack.
// Thread-safe: pure functions.
#pragma once

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
  for (int c = 0; c < channels; ++c) {
    const uint8_t* in = source.data() + c * plane;
    uint8_t* out = target.data() + c * plane;
    for (int y = 0; y < s; ++y) {
      for (int x = 0; x < s; ++x) {
        int sy = y, sx = x;  // the source pixel that lands on (y, x)
        switch (quarter_turns) {
          case 1:
            sy = x, sx = s - 1 - y;
            break;
          case 2:
            sy = s - 1 - y, sx = s - 1 - x;
            break;
          case 3:
            sy = s - 1 - x, sx = y;
            break;
          default:
            break;
        }
        out[y * s + x] = in[sy * s + sx];
      }
    }
  }
}

}  // namespace memes::store
