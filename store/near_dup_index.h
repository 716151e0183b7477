// The in-memory near-duplicate index: 64-bit perceptual hashes of group founders' frames, each
// tagged with its group id, searched by Hamming distance in sublinear time with multi-index
// hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing",
// CVPR 2012): the hash is cut into four 16-bit blocks, each block indexes a table of 2^16
// buckets, and a hash within r = 4q + a bits of a probe (0 <= a < 4) agrees with it to within q
// bits in one of the first a + 1 blocks or to within q - 1 bits in one of the others
// (pigeonhole: otherwise the blocks differ by at least (a+1)(q+1) + (3-a)q = r + 1 bits), so only
// those buckets are read.
// Thread-safety: none; concurrent const calls are safe while nothing is added.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace memes::store {

// Hashes farther apart than this are never searched for: past it the buckets to read per block
// (sum of C(16, k), k ≤ ceil(r/4)) grow past a linear scan of a large store.
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
  size_t size() const { return size_; }
  void Clear();
  void Add(uint64_t hash, int64_t group);

  // The stored hash nearest to any of `probes`, if one is within max_distance; ties go to the
  // lowest group id, so the answer does not depend on the order hashes were added in.
  std::optional<Match> Nearest(std::span<const uint64_t> probes) const;

  // How many stored entries a probe for `probe` reads (every entry of every bucket it visits):
  // the index's cost measure, for benchmarks.
  size_t EntriesRead(uint64_t probe) const {
    const uint64_t spread = Spread(probe);
    size_t read = 0;
    for (int block = 0; block < kBlocks; ++block) {
      for (const uint16_t flip : block_masks_[block])
        read += buckets_[block][BlockOf(spread, block) ^ flip].size();
    }
    return read;
  }

  // Calls visit(group, distance) for every stored hash within max_distance of `probe`; a hash
  // may be visited more than once (once per block it agrees in).
  template <typename Visit>
  void ForEachWithin(uint64_t probe, Visit&& visit) const {
    const uint64_t spread = Spread(probe);
    for (int block = 0; block < kBlocks; ++block) {
      const uint32_t key = BlockOf(spread, block);
      for (const uint16_t flip : block_masks_[block]) {
        for (const Entry& entry : buckets_[block][key ^ flip]) {
          const int distance = __builtin_popcountll(entry.spread ^ spread);
          if (distance <= max_distance_) visit(entry.group, distance);
        }
      }
    }
  }

 private:
  static constexpr int kBlocks = 4;
  // A stored hash as its buckets hold it: inline, so a probe reads each bucket front to back
  // instead of chasing an index into a separate array for every candidate.
  struct Entry {
    uint64_t spread;  // Spread(hash)
    int64_t group;
  };
  // The hash with its bits dealt round-robin into the four blocks (bit i goes to block i mod 4).
  // A PHash's bits are DCT coefficients in row-major order, and the low-frequency rows are much
  // the same across pictures of one kind (centred round emoji on flat backgrounds): cut in
  // plain 16-bit runs, block 0 put thousands of hashes in a few buckets. A permutation keeps
  // every Hamming distance.
  static uint64_t Spread(uint64_t hash);
  static uint32_t BlockOf(uint64_t spread, int block) {
    return static_cast<uint32_t>(spread >> (16 * block)) & 0xFFFFu;
  }

  int max_distance_;
  size_t size_ = 0;
  // block_masks_[b]: every 16-bit mask with at most the radius of block b bits set (the
  // pigeonhole split above; empty for a block that need not be read).
  std::array<std::vector<uint16_t>, kBlocks> block_masks_;
  // buckets_[b][v]: entries whose block b of Spread(hash) equals v. Invariant: every entry is in
  // exactly one bucket of each block.
  std::array<std::vector<std::vector<Entry>>, kBlocks> buckets_;
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
