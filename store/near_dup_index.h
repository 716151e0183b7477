// The in-memory near-duplicate index: 64-bit perceptual hashes of group founders' frames, each
// tagged with its group id, searched by Hamming distance in sublinear time with multi-index
// hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing",
// CVPR 2012): the hash is cut into four 16-bit blocks, each block indexes a table of 2^16
// buckets, and a hash within r bits of a probe agrees with it to within floor(r/4) bits in at
// least one block (pigeonhole), so only those buckets are read.
// Thread-safety: none; concurrent const calls are safe while nothing is added.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace memes::store {

// Hashes farther apart than this are never searched for: past it the buckets to read per block
// (sum of C(16, k), k ≤ floor(r/4)) grow past a linear scan of a large store.
inline constexpr int kMaxNearDuplicateDistance = 15;

class NearDupIndex {
 public:
  struct Match {
    int64_t group = 0;
    int distance = 0;  // Hamming distance between the probe and the stored hash
  };

  // Requires: 0 <= max_distance <= kMaxNearDuplicateDistance.
  explicit NearDupIndex(int max_distance);

  int max_distance() const { return max_distance_; }
  size_t size() const { return hashes_.size(); }
  void Clear();
  void Add(uint64_t hash, int64_t group);

  // The stored hash nearest to any of `probes`, if one is within max_distance; ties go to the
  // lowest group id, so the answer does not depend on the order hashes were added in.
  std::optional<Match> Nearest(std::span<const uint64_t> probes) const;

  // Calls visit(group, distance) for every stored hash within max_distance of `probe`; a hash
  // may be visited more than once (once per block it agrees in).
  template <typename Visit>
  void ForEachWithin(uint64_t probe, Visit&& visit) const {
    for (int block = 0; block < kBlocks; ++block) {
      const uint32_t key = BlockOf(probe, block);
      for (const uint16_t flip : BlockMasks()) {
        for (const uint32_t entry : buckets_[block][key ^ flip]) {
          const int distance = __builtin_popcountll(hashes_[entry] ^ probe);
          if (distance <= max_distance_) visit(groups_[entry], distance);
        }
      }
    }
  }

 private:
  static constexpr int kBlocks = 4;
  static uint32_t BlockOf(uint64_t hash, int block) {
    return static_cast<uint32_t>(hash >> (16 * block)) & 0xFFFFu;
  }
  // Every 16-bit mask with at most floor(max_distance / kBlocks) bits set.
  const std::vector<uint16_t>& BlockMasks() const { return block_masks_; }

  int max_distance_;
  std::vector<uint16_t> block_masks_;
  std::vector<uint64_t> hashes_;
  std::vector<int64_t> groups_;
  // buckets_[b][v]: entries whose block b equals v. Invariant: every entry is in exactly one
  // bucket of each block.
  std::array<std::vector<std::vector<uint32_t>>, kBlocks> buckets_;
};

// One item to group: the hashes it founds a group with (its kept frames' phashes) and the
// hashes it probes founders with (those frames in all eight orientations, or `own` alone).
struct GroupingCandidate {
  std::span<const uint64_t> own;
  std::span<const uint64_t> probes;
};

// Groups `items` in order the way Catalog::AddItem does one at a time: an item joins the
// nearest earlier founder within max_distance (ties: the earliest founded), otherwise founds a
// group. Returns, per item, the position of its founder (its own position for a founder).
// Requires: 0 <= max_distance <= kMaxNearDuplicateDistance.
std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance);

}  // namespace memes::store
