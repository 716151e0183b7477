#include "store/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "core/sha256.h"

namespace memes::store {

double SplitPoint(std::string_view group_key, uint64_t seed) {
  const std::string text = std::string(group_key) + ":" + std::to_string(seed);
  const Digest digest = Sha256Of(std::string_view(text));
  uint64_t head = 0;
  for (int i = 0; i < 8; ++i) head = head << 8 | digest[i];
  return static_cast<double>(head) * 0x1p-64;
}

Split SplitOf(std::string_view group_key, uint64_t seed, double test_fraction) {
  return SplitPoint(group_key, seed) < test_fraction ? Split::kTest : Split::kTrain;
}

std::vector<Split> BalancedSplit(std::span<const SplitGroup> units, uint64_t seed,
                                 double test_fraction) {
  std::map<int, double> target;  // class -> test_fraction × its items
  std::map<int, int64_t> test;   // class -> test items so far
  for (const SplitGroup& unit : units) {
    for (const auto& [label, items] : unit.items) target[label] += test_fraction * items;
  }
  std::vector<std::pair<double, size_t>> order(units.size());
  for (size_t i = 0; i < units.size(); ++i) order[i] = {SplitPoint(units[i].key, seed), i};
  // Ties in the hash (equal keys) fall back to the key itself, so input order never matters.
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : units[a.second].key < units[b.second].key;
  });
  std::vector<Split> sides(units.size(), Split::kTrain);
  for (const auto& [point, i] : order) {
    // Invariant: no class's test count passes its target by more than half an item, so one
    // large group early in the order cannot take a class's whole test share and more.
    bool fits = true;
    for (const auto& [label, items] : units[i].items) {
      fits = fits && static_cast<double>(test[label] + items) <= target[label] + 0.5;
    }
    if (fits) {
      sides[i] = Split::kTest;
      for (const auto& [label, items] : units[i].items) test[label] += items;
    }
  }
  return sides;
}

}  // namespace memes::store
