#include "store/near_dup_index.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace memes::store {

int NearDupIndex::DefaultBlocks(int /*max_distance*/) { return kMinBlocks; }

NearDupIndex::NearDupIndex(int max_distance, int blocks)
    : max_distance_(max_distance), blocks_(blocks == 0 ? DefaultBlocks(max_distance) : blocks) {
  assert(max_distance >= 0 && max_distance <= kMaxNearDuplicateDistance);
  assert(blocks_ >= kMinBlocks && blocks_ <= kMaxBlocks);
  // Block b holds hash bits b, b + m, b + 2m, …: ceil((64 - b) / m) of them, stored from
  // block_shift_[b] up in the spread hash.
  std::array<int, kMaxBlocks> width{};
  int shift = 0;
  for (int block = 0; block < blocks_; ++block) {
    width[block] = (64 - block + blocks_ - 1) / blocks_;
    block_shift_[block] = shift;
    block_mask_[block] = static_cast<uint32_t>((uint64_t{1} << width[block]) - 1);
    shift += width[block];
  }
  for (int byte = 0; byte < 8; ++byte) {
    for (int value = 0; value < 256; ++value) {
      uint64_t out = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if ((value >> bit & 1) == 0) continue;
        const int i = 8 * byte + bit;
        out |= uint64_t{1} << (block_shift_[i % blocks_] + i / blocks_);
      }
      spread_table_[byte][value] = out;
    }
  }
  // r = m q + a: blocks 0..a at radius q, the others at radius q - 1 (none when q == 0).
  const int q = max_distance / blocks_, a = max_distance % blocks_;
  for (int block = 0; block < blocks_; ++block) {
    const int radius = block <= a ? q : q - 1;
    for (uint32_t mask = 0; mask <= block_mask_[block] && radius >= 0; ++mask) {
      if (__builtin_popcount(mask) <= radius) block_masks_[block].push_back(mask);
    }
    buckets_[block].resize(size_t{block_mask_[block]} + 1);
  }
}

void NearDupIndex::Clear() {
  size_ = 0;
  for (auto& table : buckets_) {
    for (auto& bucket : table) bucket.clear();
  }
}

void NearDupIndex::Add(uint64_t hash, int64_t group) {
  const uint64_t spread = Spread(hash);
  ++size_;
  for (int block = 0; block < blocks_; ++block)
    buckets_[block][BlockOf(spread, block)].push_back({spread, group});
}

std::optional<NearDupIndex::Match> NearDupIndex::Nearest(std::span<const uint64_t> probes) const {
  std::optional<Match> best;
  for (size_t p = 0; p < probes.size(); ++p) {
    const uint64_t probe = probes[p];
    // A symmetric picture has the same hash in several orientations: probe it once. (Only
    // among the first probes, so a long animation's probes stay linear.)
    if (p < 64 && std::find(probes.begin(), probes.begin() + p, probe) != probes.begin() + p)
      continue;
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
