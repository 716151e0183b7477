// Test helpers of the near-duplicate index's tests (near_dup_index_test.cpp,
// assign_founders_test.cpp): random hashes near a centre and synthetic thumbnails.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "store/near_dup_index.h"

namespace memes::store::near_dup_testing {

// `bits` distinct random bit positions of `hash` flipped.
inline uint64_t Flip(uint64_t hash, int bits, std::mt19937_64& random) {
  uint64_t mask = 0;
  while (__builtin_popcountll(mask) < bits) mask |= uint64_t{1} << (random() % 64);
  return hash ^ mask;
}

// A thumbnail of a "picture": a smooth pattern chosen by `picture`, plus noise of +-`noise` per
// byte (a re-encode), brightness `shift` (a colour-corrected copy).
inline std::vector<uint8_t> Thumb(int picture, std::mt19937_64& random, int noise = 0,
                                  int shift = 0) {
  std::vector<uint8_t> thumb(kThumbBytes);
  for (int y = 0; y < kThumbSide; ++y) {
    for (int x = 0; x < kThumbSide; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int base = 128 + static_cast<int>(90 * std::sin(0.5 * (picture + 1) * x + c) *
                                                std::cos(0.3 * (picture % 5 + 1) * y));
        const int jitter = noise ? static_cast<int>(random() % (2 * noise + 1)) - noise : 0;
        thumb[3 * (y * kThumbSide + x) + c] =
            static_cast<uint8_t>(std::clamp(base + jitter + shift, 0, 255));
      }
    }
  }
  return thumb;
}

}  // namespace memes::store::near_dup_testing
