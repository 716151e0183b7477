#include "store/near_dup_index.h"

#include <cassert>

namespace memes::store {

NearDupIndex::NearDupIndex(int max_distance) : max_distance_(max_distance) {
  assert(max_distance >= 0 && max_distance <= kMaxNearDuplicateDistance);
  const int per_block = max_distance / kBlocks;
  for (uint32_t mask = 0; mask <= 0xFFFFu; ++mask) {
    if (__builtin_popcount(mask) <= per_block) block_masks_.push_back(static_cast<uint16_t>(mask));
  }
  for (auto& table : buckets_) table.resize(size_t{1} << 16);
}

void NearDupIndex::Clear() {
  hashes_.clear();
  groups_.clear();
  for (auto& table : buckets_) {
    for (auto& bucket : table) bucket.clear();
  }
}

void NearDupIndex::Add(uint64_t hash, int64_t group) {
  const auto entry = static_cast<uint32_t>(hashes_.size());
  hashes_.push_back(hash);
  groups_.push_back(group);
  for (int block = 0; block < kBlocks; ++block)
    buckets_[block][BlockOf(hash, block)].push_back(entry);
}

std::optional<NearDupIndex::Match> NearDupIndex::Nearest(std::span<const uint64_t> probes) const {
  std::optional<Match> best;
  for (const uint64_t probe : probes) {
    ForEachWithin(probe, [&](int64_t group, int distance) {
      if (!best || distance < best->distance ||
          (distance == best->distance && group < best->group)) {
        best = Match{group, distance};
      }
    });
  }
  return best;
}

std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance) {
  NearDupIndex founders(max_distance);
  std::vector<size_t> founder_of(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::span<const uint64_t> probes =
        items[i].probes.empty() ? items[i].own : items[i].probes;
    const auto match = founders.Nearest(probes);
    if (match) {
      founder_of[i] = static_cast<size_t>(match->group);
      continue;
    }
    founder_of[i] = i;
    for (const uint64_t hash : items[i].own) founders.Add(hash, static_cast<int64_t>(i));
  }
  return founder_of;
}

}  // namespace memes::store
