// The leak-free train/test split. The unit is the near-duplicate group (same blob, or frames
// within the catalog's perceptual-hash distance): all frames, all rotations and all re-uploads of
// one picture fall on one side. The side depends only on the group's key and the seed, so adding
// or relabelling other items never moves a group.
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace memes::store {

enum class Split { kTrain, kTest };

// u = first 8 bytes (big-endian) of SHA-256("<group_key>:<seed>") / 2^64; test when u < fraction.
double SplitPoint(std::string_view group_key, uint64_t seed);
Split SplitOf(std::string_view group_key, uint64_t seed, double test_fraction);

}  // namespace memes::store
