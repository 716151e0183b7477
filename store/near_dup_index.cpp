#include "store/near_dup_index.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace memes::store {

namespace {

// kSpreadTable[byte][value]: the bits of `value`, the hash's byte number `byte`, at their
// spread positions (bit i of the hash moves to 16 * (i % 4) + i / 4).
struct SpreadTable {
  std::array<std::array<uint64_t, 256>, 8> bits{};
  constexpr SpreadTable() {
    for (int byte = 0; byte < 8; ++byte) {
      for (int value = 0; value < 256; ++value) {
        uint64_t out = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if ((value >> bit & 1) == 0) continue;
          const int i = 8 * byte + bit;
          out |= uint64_t{1} << (16 * (i % 4) + i / 4);
        }
        bits[byte][value] = out;
      }
    }
  }
};
constexpr SpreadTable kSpreadTable;

}  // namespace

uint64_t NearDupIndex::Spread(uint64_t hash) {
  uint64_t out = 0;
  for (int byte = 0; byte < 8; ++byte) out |= kSpreadTable.bits[byte][(hash >> (8 * byte)) & 0xFF];
  return out;
}

NearDupIndex::NearDupIndex(int max_distance) : max_distance_(max_distance) {
  assert(max_distance >= 0 && max_distance <= kMaxNearDuplicateDistance);
  // r = 4q + a: blocks 0..a at radius q, the others at radius q - 1 (none when q == 0).
  const int q = max_distance / kBlocks, a = max_distance % kBlocks;
  for (int block = 0; block < kBlocks; ++block) {
    const int radius = block <= a ? q : q - 1;
    for (uint32_t mask = 0; mask <= 0xFFFFu && radius >= 0; ++mask) {
      if (__builtin_popcount(mask) <= radius)
        block_masks_[block].push_back(static_cast<uint16_t>(mask));
    }
  }
  for (auto& table : buckets_) table.resize(size_t{1} << 16);
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
  for (int block = 0; block < kBlocks; ++block)
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
