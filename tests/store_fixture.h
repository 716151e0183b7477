// Generated store contents shared by tests/store_fill.cpp (which writes them into a store) and
// the end-to-end tests (which check packed shards against them without using store/ code).
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace memes::testing {

// The raw bytes (blob) of generated item `item` under `seed`.
inline std::string FixtureBlobBytes(uint64_t seed, int item) {
  return "memes-fixture-item seed=" + std::to_string(seed) + " item=" + std::to_string(item);
}

// The class name of generated item `item` among `classes` classes.
inline std::string FixtureClass(int item, int classes) {
  return "class" + std::to_string(item % classes);
}

// Kept frames of item `item`: 1 + item % max_frames. Frame k has index 3k in its animation.
inline int FixtureFrames(int item, int max_frames) { return 1 + item % max_frames; }

// Pixel (channel c, row y, column x) of kept frame k of item `item`.
inline uint8_t FixturePixel(int item, int k, int c, int y, int x) {
  return static_cast<uint8_t>((item * 37 + k * 101 + c * 53 + y * 7 + x * 3 + ((x * y) >> 3)) &
                              0xFF);
}

inline uint64_t FixtureMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Perceptual hash of every frame of an item: items item / group_size alike are near duplicates.
inline uint64_t FixturePhash(uint64_t seed, int item, int group_size) {
  return FixtureMix(seed * 1000003 + static_cast<uint64_t>(item / group_size));
}

}  // namespace memes::testing
