// AssignFounders (grouping in arrival order, as the catalog does one item at a time) and
// BridgeMerges: founder-only joining, representatives, bridges and their bounds.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "store/near_dup_index.h"
#include "store/near_dup_test_util.h"

namespace memes::store {
namespace {

using near_dup_testing::Thumb;

// A thumbnail chain A–B–C: B is A with a quarter of the bytes moved 20 levels, C is B with
// another quarter moved (each step within the default thumbnail distance, A–C beyond it).
struct ThumbChain {
  std::vector<uint8_t> a, b, c;
};
ThumbChain ThreeStepChain(std::mt19937_64& random) {
  ThumbChain chain{Thumb(1, random), {}, {}};
  chain.b = chain.c = chain.a;
  for (size_t i = 0; i < kThumbBytes; ++i) {
    const int step = chain.a[i] > 128 ? -20 : 20;
    if (i % 4 == 0) chain.b[i] = chain.c[i] = static_cast<uint8_t>(chain.a[i] + step);
    if (i % 4 == 1) chain.c[i] = static_cast<uint8_t>(chain.a[i] + step);
  }
  return chain;
}

// Founder-only joining with verification: B is A's copy, C is B's copy with more change; C is
// far from A in its thumbnail, so it founds a group instead of chaining onto A through B.
TEST(AssignFounders, AVerifiedChainDoesNotGrowOneGroup) {
  std::mt19937_64 random(8);
  const std::vector<uint64_t> hashes = {0, 0x7, 0x3F};  // A–B 3 bits, B–C 3 bits, A–C 6 bits
  const ThumbChain chain = ThreeStepChain(random);
  const std::vector<uint8_t>&a = chain.a, &b = chain.b, &c = chain.c;
  MatchRule rule;
  rule.representatives = 1;  // the founder alone
  ASSERT_LE(ThumbDistance(a, b, rule.trim, rule.contrast), rule.thumb_distance);
  ASSERT_LE(ThumbDistance(b, c, rule.trim, rule.contrast), rule.thumb_distance);
  ASSERT_GT(ThumbDistance(a, c, rule.trim, rule.contrast), rule.thumb_distance);
  std::vector<GroupingCandidate> items;
  const std::vector<uint8_t>* thumbs[] = {&a, &b, &c};
  for (int i = 0; i < 3; ++i) {
    items.push_back({std::span(&hashes[i], 1), {}, *thumbs[i], {}});
  }
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 0, 2}));
  // Hash only at 6 bits, C is within reach of A: all three in one group.
  EXPECT_EQ(AssignFounders(items, 6), (std::vector<size_t>{0, 0, 0}));
  // With representatives whose radius is below A–B, B does not become one: still two groups.
  rule.representatives = 4;
  rule.representative_thumb_distance = ThumbDistance(a, b, rule.trim, rule.contrast) / 2;
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 0, 2}));
}

// A chain A–B–C–D, each step within the rule, each pair two steps apart not: with
// representatives, B (accepted by the founder A) represents the group, so C joins through B;
// C was not accepted by A, so it does not represent, and D (near C only) founds a group. A
// member is thus at most two accepting steps from its founder, never three.
TEST(AssignFounders, RepresentativesReachTwoStepsFromTheFounderAndNoFurther) {
  std::mt19937_64 random(8);
  // 2 bits a step: A–C 4 bits, A–D 6 bits, all within the candidate radius, so the thumbnails
  // decide.
  static_assert(kDefaultCandidateDistance >= 6);
  const std::vector<uint64_t> hashes = {0, 0x3, 0xF, 0x3F};
  const auto a = Thumb(1, random);
  std::vector<std::vector<uint8_t>> thumbs(4, a);
  // Step k moves the bytes i % 4 < k by 20 levels.
  for (size_t i = 0; i < kThumbBytes; ++i) {
    const int step = a[i] > 128 ? -20 : 20;
    for (int k = 1; k < 4; ++k) {
      if (static_cast<int>(i % 4) < k) thumbs[k][i] = static_cast<uint8_t>(a[i] + step);
    }
  }
  MatchRule rule;
  rule.representatives = 4;
  auto distance = [&](int x, int y) {
    return ThumbDistance(thumbs[x], thumbs[y], rule.trim, rule.contrast);
  };
  for (int k = 0; k + 1 < 4; ++k) ASSERT_LE(distance(k, k + 1), rule.thumb_distance);
  for (int k = 0; k + 2 < 4; ++k) ASSERT_GT(distance(k, k + 2), rule.thumb_distance);
  ASSERT_GT(distance(0, 3), rule.thumb_distance);
  std::vector<GroupingCandidate> items;
  for (int i = 0; i < 4; ++i) items.push_back({std::span(&hashes[i], 1), {}, thumbs[i], {}});
  std::vector<bool> represents;
  EXPECT_EQ(AssignFounders(items, rule, &represents), (std::vector<size_t>{0, 0, 0, 3}));
  EXPECT_EQ(represents, (std::vector<bool>{true, true, false, true}));
  // The founder alone: C founds a group, and D joins it.
  rule.representatives = 1;
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 0, 2, 2}));
}

// The set is fixed: once a group holds `representatives` of them, a member the founder
// accepts attracts nothing; an identical copy of a representative never takes a place.
TEST(AssignFounders, RepresentativesAreCappedAndSkipIdenticalCopies) {
  // Hash only, 4 bits. A founds; A' is identical (no place); B (3 bits) takes the second
  // place; C (3 other bits) is accepted by A but the set is full; D, 3 bits from C and 6 from
  // A and B, founds a group since C does not represent.
  const std::vector<uint64_t> hashes = {0, 0, 0x7, 0x7ull << 20, 0x3Full << 20};
  MatchRule rule;
  rule.verify = false;
  rule.distance = 4;
  rule.representatives = 2;
  std::vector<GroupingCandidate> items;
  for (const uint64_t& hash : hashes) items.push_back({std::span(&hash, 1), {}});
  std::vector<bool> represents;
  EXPECT_EQ(AssignFounders(items, rule, &represents), (std::vector<size_t>{0, 0, 0, 0, 4}));
  EXPECT_EQ(represents, (std::vector<bool>{true, false, true, false, true}));
  rule.representatives = 3;
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 0, 0, 0, 0}));
}

// Two groups founded by copies that are out of each other's reach (a captioned copy, a
// letterboxed one), and then the original, which both founders accept: the groups merge, so the
// grouping is the one the original would have made had it come first. Without bridging, two
// groups stay.
TEST(AssignFounders, AnItemTwoFoundersAcceptMergesTheirGroups) {
  std::mt19937_64 random(8);
  const std::vector<uint64_t> hashes = {0, 0x3F, 0x7};  // A, C, B: A–C 6 bits, B between
  const ThumbChain chain = ThreeStepChain(random);
  const std::vector<uint8_t>&a = chain.a, &b = chain.b, &c = chain.c;
  MatchRule rule;
  rule.representatives = 1;
  const double ab = ThumbDistance(a, b, rule.trim, rule.contrast);
  const double bc = ThumbDistance(b, c, rule.trim, rule.contrast);
  ASSERT_GT(ThumbDistance(a, c, rule.trim, rule.contrast), rule.thumb_distance);
  rule.bridge_distance = std::max(ab, bc);
  ASSERT_LE(rule.bridge_distance, rule.thumb_distance);
  const std::vector<uint8_t>* thumbs[] = {&a, &c, &b};
  std::vector<GroupingCandidate> items;
  for (int i = 0; i < 3; ++i) items.push_back({std::span(&hashes[i], 1), {}, *thumbs[i], {}});
  std::vector<bool> represents, absorbed;
  EXPECT_EQ(AssignFounders(items, rule, &represents, &absorbed), (std::vector<size_t>{0, 0, 0}));
  // C's founder now represents A's group; A's group absorbed one.
  EXPECT_EQ(represents, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(absorbed, (std::vector<bool>{true, false, false}));
  // Only when both acceptances are within the bridge distance.
  rule.bridge_distance = std::min(ab, bc) - 0.5;
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 1, 0}));
  rule.bridge_distance = -1;
  EXPECT_EQ(AssignFounders(items, rule), (std::vector<size_t>{0, 1, 0}));
}

// BridgeMerges keeps every member within four accepting steps of its founder: a group that
// absorbed one is never absorbed, so no chain of merges forms; acceptances by hash alone never
// bridge.
TEST(BridgeMerges, TheOlderAbsorbsUnlessOneAbsorbedBeforeAndTwoAbsorbersStayApart) {
  MatchRule rule;
  rule.bridge_distance = 20;
  const NearDupIndex::Match joined{7, 3, 10, true, 10};
  const std::vector<NearDupIndex::Match> older{{4, 0, 12, true, 12}};
  const std::vector<NearDupIndex::Match> younger{{9, 0, 12, true, 12}};
  using Merges = std::vector<std::pair<int64_t, int64_t>>;
  const auto none = [](int64_t) { return false; };
  EXPECT_EQ(BridgeMerges(joined, older, rule, none), (Merges{{7, 4}}));
  EXPECT_EQ(BridgeMerges(joined, younger, rule, none), (Merges{{9, 7}}));
  // 7 absorbed a group before: it absorbs the older 4 rather than being absorbed.
  const auto seven = [](int64_t g) { return g == 7; };
  EXPECT_EQ(BridgeMerges(joined, older, rule, seven), (Merges{{4, 7}}));
  const auto both = [](int64_t g) { return g == 7 || g == 4; };
  EXPECT_TRUE(BridgeMerges(joined, older, rule, both).empty());
  // Several bridges: the item's group ends as the oldest, each merge applied in order.
  const std::vector<NearDupIndex::Match> two{{4, 0, 12, true, 12}, {9, 0, 12, true, 12}};
  EXPECT_EQ(BridgeMerges(joined, two, rule, none), (Merges{{7, 4}, {9, 4}}));
  // Beyond the bridge distance, by hash alone, or not through the founder: nothing.
  const std::vector<NearDupIndex::Match> far{{4, 0, 25, true, 25}};
  EXPECT_TRUE(BridgeMerges(joined, far, rule, none).empty());
  const std::vector<NearDupIndex::Match> by_hash{{4, 2, -1, true, -1}};
  EXPECT_TRUE(BridgeMerges(joined, by_hash, rule, none).empty());
  const NearDupIndex::Match through_member{7, 3, 10, false, -1};
  EXPECT_TRUE(BridgeMerges(through_member, older, rule, none).empty());
  rule.bridge_distance = -1;
  EXPECT_TRUE(BridgeMerges(joined, older, rule, none).empty());
}

}  // namespace
}  // namespace memes::store
