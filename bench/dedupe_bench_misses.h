// dedupe_bench's account of the pairs a grouping missed: for each copy not grouped with its
// original, whether the hash never made them candidates, the thumbnail refused them, or both
// would have accepted the pair and the founder order split them. Thread-safety: single-threaded
// bench code.
#pragma once

#include <string>
#include <vector>

#include "bench/dedupe_bench_speed.h"
#include "store/near_dup_index.h"

namespace memes::bench {

// Prints a table of missed pairs per transform by cause, then one line per missed pair of the
// transforms in `listed` (name, nearest hash distance, nearest band hash distance, thumbnail
// distance there, both groups' founders). `group[i]`: the position of item i's founder
// (store::AssignFounders).
void ExplainMisses(const std::vector<Hashed>& items, const std::vector<size_t>& group,
                   const store::MatchRule& rule, const std::vector<std::string>& listed);

}  // namespace memes::bench
