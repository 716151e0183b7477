// Recomputing the near-duplicate groups of an existing store (`memes dedupe`) from the hashes
// the catalog already holds, or from probes the caller derives from the frames cache. Never
// fetches, never decodes. Thread-safety: as Catalog (one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/status.h"
#include "store/catalog.h"

namespace memes::store {

struct RegroupReport {
  int64_t items = 0;          // items with a group
  int64_t groups_before = 0;  // distinct groups before
  int64_t groups_after = 0;
  int64_t changed = 0;        // items whose group key changed
  int64_t merged_groups = 0;  // groups made by `label group` whose members were kept together
  std::map<int64_t, int64_t> sizes_before;  // group size -> number of groups of that size
  std::map<int64_t, int64_t> sizes_after;
  int64_t largest_before = 0, largest_after = 0;
  int64_t rehashed_frames = 0;  // stored frame hashes replaced by recomputed ones
};

// The hashes one item is regrouped with, recomputed from its frames when the caller can: `own`
// (one per kept frame; empty: the catalog's stored phashes) and `probes` (the kept frames in all
// eight orientations; empty: `own` alone).
struct ItemHashes {
  std::vector<uint64_t> own;
  std::vector<uint64_t> probes;
};
using HashesOf = std::function<Result<ItemHashes>(const GroupingItem&)>;

// Groups every item again, in the order they were catalogued, as Catalog::AddItem would with
// `max_distance` (founder-only joining). Groups that `memes label group` made stay whole: the
// new groups of all current members of a group holding a merged item are united under the
// earliest-founded of them. Writes the result in one transaction unless `dry_run`, and then
// also stores the recomputed `own` hashes where they differ from the catalog's (a store hashed
// with an older signature is brought up to date, so later crawls probe like with like).
// Requires: 0 <= max_distance <= kMaxNearDuplicateDistance.
Result<RegroupReport> RegroupStore(Catalog& catalog, int max_distance, const HashesOf& hashes_of,
                                   bool dry_run = false);

}  // namespace memes::store
