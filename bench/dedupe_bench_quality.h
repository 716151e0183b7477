// dedupe_bench's grouping methods and how they are scored on the labelled set: the joins
// (the old any-member rule, founder-only by hash, the verified rule of store::MatchRule), the
// pair recall / false-merge measures, the split error over the groups, and the --grid rule
// syntax. Thread-safety: single-threaded bench code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/dedupe_bench_speed.h"
#include "store/near_dup_index.h"

namespace memes::bench {

// Per item the position of its group's founder, by each method (items in arrival order).
// The grouping before issue 12: the lowest group holding any frame within `distance` bits.
std::vector<size_t> AnyMemberJoin(const std::vector<Hashed>& items, int distance);
// Founder-only by hash, with or without the eight orientation probes.
std::vector<size_t> FounderJoin(const std::vector<Hashed>& items, int distance, bool orientations);
// store::AssignFounders with `rule`.
std::vector<size_t> VerifiedJoin(const std::vector<Hashed>& items,
                                 const memes::store::MatchRule& rule);

// Prints, per transform, the share of copies whose thumbnail distance to their original (at
// the orientation whose hash is nearest) is within each bound.
void ThumbPairs(const std::vector<Hashed>& items);

struct Quality {
  std::map<std::string, std::pair<int, int>> recall;  // transform -> (joined, pairs)
  int groups = 0, false_merge_groups = 0, vendor_pairs = 0, vendor_merged = 0;
  size_t largest = 0, largest_true = 0;
  int64_t pairs_together = 0, pairs_wrong = 0;
};
// `group[i]`: item i's founder position.
Quality Measure(const std::vector<Hashed>& items, const std::vector<size_t>& group);

// Test-share error of a split over these groups: (max over classes with >= 100 items, overall).
std::pair<double, double> SplitError(const std::vector<Hashed>& items,
                                     const std::vector<size_t>& group, bool balanced, uint64_t seed,
                                     double fraction);

// One --grid entry, "C:T:TRIM:CONTRAST[:SECOND[…[:SIDE]]]" (ParseRule's comment gives the
// fields), as a rule, and the rule's name in the tables.
memes::store::MatchRule ParseRule(const std::string& text);
std::string RuleName(const memes::store::MatchRule& rule);

}  // namespace memes::bench
