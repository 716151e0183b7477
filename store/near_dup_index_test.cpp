#include "store/near_dup_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace memes::store {
namespace {

// `bits` distinct random bit positions of `hash` flipped.
uint64_t Flip(uint64_t hash, int bits, std::mt19937_64& random) {
  uint64_t mask = 0;
  while (__builtin_popcountll(mask) < bits) mask |= uint64_t{1} << (random() % 64);
  return hash ^ mask;
}

TEST(NearDupIndex, AgreesWithBruteForceOnRandomHashesAtEveryThresholdAndBlockCount) {
  std::mt19937_64 random(12);
  // Clusters of hashes around a few centres, so that every distance 0..64 occurs.
  std::vector<uint64_t> centres(40);
  for (uint64_t& centre : centres) centre = random();
  std::vector<std::pair<uint64_t, int64_t>> stored;
  for (int i = 0; i < 3000; ++i) {
    stored.emplace_back(Flip(centres[random() % centres.size()], random() % 24, random),
                        1 + static_cast<int64_t>(random() % 500));
  }
  std::vector<uint64_t> probes;
  for (int i = 0; i < 300; ++i) {
    probes.push_back(Flip(centres[random() % centres.size()], random() % 24, random));
  }
  for (int threshold = 0; threshold <= kMaxNearDuplicateDistance; ++threshold) {
    for (int blocks = 0; blocks <= NearDupIndex::kMaxBlocks; ++blocks) {
      if (blocks != 0 && blocks < NearDupIndex::kMinBlocks) continue;
      NearDupIndex index(threshold, blocks);
      for (const auto& [hash, group] : stored) index.Add(hash, group);
      ASSERT_EQ(index.size(), stored.size());
      for (size_t p = 0; p < probes.size(); ++p) {
        // Brute force: every (group, distance) within the threshold, and the nearest.
        std::map<int64_t, int> expected;  // group -> smallest distance
        std::optional<NearDupIndex::Match> nearest;
        for (const auto& [hash, group] : stored) {
          const int distance = __builtin_popcountll(hash ^ probes[p]);
          if (distance > threshold) continue;
          auto [it, added] = expected.emplace(group, distance);
          if (!added && distance < it->second) it->second = distance;
          if (!nearest || distance < nearest->distance ||
              (distance == nearest->distance && group < nearest->group)) {
            nearest = NearDupIndex::Match{group, distance};
          }
        }
        std::map<int64_t, int> found;
        index.ForEachWithin(probes[p], [&](int64_t group, int distance) {
          auto [it, added] = found.emplace(group, distance);
          if (!added && distance < it->second) it->second = distance;
        });
        EXPECT_EQ(found, expected)
            << "threshold " << threshold << " blocks " << index.blocks() << " probe " << p;
        const auto got = index.Nearest(std::span<const uint64_t>(&probes[p], 1));
        ASSERT_EQ(got.has_value(), nearest.has_value()) << threshold << " " << p;
        if (got) {
          EXPECT_EQ(got->group, nearest->group);
          EXPECT_EQ(got->distance, nearest->distance);
        }
      }
    }
  }
}

TEST(NearDupIndex, NearestOverSeveralProbesAndClear) {
  NearDupIndex index(6);
  index.Add(0, 7);
  index.Add(~uint64_t{0}, 3);
  const uint64_t probes[] = {0xFFull << 8, ~uint64_t{0} ^ 0x3};  // 8 bits from 0, 2 from ~0
  auto match = index.Nearest(probes);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->group, 3);
  EXPECT_EQ(match->distance, 2);
  const uint64_t far[] = {0xFFFF0000FFFF0000ull};
  EXPECT_FALSE(index.Nearest(far));
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Nearest(probes));
}

}  // namespace
}  // namespace memes::store
