#include "store/regroup.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <unordered_map>

#include "store/near_dup_index.h"

namespace memes::store {

namespace {

// Group size histogram from each item's group key.
template <typename KeyOf>
void Histogram(size_t items, KeyOf key_of, std::map<int64_t, int64_t>& sizes, int64_t& groups,
               int64_t& largest) {
  std::unordered_map<std::string, int64_t> size_of;
  for (size_t i = 0; i < items; ++i) ++size_of[key_of(i)];
  groups = static_cast<int64_t>(size_of.size());
  for (const auto& [key, size] : size_of) {
    ++sizes[size];
    largest = std::max(largest, size);
  }
}

// Union-find over item positions; the root is the smallest position (the earliest founder).
size_t Root(std::vector<size_t>& parent, size_t at) {
  while (parent[at] != at) at = parent[at] = parent[parent[at]];
  return at;
}

}  // namespace

Result<RegroupReport> RegroupStore(Catalog& catalog, int max_distance, const HashesOf& hashes_of,
                                   bool dry_run) {
  if (max_distance < 0 || max_distance > kMaxNearDuplicateDistance) {
    return InvalidArgument("the near-duplicate threshold must be within 0.." +
                           std::to_string(kMaxNearDuplicateDistance) + " bits, not " +
                           std::to_string(max_distance));
  }
  MEMES_ASSIGN_OR_RETURN(std::vector<GroupingItem> items, catalog.GroupingItems());
  RegroupReport report;
  report.items = static_cast<int64_t>(items.size());
  Histogram(
      items.size(), [&](size_t i) { return items[i].group_key; }, report.sizes_before,
      report.groups_before, report.largest_before);

  std::vector<ItemHashes> hashes(items.size());
  std::vector<GroupingCandidate> candidates(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    MEMES_ASSIGN_OR_RETURN(hashes[i], hashes_of(items[i]));
    if (hashes[i].own.empty()) hashes[i].own = items[i].phashes;
    candidates[i] = {hashes[i].own, hashes[i].probes};
  }
  std::vector<size_t> founder = AssignFounders(candidates, max_distance);

  // Keep `label group` merges: unite the new groups of every member of a merged old group.
  std::set<std::string> merged_keys;
  for (const GroupingItem& item : items) {
    if (item.merged) merged_keys.insert(item.group_key);
  }
  report.merged_groups = static_cast<int64_t>(merged_keys.size());
  if (!merged_keys.empty()) {
    std::vector<size_t> parent(items.size());
    std::iota(parent.begin(), parent.end(), size_t{0});
    std::unordered_map<std::string, size_t> first_member;  // old key -> a member's founder
    for (size_t i = 0; i < items.size(); ++i) {
      if (!merged_keys.count(items[i].group_key)) continue;
      auto [it, added] = first_member.emplace(items[i].group_key, founder[i]);
      if (added) continue;
      const size_t a = Root(parent, it->second), b = Root(parent, founder[i]);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
    for (size_t i = 0; i < items.size(); ++i) founder[i] = Root(parent, founder[i]);
  }

  Histogram(
      items.size(), [&](size_t i) { return items[founder[i]].blob; }, report.sizes_after,
      report.groups_after, report.largest_after);
  std::vector<std::pair<std::string, std::string>> founder_of;
  founder_of.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[founder[i]].blob != items[i].group_key) ++report.changed;
    founder_of.emplace_back(items[i].blob, items[founder[i]].blob);
  }
  if (!dry_run) {
    MEMES_ASSIGN_OR_RETURN(const int64_t changed, catalog.Regroup(founder_of));
    (void)changed;  // equals report.changed: both compare the same keys
    std::vector<std::pair<std::string, std::vector<uint64_t>>> rehashed;
    for (size_t i = 0; i < items.size(); ++i) {
      if (hashes[i].own != items[i].phashes) rehashed.emplace_back(items[i].blob, hashes[i].own);
    }
    if (!rehashed.empty()) {
      MEMES_ASSIGN_OR_RETURN(report.rehashed_frames, catalog.RewriteFrameHashes(rehashed));
    }
  }
  return report;
}

}  // namespace memes::store
