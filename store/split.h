// The leak-free train/test split. The unit is the near-duplicate group (same blob, or frames
// near the group founder's): all frames, all rotations and all re-uploads of one picture fall on
// one side.
//
// Two ways to give a unit its side:
//  - SplitOf: by a hash of the unit's key and the seed alone. Adding or relabelling other items
//    never moves a unit, but the test share of a class drifts by chance (±4 points for a class
//    of 100 single items at 20 %) and a few large groups can swing it much further.
//  - BalancedSplit (pack's default): units in the same hash order, each put in test while it
//    fits: no class of the unit would pass test_fraction × its items by more than half an item.
//    A class ends within half an item of its target when single items come late enough in the
//    order to fill it; a group larger than a class's remaining share goes to train (so test
//    leans to smaller groups). Additions move only units near a class's boundary in the hash
//    order (the stability this gives up is measured in pack_test.cpp and docs/benchmarks.md).
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace memes::store {

enum class Split { kTrain, kTest };

// u = first 8 bytes (big-endian) of SHA-256("<group_key>:<seed>") / 2^64; test when u < fraction.
double SplitPoint(std::string_view group_key, uint64_t seed);
Split SplitOf(std::string_view group_key, uint64_t seed, double test_fraction);

// One unit of the split with the number of items it holds of each class.
struct SplitGroup {
  std::string_view key;                        // the group key (or blob under a per-image split)
  std::vector<std::pair<int, int64_t>> items;  // (class, items), each class once
};

// The side of each unit: in ascending SplitPoint(key, seed) order, a unit goes to test when, for
// each of its classes, test items + its items <= test_fraction × class items + 0.5.
// Deterministic for the same units and seed; the order of `units` does not matter.
// Requires: 0 <= test_fraction <= 1.
std::vector<Split> BalancedSplit(std::span<const SplitGroup> units, uint64_t seed,
                                 double test_fraction);

}  // namespace memes::store
