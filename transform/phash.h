// OpenCV img_hash PHash of a fitted frame and the eight orientations. The catalog stored it
// before the content-window signature (signature.h) replaced it; kept for comparison
// (bench/dedupe_bench) and for the orientation order both share. Thread-safe: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace memes::transform {

// 64-bit PHash (DCT of the 32×32 grey image) of a planar 3×size×size RGB frame; the first hash
// byte is the most significant. Requires: planar.size() == 3*size*size.
uint64_t PerceptualHash(std::span<const uint8_t> planar, int size);

// The eight orientations of the dihedral group, in a fixed order: k = 0..3 is k quarter turns
// counter-clockwise (RotatePlanar), k = 4..7 is a left-right mirror followed by k − 4 turns.
inline constexpr int kOrientations = 8;
using OrientationHashes = std::array<uint64_t, kOrientations>;

// PerceptualHash of the frame in each orientation; [0] == PerceptualHash(planar, size). A
// rotated or mirrored re-upload of a picture has, in one of these, the picture's own hash (up
// to resampling noise).
// Requires: planar.size() == 3*size*size.
OrientationHashes PerceptualHashes(std::span<const uint8_t> planar, int size);

}  // namespace memes::transform
