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
  MatchRule rule;
  rule.distance = max_distance;
  return RegroupStore(catalog, rule, hashes_of, dry_run);
}

Result<RegroupReport> RegroupStore(Catalog& catalog, const MatchRule& rule,
                                   const HashesOf& hashes_of, bool dry_run) {
  const int radius = rule.IndexRadius();
  if (rule.distance < 0 || radius > kMaxNearDuplicateDistance ||
      (rule.verify && rule.candidate_distance < 0)) {
    return InvalidArgument("the near-duplicate thresholds must be within 0.." +
                           std::to_string(kMaxNearDuplicateDistance) + " bits, not " +
                           std::to_string(rule.distance) + " and " +
                           std::to_string(rule.candidate_distance));
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
    ItemHashes& h = hashes[i];
    // Thumbnails count only when there is one per hash.
    if (h.own_thumbs.size() != h.own.size() * kThumbBytes) h.own_thumbs.clear();
    if (h.probe_thumbs.size() != h.probes.size() * kThumbBytes) h.probe_thumbs.clear();
    if (h.own_second.size() != h.own.size()) h.own_second.clear();
    if (h.probe_second.size() != h.probes.size()) h.probe_second.clear();
    if (h.own_second.empty() || h.own_second_thumbs.size() != h.own.size() * kThumbBytes) {
      h.own_second_thumbs.clear();
    }
    if (h.probe_second.empty() || h.probe_second_thumbs.size() != h.probes.size() * kThumbBytes) {
      h.probe_second_thumbs.clear();
    }
    report.verified_items += !h.own_thumbs.empty();
    candidates[i] = {h.own,        h.probes,       h.own_thumbs,        h.probe_thumbs,
                     h.own_second, h.probe_second, h.own_second_thumbs, h.probe_second_thumbs};
  }
  std::vector<bool> represents, absorbed;
  std::vector<size_t> founder = AssignFounders(candidates, rule, &represents, &absorbed);

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
    for (size_t i = 0; i < items.size(); ++i) {
      // A representative of a group united under another founder no longer represents: the
      // founder that accepted it is not the group's (the bound of MayRepresent would not hold).
      const size_t root = Root(parent, founder[i]);
      if (root != founder[i]) represents[i] = false;
      founder[i] = root;
    }
  }

  Histogram(
      items.size(), [&](size_t i) { return items[founder[i]].blob; }, report.sizes_after,
      report.groups_after, report.largest_after);
  std::vector<std::pair<std::string, std::string>> founder_of;
  founder_of.reserve(items.size());
  std::vector<std::string> representatives;  // beyond the founders
  std::vector<std::string> absorbing;        // founders whose groups absorbed another
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[founder[i]].blob != items[i].group_key) ++report.changed;
    founder_of.emplace_back(items[i].blob, items[founder[i]].blob);
    if (represents[i] && founder[i] != i) representatives.push_back(items[i].blob);
    if (absorbed[i] && founder[i] == i) {
      absorbing.push_back(items[i].blob);
      ++report.bridged;
    }
  }
  report.representatives = static_cast<int64_t>(representatives.size());
  if (!dry_run) {
    MEMES_ASSIGN_OR_RETURN(const int64_t changed,
                           catalog.Regroup(founder_of, representatives, absorbing));
    (void)changed;  // equals report.changed: both compare the same keys
    // Every item with recomputed thumbnails is written (the catalog skips equal ones), so a
    // store from before schema 4 gets them; hashes only where they changed.
    // Second hashes likewise (a store from before schema 5 gets them).
    std::vector<std::pair<std::string, std::vector<uint64_t>>> rehashed;
    std::vector<std::vector<uint8_t>> thumbs;
    std::vector<std::vector<uint64_t>> seconds;
    std::vector<std::vector<uint8_t>> second_thumbs;
    for (size_t i = 0; i < items.size(); ++i) {
      if (hashes[i].own_thumbs.empty() && hashes[i].own_second.empty() &&
          hashes[i].own == items[i].phashes) {
        continue;
      }
      if (hashes[i].own.size() != items[i].phashes.size()) continue;
      rehashed.emplace_back(items[i].blob, hashes[i].own);
      thumbs.push_back(hashes[i].own_thumbs);
      seconds.push_back(hashes[i].own_second);
      second_thumbs.push_back(hashes[i].own_second_thumbs);
    }
    // A mix of items with and without thumbnails: write the hashes alone for those without.
    std::vector<std::pair<std::string, std::vector<uint64_t>>> with, without;
    std::vector<std::vector<uint8_t>> with_thumbs;
    std::vector<std::vector<uint64_t>> with_seconds, without_seconds;
    std::vector<std::vector<uint8_t>> with_second_thumbs, without_second_thumbs;
    for (size_t k = 0; k < rehashed.size(); ++k) {
      if (thumbs[k].empty()) {
        without.push_back(std::move(rehashed[k]));
        without_seconds.push_back(std::move(seconds[k]));
        without_second_thumbs.push_back(std::move(second_thumbs[k]));
      } else {
        with.push_back(std::move(rehashed[k]));
        with_thumbs.push_back(std::move(thumbs[k]));
        with_seconds.push_back(std::move(seconds[k]));
        with_second_thumbs.push_back(std::move(second_thumbs[k]));
      }
    }
    if (!with.empty()) {
      MEMES_ASSIGN_OR_RETURN(
          const int64_t n,
          catalog.RewriteFrameHashes(with, with_thumbs, with_seconds, with_second_thumbs));
      report.rehashed_frames += n;
    }
    if (!without.empty()) {
      MEMES_ASSIGN_OR_RETURN(
          const int64_t n,
          catalog.RewriteFrameHashes(without, {}, without_seconds, without_second_thumbs));
      report.rehashed_frames += n;
    }
  }
  return report;
}

Result<GroupSummary> SummarizeGroups(Catalog& catalog, int largest) {
  MEMES_ASSIGN_OR_RETURN(const std::vector<GroupingItem> items, catalog.GroupingItems());
  GroupSummary summary;
  MEMES_ASSIGN_OR_RETURN(summary.exact_duplicate_sources, catalog.ExactDuplicateSources());
  summary.items = static_cast<int64_t>(items.size());
  std::unordered_map<std::string, const GroupingItem*> item_of;
  for (const GroupingItem& item : items) item_of[item.blob] = &item;
  // Groups in the order their first item was catalogued (the founding order).
  std::vector<std::pair<std::string, int64_t>> groups;
  std::unordered_map<std::string, size_t> group_of;
  for (const GroupingItem& item : items) {
    auto [it, added] = group_of.emplace(item.group_key, groups.size());
    if (added) groups.emplace_back(item.group_key, 0);
    ++groups[it->second].second;
    if (item.blob == item.group_key) continue;
    const auto founder = item_of.find(item.group_key);
    if (founder == item_of.end()) continue;
    bool same = false;
    for (const uint64_t a : founder->second->phashes) {
      for (const uint64_t b : item.phashes) same |= a == b;
    }
    summary.same_hash_as_founder += same;
  }
  summary.groups = static_cast<int64_t>(groups.size());
  for (const auto& [key, size] : groups) ++summary.sizes[size];
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (groups.size() > static_cast<size_t>(std::max(0, largest))) groups.resize(largest);
  summary.largest = std::move(groups);
  return summary;
}

}  // namespace memes::store
