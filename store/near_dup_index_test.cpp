#include "store/near_dup_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "store/near_dup_test_util.h"

namespace memes::store {
namespace {

using near_dup_testing::Flip;
using near_dup_testing::Thumb;

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

TEST(NearDupIndex, VisitsEachHashWithinRangeOnceWhileAddsCrossRebuilds) {
  // The CSR tables are rebuilt every kAppendBuffer adds; between rebuilds the newest hashes are
  // only in the append buffer. Probing after every add-batch checks both parts, and every stored
  // hash (its own group id) must be reported exactly once, whichever blocks it agrees in.
  std::mt19937_64 random(5);
  std::vector<uint64_t> centres(8);
  for (uint64_t& centre : centres) centre = random();
  for (const int blocks : {4, 6}) {
    NearDupIndex index(10, blocks);
    std::vector<uint64_t> stored;
    const size_t total = 3 * NearDupIndex::kAppendBuffer + 77;
    while (stored.size() < total) {
      const size_t batch = std::min<size_t>(total - stored.size(), 1 + random() % 400);
      for (size_t i = 0; i < batch; ++i) {
        stored.push_back(Flip(centres[random() % centres.size()], random() % 14, random));
        index.Add(stored.back(), static_cast<int64_t>(stored.size() - 1));
      }
      for (int p = 0; p < 20; ++p) {
        const uint64_t probe = Flip(centres[random() % centres.size()], random() % 8, random);
        std::map<int64_t, int> expected, seen;
        for (size_t i = 0; i < stored.size(); ++i) {
          const int distance = __builtin_popcountll(stored[i] ^ probe);
          if (distance <= 10) expected[static_cast<int64_t>(i)] = 1;
        }
        index.ForEachWithin(probe, [&](int64_t group, int) { ++seen[group]; });
        ASSERT_EQ(seen, expected) << "blocks " << blocks << " after " << stored.size();
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

TEST(ThumbDistance, BrightnessAndContrastCostNothingAndAnotherPictureCostsMuch) {
  std::mt19937_64 random(5);
  const auto a = Thumb(1, random);
  EXPECT_EQ(ThumbDistance(a, a, 0, true), 0);
  EXPECT_LT(ThumbDistance(a, Thumb(1, random, 0, 20), 0, false), 1.0);  // brightness
  std::vector<uint8_t> stretched(a);
  for (uint8_t& v : stretched) v = static_cast<uint8_t>(128 + (v - 128) * 9 / 10);  // contrast
  EXPECT_LT(ThumbDistance(a, stretched, 0, true), 2.0);
  EXPECT_GT(ThumbDistance(a, stretched, 0, false), 5.0) << "contrast counts without `contrast`";
  EXPECT_GT(ThumbDistance(a, Thumb(2, random), 0, true), 2 * kDefaultThumbDistance);
  // A strip of 12 of 144 cells painted over (a caption): trimming 10 % of cells leaves out the
  // strip's own cells (what remains is the shift of the mean colour the strip causes).
  std::vector<uint8_t> captioned(a);
  for (size_t i = 0; i < 3 * kThumbSide; ++i) captioned[captioned.size() - 1 - i] = 0;
  EXPECT_GT(ThumbDistance(a, captioned, 0, false), ThumbDistance(a, captioned, 0.1, false) + 5);
}

// A tolerance forgives per-channel differences up to it (a palette's quantisation step) and
// takes that much off larger ones; 0 is the plain distance; a limit stays exact below it.
TEST(ThumbDistance, ATolerancePerChannelForgivesSmallDifferencesOnly) {
  std::mt19937_64 random(9);
  const auto a = Thumb(1, random);
  const auto noisy = Thumb(1, random, 6);  // the same picture, each byte moved up to 6
  const double plain = ThumbDistance(a, noisy, 0, false);
  ASSERT_GT(plain, 0);
  EXPECT_EQ(ThumbDistance(a, noisy, 0, false, 0), plain);
  EXPECT_LT(ThumbDistance(a, noisy, 0, false, 4), plain);
  EXPECT_EQ(ThumbDistance(a, noisy, 0, false, 20), 0);
  const auto other = Thumb(2, random);
  const double far = ThumbDistance(a, other, 0, true);
  EXPECT_GT(ThumbDistance(a, other, 0, true, 8), far - 3 * 8 - 1e-9);
  EXPECT_GT(ThumbDistance(a, other, 0, true, 8), kDefaultThumbDistance);
  const double limited = ThumbDistance(a, StatsOf(a), noisy, StatsOf(noisy), 0, false,
                                       /*limit=*/1000, /*tolerance=*/4);
  EXPECT_DOUBLE_EQ(limited, ThumbDistance(a, noisy, 0, false, 4));
}

// A look-alike differs much in a few inner cells (a keycap's digit): the mean over all cells
// barely moves, the peak does; the same change on the edge rows (a caption) is left out of
// the peak by the margin. A tint moves the colour distance by its size, brightness not at all.
TEST(ThumbPeak, SeesAFewChangedInnerCellsThatTheMeanDilutes) {
  std::mt19937_64 random(5);
  const auto a = Thumb(1, random);
  std::vector<uint8_t> inner(a), edge(a);
  for (int cell :
       {5 * kThumbSide + 5, 5 * kThumbSide + 6, 6 * kThumbSide + 5, 6 * kThumbSide + 6}) {
    for (int c = 0; c < 3; ++c) inner[3 * cell + c] = static_cast<uint8_t>(255 - a[3 * cell + c]);
  }
  for (int column = 0; column < kThumbSide; ++column) {
    const int cell = (kThumbSide - 1) * kThumbSide + column;
    for (int c = 0; c < 3; ++c) edge[3 * cell + c] = static_cast<uint8_t>(255 - a[3 * cell + c]);
  }
  const ThumbStats sa = StatsOf(a), si = StatsOf(inner), se = StatsOf(edge);
  EXPECT_LT(ThumbDistance(a, inner, 0, true), kDefaultThumbDistance);
  constexpr int kRows = kDefaultPeakMargin, kColumns = kDefaultPeakSideMargin;
  EXPECT_GT(ThumbPeak(a, sa, inner, si, true, kRows, kColumns), kDefaultPeakDistance);
  EXPECT_LT(ThumbPeak(a, sa, edge, se, true, kRows, kColumns), kDefaultPeakDistance);
  EXPECT_GT(ThumbPeak(a, sa, edge, se, true, 0, 0), kDefaultPeakDistance);
  EXPECT_EQ(ThumbPeak(a, sa, a, sa, true, kRows, kColumns), 0);
  std::vector<uint8_t> brighter(a), tinted(a);
  for (size_t i = 0; i < kThumbBytes; ++i) {
    brighter[i] = static_cast<uint8_t>(std::min(255, a[i] + 10));
    if (i % 3 == 0) tinted[i] = static_cast<uint8_t>(std::min(255, a[i] + 20));
  }
  EXPECT_NEAR(ColourDistance(sa, StatsOf(brighter)), 0, 0.5);
  EXPECT_NEAR(ColourDistance(sa, StatsOf(tinted)), 20, 1);
}

// A look-alike that differs beside the face (hair, a thumb: a few cells of the second column)
// is refused by the default rule's peak check, which keeps that column; the same change on the
// second row (where a caption sits) is left out; both pass the mean.
TEST(ThumbPeak, TheRuleKeepsTheSecondColumnAndLeavesOutTheSecondRow) {
  std::mt19937_64 random(9);
  const auto a = Thumb(1, random);
  std::vector<uint8_t> side(a), top(a);
  for (int k = 4; k < 8; ++k) {
    for (int c = 0; c < 3; ++c) {
      side[3 * (k * kThumbSide + 1) + c] =
          static_cast<uint8_t>(255 - a[3 * (k * kThumbSide + 1) + c]);
      top[3 * (kThumbSide + k) + c] = static_cast<uint8_t>(255 - a[3 * (kThumbSide + k) + c]);
    }
  }
  const MatchRule rule;
  const ThumbStats sa = StatsOf(a), ss = StatsOf(side), st = StatsOf(top);
  EXPECT_LT(ThumbDistance(a, side, 0, true), rule.thumb_distance);
  EXPECT_LT(ThumbDistance(a, top, 0, true), rule.thumb_distance);
  EXPECT_GT(ThumbPeak(a, sa, side, ss, true, rule.peak_margin, rule.peak_side_margin),
            rule.peak_distance);
  EXPECT_LT(ThumbPeak(a, sa, top, st, true, rule.peak_margin, rule.peak_side_margin),
            rule.peak_distance);
  // With the rows' margin on the columns too (the rule before), the side change passes.
  EXPECT_LT(ThumbPeak(a, sa, side, ss, true, rule.peak_margin, rule.peak_margin),
            rule.peak_distance);
}

TEST(ThumbDistance, ALimitStopsEarlyAboveItAndIsExactBelowIt) {
  std::mt19937_64 random(3);
  for (int pair = 0; pair < 40; ++pair) {
    const auto a = Thumb(pair % 7, random, 6), b = Thumb((pair * 3) % 7, random, 6, pair % 20);
    for (const bool contrast : {false, true}) {
      const double exact = ThumbDistance(a, b, 0, contrast);
      for (const double limit : {exact * 0.5, exact - 0.01, exact, exact + 1}) {
        const double got = ThumbDistance(a, StatsOf(a), b, StatsOf(b), 0, contrast, limit);
        if (exact > limit) {
          EXPECT_GT(got, limit) << pair;
        } else {
          EXPECT_NEAR(got, exact, 1e-3) << pair;
        }
      }
    }
  }
}

// The untrimmed distance (summed in vector lanes, store/near_dup_index.cpp) against its
// formula (store/FORMAT.md, "Verification thumbnail") evaluated cell by cell in double: each
// thumbnail's mean colour off, scaled to a spread of 48 (at least 8) with `contrast`, the
// per-channel differences past the tolerance summed per cell, the mean over cells.
TEST(ThumbDistance, UntrimmedMatchesItsFormulaInDouble) {
  std::mt19937_64 random(17);
  constexpr int kCells = kThumbSide * kThumbSide;
  for (int pair = 0; pair < 30; ++pair) {
    const auto a = Thumb(pair % 5, random, 20), b = Thumb((pair * 2) % 7, random, 20, pair % 30);
    const ThumbStats sa = StatsOf(a), sb = StatsOf(b);
    for (const bool contrast : {false, true}) {
      const double gain_a = contrast ? 48 / std::max(8.0, double(sa.spread)) : 1;
      const double gain_b = contrast ? 48 / std::max(8.0, double(sb.spread)) : 1;
      for (const double tolerance : {0.0, 5.0}) {
        double total = 0;
        for (int i = 0; i < kCells; ++i) {
          for (int c = 0; c < 3; ++c) {
            const double d = std::abs((a[3 * i + c] - double(sa.mean[c])) * gain_a -
                                      (b[3 * i + c] - double(sb.mean[c])) * gain_b);
            total += std::max(0.0, d - tolerance);
          }
        }
        const double expected = total / kCells;
        EXPECT_NEAR(ThumbDistance(a, b, 0, contrast, tolerance), expected, 1e-3 + 1e-5 * expected)
            << pair << " contrast " << contrast << " tolerance " << tolerance;
      }
    }
  }
}

// The verified rule against a brute-force scan: every stored hash within the radius, judged by
// the rule, the best by (thumbnail distance, Hamming distance, group).
TEST(NearDupIndex, NearestAcceptedAgreesWithBruteForceOnHashesAndThumbnails) {
  std::mt19937_64 random(21);
  std::vector<uint64_t> centres(30);
  for (uint64_t& centre : centres) centre = random();
  struct Stored {
    uint64_t hash;
    int64_t group;
    std::vector<uint8_t> thumb;  // empty for some: a store from before thumbnails
  };
  std::vector<Stored> stored;
  for (int i = 0; i < 2000; ++i) {
    const int centre = static_cast<int>(random() % centres.size());
    Stored s{
        Flip(centres[centre], random() % 16, random), 1 + static_cast<int64_t>(random() % 400), {}};
    // Pictures agree with the hash centre mostly (same picture), sometimes not (look-alike).
    if (random() % 5 != 0) s.thumb = Thumb(random() % 4 ? centre : centre + 100, random, 6);
    // Look-alikes only the extra checks catch: a spot of inverted inner cells (the peak), a
    // tint (the colour).
    if (!s.thumb.empty() && random() % 4 == 0) {
      for (int cell : {5 * kThumbSide + 5, 5 * kThumbSide + 6, 6 * kThumbSide + 5}) {
        for (int c = 0; c < 3; ++c) s.thumb[3 * cell + c] = 255 - s.thumb[3 * cell + c];
      }
    } else if (!s.thumb.empty() && random() % 4 == 0) {
      for (size_t b = 0; b < kThumbBytes; b += 3) s.thumb[b] = std::min(255, s.thumb[b] + 45);
    }
    stored.push_back(std::move(s));
  }
  for (const bool verify : {true, false}) {
    MatchRule rule;
    rule.verify = verify;
    NearDupIndex index(rule.IndexRadius());
    // Every third stored frame a representative's, not its founder's.
    for (size_t i = 0; i < stored.size(); ++i) {
      index.Add(stored[i].hash, stored[i].group, stored[i].thumb, false, std::nullopt, i % 3 != 0);
    }
    // orientations 1: every probe read at the full radius; 8: one frame's eight orientations,
    // the quarter turns (not 0, not the mirror 4) at rule.turned_distance (verified rule only).
    for (int p = 0; p < 300; ++p) {
      const size_t orientations = p < 150 ? 1 : 8;
      const int centre = static_cast<int>(random() % centres.size());
      // Eight probes with a thumbnail each: the first near the picture's centre, the others
      // near random centres (another picture's hash in that orientation).
      std::vector<uint64_t> probes = {Flip(centres[centre], random() % 14, random)};
      std::vector<uint8_t> thumbs = Thumb(centre, random, 6);
      for (int k = 1; k < 8; ++k) {
        const int other = static_cast<int>(random() % centres.size());
        probes.push_back(Flip(centres[other], random() % 14, random));
        const auto thumb = Thumb(k % 3 != 0 ? other : centre + 200, random, 6);
        thumbs.insert(thumbs.end(), thumb.begin(), thumb.end());
      }
      std::optional<NearDupIndex::Match> expected;
      double expected_score = 0;
      std::map<int64_t, double> founder_thumb;  // group -> best accepted founder-frame thumb
      for (int k = 0; k < 8; ++k) {
        const bool turned = verify && orientations == 8 && k % 8 != 0 && k % 8 != 4;
        // The content hash's radius (the index's may be wider, for the band's).
        const int radius = turned   ? rule.turned_distance
                           : verify ? std::max(rule.distance, rule.candidate_distance)
                                    : rule.distance;
        for (size_t i = 0; i < stored.size(); ++i) {
          const Stored& s = stored[i];
          const int distance = __builtin_popcountll(s.hash ^ probes[k]);
          if (distance > radius) continue;
          double score = 0, thumb = -1;
          if (verify && !s.thumb.empty()) {
            const auto probe_thumb =
                std::span<const uint8_t>(thumbs).subspan(k * kThumbBytes, kThumbBytes);
            thumb = ThumbDistance(probe_thumb, s.thumb, rule.trim, rule.contrast);
            if (thumb > rule.thumb_distance) continue;
            const ThumbStats a = StatsOf(probe_thumb), b = StatsOf(s.thumb);
            if (ColourDistance(a, b) > rule.colour_distance) continue;
            if (ThumbPeak(probe_thumb, a, s.thumb, b, rule.contrast, rule.peak_margin,
                          rule.peak_side_margin) > rule.peak_distance)
              continue;
            score = thumb;
          } else if (distance > rule.distance) {
            continue;
          }
          if (i % 3 != 0) {
            auto [it, added] = founder_thumb.emplace(s.group, thumb);
            if (!added) it->second = std::min(it->second, thumb);
          }
          if (!expected || score < expected_score ||
              (score == expected_score &&
               (distance < expected->distance ||
                (distance == expected->distance && s.group < expected->group)))) {
            expected = NearDupIndex::Match{s.group, distance, thumb};
            expected_score = score;
          }
        }
      }
      const auto got = index.NearestAccepted(probes, thumbs, rule, {}, {}, nullptr, orientations);
      ASSERT_EQ(got.has_value(), expected.has_value())
          << "probe " << p << " verify " << verify << " orientations " << orientations;
      if (got) {
        EXPECT_EQ(got->group, expected->group) << p;
        EXPECT_EQ(got->distance, expected->distance) << p;
        const auto founder = founder_thumb.find(expected->group);
        EXPECT_EQ(got->founder_accepts, founder != founder_thumb.end()) << p;
        if (founder != founder_thumb.end()) {
          EXPECT_NEAR(got->founder_thumb_distance, founder->second, 1e-4) << p;
        }
      }
    }
  }
}

// An item's eight orientation probes (orientations 8): the frame as it arrived and its mirror
// are read at the candidate radius, the six quarter turns at MatchRule::turned_distance; a
// stored copy 8 bits from a quarter-turned probe is found only at the full radius.
TEST(NearDupIndex, QuarterTurnedProbesAreReadAtTheTurnedRadius) {
  std::mt19937_64 random(5);
  const uint64_t picture = random();
  const std::vector<uint8_t> thumb = Thumb(1, random, 0);
  NearDupIndex index(MatchRule().IndexRadius());
  index.Add(picture, 7, thumb);
  // Probes far from every stored hash but the one at `at`, 8 bits from the picture.
  auto probes_with = [&](size_t at) {
    std::vector<uint64_t> probes(8);
    for (uint64_t& probe : probes) probe = ~picture;
    probes[at] = Flip(picture, 8, random);
    return probes;
  };
  std::vector<uint8_t> thumbs;
  for (int k = 0; k < 8; ++k) thumbs.insert(thumbs.end(), thumb.begin(), thumb.end());
  MatchRule rule;
  ASSERT_EQ(rule.turned_distance, 6);
  for (size_t at = 0; at < 8; ++at) {
    const auto probes = probes_with(at);
    const bool quarter_turn = at != 0 && at != 4;
    EXPECT_EQ(index.NearestAccepted(probes, thumbs, rule, {}, {}, nullptr, 8).has_value(),
              !quarter_turn)
        << at;
    // Probes that are all frames as they arrived (orientations 1), or no turned radius: all at
    // the full radius.
    EXPECT_TRUE(index.NearestAccepted(probes, thumbs, rule, {}, {}, nullptr, 1).has_value()) << at;
    MatchRule all = rule;
    all.turned_distance = -1;
    EXPECT_TRUE(index.NearestAccepted(probes, thumbs, all, {}, {}, nullptr, 8).has_value()) << at;
  }
}

// The second candidate source: stored frames carry a second hash and its thumbnail (some do not:
// rows from before it existed), probes a second hash and thumbnail each. The first source's
// candidates (within candidate_distance, verified on the first thumbnails) decide when any is
// accepted; only then the second's (within second_distance, verified on the second
// thumbnails). Against a brute-force scan, at radii where the two sources differ, across
// rebuilds of the tables (adds in two halves).
TEST(NearDupIndex, ASecondHashSourceAgreesWithBruteForceOnRandomHashes) {
  std::mt19937_64 random(33);
  std::vector<uint64_t> centres(30), second_centres(30);
  for (uint64_t& centre : centres) centre = random();
  for (uint64_t& centre : second_centres) centre = random();
  struct Stored {
    uint64_t hash;
    std::optional<uint64_t> second;
    int64_t group;
    std::vector<uint8_t> thumb, second_thumb;
  };
  std::vector<Stored> stored;
  for (int i = 0; i < 2500; ++i) {
    const int centre = static_cast<int>(random() % centres.size());
    Stored s{Flip(centres[centre], random() % 20, random),
             std::nullopt,
             1 + static_cast<int64_t>(random() % 400),
             Thumb(random() % 4 ? centre : centre + 100, random, 6),
             {}};
    if (random() % 4 != 0) {
      s.second = Flip(second_centres[centre], random() % 20, random);
      // A second thumbnail that often differs from the first: each source must be verified on
      // its own thumbnails. Some have cells inverted: thumbnail distances between the far
      // limit and thumb_distance, which only a near band candidate may have.
      s.second_thumb = Thumb(random() % 2 ? centre + 50 : centre + 150, random, 6);
      if (random() % 3 == 0) {
        const int cells = static_cast<int>(random() % 40);
        for (int cell = 0; cell < cells; ++cell) {
          for (int c = 0; c < 3; ++c)
            s.second_thumb[3 * cell + c] = 255 - s.second_thumb[3 * cell + c];
        }
      }
    }
    stored.push_back(std::move(s));
  }
  // The checks past the thumbnail distance are covered above; here the thumbnail alone, with the
  // far band candidates' own limit (MatchRule::second_near_distance, second_far_thumb_distance)
  // and, for {8, 10}, eight orientation probes (the band's other orientations at the turned
  // radius).
  for (const auto& [first_radius, second_radius] :
       std::vector<std::pair<int, int>>{{6, 6}, {4, 8}, {8, 3}, {8, 10}}) {
    MatchRule rule;
    rule.candidate_distance = first_radius;
    rule.second_distance = second_radius;
    rule.distance = std::min(rule.distance, first_radius);
    rule.colour_distance = rule.peak_distance = -1;
    const size_t orientations = second_radius == 10 ? 8 : 1;
    NearDupIndex index(rule.IndexRadius());
    for (size_t i = 0; i < stored.size(); ++i) {
      const Stored& s = stored[i];
      // The second half goes through the append buffer and a rebuild at each kAppendBuffer.
      index.Add(s.hash, s.group, s.thumb, /*defer=*/i < stored.size() / 2, s.second,
                /*founder=*/true, s.second_thumb);
      if (i + 1 == stored.size() / 2) index.Flush();
    }
    for (int p = 0; p < 300; ++p) {
      const int centre = static_cast<int>(random() % centres.size());
      // Probes k = 0..n-1 (n = 2, or 8 orientations of one frame): the even ones near the
      // picture's centre on both hashes, the odd ones on the second only.
      const size_t n = orientations == 8 ? 8 : 2;
      std::vector<uint64_t> probes, seconds;
      std::vector<uint8_t> thumbs, second_thumbs;
      for (size_t k = 0; k < n; ++k) {
        probes.push_back(Flip(centres[k % 2 ? random() % centres.size() : centre],
                              static_cast<int>(random() % 20), random));
        seconds.push_back(Flip(second_centres[centre], static_cast<int>(random() % 16), random));
        const auto thumb = Thumb(k % 2 ? centre + 200 : centre, random, 6);
        thumbs.insert(thumbs.end(), thumb.begin(), thumb.end());
        const auto second_thumb = Thumb(k % 2 ? centre + 250 : centre + 50, random, 6);
        second_thumbs.insert(second_thumbs.end(), second_thumb.begin(), second_thumb.end());
      }
      // The best pair one source accepts. (The radii copied: a lambda may not capture a
      // structured binding in clang before 16.)
      const int radii[] = {first_radius, second_radius};
      auto best_of = [&](int source) {
        std::optional<NearDupIndex::Match> best;
        double best_score = 0;
        for (size_t k = 0; k < n; ++k) {
          // With 8 orientations the first source reads probes 0 and 4 at its radius, the second
          // probe 0 alone; the others at most at the turned radius.
          const bool full = source == 0 ? k % 8 == 0 || k % 8 == 4 : k == 0;
          const int radius = orientations == 8 && !full
                                 ? std::min(radii[source], rule.turned_distance)
                                 : radii[source];
          for (const Stored& s : stored) {
            const int distance = source == 0 ? __builtin_popcountll(s.hash ^ probes[k])
                                 : s.second  ? __builtin_popcountll(*s.second ^ seconds[k])
                                             : 65;
            if (distance > radius) continue;
            const auto probe_thumb = std::span(source == 0 ? thumbs : second_thumbs)
                                         .subspan(k * kThumbBytes, kThumbBytes);
            const double thumb = ThumbDistance(probe_thumb, source == 0 ? s.thumb : s.second_thumb,
                                               rule.trim, rule.contrast);
            if (thumb > rule.thumb_distance) continue;
            if (source == 1 && distance > rule.second_near_distance &&
                thumb > rule.second_far_thumb_distance)
              continue;
            if (!best || thumb < best_score ||
                (thumb == best_score && (distance < best->distance ||
                                         (distance == best->distance && s.group < best->group)))) {
              best = NearDupIndex::Match{s.group, distance, thumb};
              best_score = thumb;
            }
          }
        }
        return best;
      };
      std::optional<NearDupIndex::Match> expected = best_of(0);
      if (!expected) expected = best_of(1);
      const auto got = index.NearestAccepted(probes, thumbs, rule, seconds, second_thumbs, nullptr,
                                             orientations);
      ASSERT_EQ(got.has_value(), expected.has_value())
          << "probe " << p << " radii " << first_radius << "/" << second_radius;
      if (got) {
        EXPECT_EQ(got->group, expected->group) << p;
        EXPECT_EQ(got->distance, expected->distance) << p;
      }
      // Source 1 alone: every stored second hash within the index radius, once each.
      std::map<int64_t, int> found, want;
      index.ForEachWithin(
          seconds[0],
          [&](int64_t group, int distance) {
            auto [it, added] = found.emplace(group, distance);
            if (!added) it->second = std::min(it->second, distance);
          },
          /*source=*/1);
      for (const Stored& s : stored) {
        if (!s.second) continue;
        const int distance = __builtin_popcountll(*s.second ^ seconds[0]);
        if (distance > index.max_distance()) continue;
        auto [it, added] = want.emplace(s.group, distance);
        if (!added) it->second = std::min(it->second, distance);
      }
      EXPECT_EQ(found, want) << p;
    }
  }
}

// An item the first source places stays there even when the second offers a closer thumbnail
// (a captioned copy's group, say): the second source places only what the first cannot.
TEST(NearDupIndex, TheSecondSourceIsReadOnlyWhenTheFirstAcceptsNothing) {
  std::mt19937_64 random(5);
  MatchRule rule;  // verified defaults, second source on
  ASSERT_GE(rule.second_distance, 0);
  NearDupIndex index(rule.IndexRadius());
  const uint64_t hash = 0x0123456789ABCDEFull, band = 0xFEDCBA9876543210ull;
  const auto picture = Thumb(1, random), band_thumb = Thumb(7, random);
  // Group 1: its first hash and thumbnail near the probe's, its second hash far.
  index.Add(hash ^ 0xF, 1, Thumb(1, random, 4), false, ~band, true, Thumb(3, random));
  // Group 2: first hash far, second hash and second thumbnail equal to the probe's.
  index.Add(~hash, 2, Thumb(2, random), false, band, true, band_thumb);
  const uint64_t probes[] = {hash}, seconds[] = {band};
  auto match = index.NearestAccepted(probes, picture, rule, seconds, band_thumb);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->group, 1);
  EXPECT_GT(match->thumb_distance, 0) << "the second source's exact thumbnail did not win";
  // Without the first source's candidate the second places it.
  const uint64_t moved[] = {hash ^ 0xFFFFFF};
  match = index.NearestAccepted(moved, picture, rule, seconds, band_thumb);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->group, 2);
  EXPECT_EQ(match->thumb_distance, 0);
  // The second source's candidate is verified on the second thumbnails: another band picture
  // is refused although its hash is equal.
  EXPECT_FALSE(index.NearestAccepted(moved, picture, rule, seconds, Thumb(8, random)));
  // Without second thumbnails the second source is not used.
  EXPECT_FALSE(index.NearestAccepted(moved, picture, rule, seconds));
  // A flat band (no detail) matches nothing through the second source, though hash and
  // thumbnail are equal: it would match every other flat band.
  const std::vector<uint8_t> flat(kThumbBytes, 40);
  const uint64_t flat_band = 0x0F0F0F0F0F0F0F0Full;
  index.Add(~hash ^ 0xFF00, 3, Thumb(4, random), false, flat_band, true, flat);
  const uint64_t flat_seconds[] = {flat_band};
  EXPECT_FALSE(index.NearestAccepted(moved, picture, rule, flat_seconds, flat));
}

TEST(NearDupIndex, AThumbnailRejectsALookAlikeAndAcceptsACopyWhoseHashMoved) {
  std::mt19937_64 random(3);
  MatchRule rule;  // verified defaults
  NearDupIndex index(rule.IndexRadius());
  const uint64_t founder = 0x0123456789ABCDEFull;
  index.Add(founder, 1, Thumb(1, random));
  // A look-alike: 2 bits from the founder's hash, another picture.
  const uint64_t close[] = {founder ^ 0x3};
  EXPECT_FALSE(index.NearestAccepted(close, Thumb(2, random), rule));
  // Without thumbnails the hash alone decides: it joins.
  EXPECT_TRUE(index.NearestAccepted(close, {}, rule));
  // A copy whose hash moved 7 bits (past `distance`, within `candidate_distance`) and whose
  // thumbnail is the founder's with noise and a brightness shift joins.
  static_assert(kDefaultCandidateDistance >= 7);
  const uint64_t moved[] = {founder ^ 0x7F000};
  const auto match = index.NearestAccepted(moved, Thumb(1, random, 8, 15), rule);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->group, 1);
  EXPECT_EQ(match->distance, 7);
  EXPECT_GE(match->thumb_distance, 0);
  EXPECT_FALSE(index.NearestAccepted(moved, {}, rule)) << "hash alone: 7 > 6 bits";
}

}  // namespace
}  // namespace memes::store
