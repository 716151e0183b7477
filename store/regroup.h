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
  int64_t verified_items = 0;   // items regrouped with thumbnails (the rest: hash only)
  int64_t representatives = 0;  // members that represent their group beside its founder
  int64_t bridged = 0;          // groups that absorbed another (MatchRule::bridge_distance)
};

// The hashes one item is regrouped with, recomputed from its frames when the caller can: `own`
// (one per kept frame; empty: the catalog's stored phashes) and `probes` (the kept frames in all
// eight orientations; empty: `own` alone).
// `own_thumbs` / `probe_thumbs`: one verification thumbnail (kThumbBytes) per own hash / per
// probe, or empty (hash-only matching for this item).
// `own_second` / `probe_second`: the second hashes (transform::BandHashes) beside `own` /
// `probes`, or empty (no second candidate source for this item), with `own_second_thumbs` /
// `probe_second_thumbs` their thumbnails (transform::BandThumbsOf).
struct ItemHashes {
  std::vector<uint64_t> own;
  std::vector<uint64_t> probes;
  std::vector<uint8_t> own_thumbs;
  std::vector<uint8_t> probe_thumbs;
  std::vector<uint64_t> own_second;
  std::vector<uint64_t> probe_second;
  std::vector<uint8_t> own_second_thumbs;
  std::vector<uint8_t> probe_second_thumbs;
};
using HashesOf = std::function<Result<ItemHashes>(const GroupingItem&)>;

// Groups every item again, in the order they were catalogued, as Catalog::AddItem would with
// `rule` (its representatives, MatchRule::representatives; an int is the hash-only radius with
// the verified defaults), rewriting the representative marks too. Groups
// that `memes label group` made stay whole: the new groups of all current members of a group
// holding a merged item are united under the earliest-founded of them. Writes the result in one
// transaction unless `dry_run`, and then also stores the recomputed `own` hashes (and thumbnails)
// where they differ from the catalog's (a store hashed with an older signature is brought up to
// date, so later crawls probe like with like). Requires: 0 <= rule.IndexRadius() <=
// kMaxNearDuplicateDistance (InvalidArgument otherwise).
Result<RegroupReport> RegroupStore(Catalog& catalog, const MatchRule& rule,
                                   const HashesOf& hashes_of, bool dry_run = false);
Result<RegroupReport> RegroupStore(Catalog& catalog, int max_distance, const HashesOf& hashes_of,
                                   bool dry_run = false);

// The groups as they are, for `memes dedupe --report` and stats.json's "dedupe" section (one
// computation, so the two agree).
struct GroupSummary {
  int64_t items = 0;  // items with a group
  int64_t groups = 0;
  std::map<int64_t, int64_t> sizes;  // group size -> number of groups of that size
  // The `largest` biggest groups, biggest first (ties: the earlier founded): founder blob, size.
  std::vector<std::pair<std::string, int64_t>> largest;
  int64_t exact_duplicate_sources = 0;  // sources beyond the first of a blob
  int64_t same_hash_as_founder = 0;     // members with a frame hash equal to one of the founder's
};
Result<GroupSummary> SummarizeGroups(Catalog& catalog, int largest = 10);

}  // namespace memes::store
