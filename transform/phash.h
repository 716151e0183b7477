// The perceptual hash of a fitted frame (OpenCV img_hash PHash). Thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace memes::transform {

// 64-bit PHash (DCT of the 32×32 grey image) of a planar 3×size×size RGB frame; the first hash
// byte is the most significant. Requires: planar.size() == 3*size*size.
uint64_t PerceptualHash(std::span<const uint8_t> planar, int size);

}  // namespace memes::transform
