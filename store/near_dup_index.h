// The in-memory near-duplicate index: 64-bit perceptual hashes of group founders' frames, each
// tagged with its group id, searched by Hamming distance in sublinear time with multi-index
// hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing",
// CVPR 2012): the hash is cut into m blocks of 64/m bits, each block indexes a table of
// buckets, and a hash within r = m*q + a bits of a probe (0 <= a < m) agrees with it to within
// q bits in one of the first a + 1 blocks or to within q - 1 bits in one of the others
// (pigeonhole: otherwise the blocks differ by at least (a+1)(q+1) + (m-1-a)q = r + 1 bits), so
// only those buckets are read.
// Thread-safety: none; concurrent const calls are safe while nothing is added.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace memes::store {

// Hashes farther apart than this are never searched for: past it the buckets to read per block
// grow past a linear scan of a large store.
inline constexpr int kMaxNearDuplicateDistance = 15;

// The verification thumbnail a frame may carry beside its hash: its content window in colour,
// 12×12 cells of RGB bytes interleaved row by row (transform::ContentThumbsOf makes it; the
// pipelines check the two sizes agree).
inline constexpr int kThumbSide = 12;
inline constexpr size_t kThumbBytes = 3 * kThumbSide * kThumbSide;

// How far apart two thumbnails of the same picture are, ignoring what a caption, a watermark or
// a crop changes: each cell's colour difference (summed over R, G, B after each thumbnail's
// mean colour is taken off, so a brightness or tint change costs nothing), the worst
// `trim` share of cells left out, the mean of the rest. 0 for equal thumbnails; a different
// drawing of the same subject scores high everywhere, a captioned copy only where the text is.
// Requires: a.size() == b.size() == kThumbBytes; 0 <= trim < 1.
// `contrast`: each channel also scaled to a common spread first (a contrast change costs
// nothing either).
double ThumbDistance(std::span<const uint8_t> a, std::span<const uint8_t> b, double trim,
                     bool contrast = false);

// Defaults of the verified rule, chosen from bench/dedupe_bench (docs/benchmarks.md).
inline constexpr int kDefaultCandidateDistance = 10;
inline constexpr double kDefaultThumbDistance = 26;

// When an item joins a founder (store/FORMAT.md, "Near-duplicate groups").
struct MatchRule {
  // Hash only: a probe within `distance` bits of a founder hash joins. Also the rule for a pair
  // where either side has no thumbnail (a store written before thumbnails).
  int distance = 6;
  // Verified (the default): a founder hash within `candidate_distance` bits is a candidate, and
  // the item joins it when their thumbnails are within `thumb_distance` (ThumbDistance with
  // `trim`). A looser radius than `distance` finds captioned, palette and cropped copies whose
  // hash moved; the thumbnail keeps look-alike drawings apart that the hash cannot.
  bool verify = true;
  int candidate_distance = kDefaultCandidateDistance;
  double thumb_distance = kDefaultThumbDistance;
  double trim = 0;
  bool contrast = true;
  // The radius the founder index must search.
  int IndexRadius() const { return verify ? std::max(distance, candidate_distance) : distance; }
};

class NearDupIndex {
 public:
  struct Match {
    int64_t group = 0;
    int distance = 0;            // Hamming distance between the probe and the stored hash
    double thumb_distance = -1;  // ThumbDistance of the pair; -1 when not verified
  };

  static constexpr int kMinBlocks = 4, kMaxBlocks = 8;
  // The block count NearDupIndex(max_distance) uses: 4 blocks of 16 bits. Fewer, wider
  // blocks read more buckets but far fewer entries, and on real hashes the entries cost more
  // (bench/dedupe_bench, docs/benchmarks.md: at 6 bits, 4 blocks read 52 buckets and 393
  // entries per probe, 7 blocks 7 buckets but 4 510 entries, and ran 1.5x slower).
  static int DefaultBlocks(int max_distance);

  // Requires: 0 <= max_distance <= kMaxNearDuplicateDistance;
  //           blocks == 0 (DefaultBlocks) or kMinBlocks <= blocks <= kMaxBlocks.
  explicit NearDupIndex(int max_distance, int blocks = 0);

  int max_distance() const { return max_distance_; }
  int blocks() const { return blocks_; }
  size_t size() const { return size_; }
  void Clear();
  // `thumb`: the frame's verification thumbnail (kThumbBytes), or empty.
  void Add(uint64_t hash, int64_t group, std::span<const uint8_t> thumb = {});

  // The stored hash nearest to any of `probes`, if one is within max_distance; ties go to the
  // lowest group id, so the answer does not depend on the order hashes were added in.
  std::optional<Match> Nearest(std::span<const uint64_t> probes) const;

  // The founder `rule` joins the item to, if any: among stored hashes within rule.IndexRadius()
  // (<= max_distance()) of a probe, those the rule accepts (probe_thumbs: one thumbnail per
  // probe, kThumbBytes each, or empty), the best first: the smallest thumbnail distance
  // (hash-only acceptances count as 0), then the smallest Hamming distance, then the lowest
  // group id.
  std::optional<Match> NearestAccepted(std::span<const uint64_t> probes,
                                       std::span<const uint8_t> probe_thumbs,
                                       const MatchRule& rule) const;

  // The cost of one probe, for benchmarks: buckets it reads and stored entries in them.
  struct ProbeCost {
    size_t buckets = 0, entries = 0;
  };
  ProbeCost CostOf(uint64_t probe) const {
    const uint64_t spread = Spread(probe);
    ProbeCost cost;
    for (int block = 0; block < blocks_; ++block) {
      for (const uint32_t flip : block_masks_[block]) {
        ++cost.buckets;
        cost.entries += buckets_[block][BlockOf(spread, block) ^ flip].size();
      }
    }
    return cost;
  }

  // Calls visit(group, distance) for every stored hash within max_distance of `probe`; a hash
  // may be visited more than once (once per block it agrees in).
  template <typename Visit>
  void ForEachWithin(uint64_t probe, Visit&& visit) const {
    const uint64_t spread = Spread(probe);
    for (int block = 0; block < blocks_; ++block) {
      const uint32_t key = BlockOf(spread, block);
      for (const uint32_t flip : block_masks_[block]) {
        for (const Entry& entry : buckets_[block][key ^ flip]) {
          const int distance = __builtin_popcountll(entry.spread ^ spread);
          if (distance <= max_distance_) visit(groups_[entry.slot], distance);
        }
      }
    }
  }

 private:
  // A stored hash as its buckets hold it: inline, so a probe reads each bucket front to back
  // instead of chasing an index into a separate array for every candidate.
  struct Entry {
    uint64_t spread;  // Spread(hash)
    uint32_t slot;    // the hash's place in groups_ and thumbs_
  };
  // Like ForEachWithin, with the slot of each stored hash.
  template <typename Visit>
  void ForEachSlotWithin(uint64_t probe, Visit&& visit) const {
    const uint64_t spread = Spread(probe);
    for (int block = 0; block < blocks_; ++block) {
      const uint32_t key = BlockOf(spread, block);
      for (const uint32_t flip : block_masks_[block]) {
        for (const Entry& entry : buckets_[block][key ^ flip]) {
          const int distance = __builtin_popcountll(entry.spread ^ spread);
          if (distance <= max_distance_) visit(entry.slot, distance);
        }
      }
    }
  }
  // The hash with its bits dealt round-robin into the blocks (bit i goes to block i mod m).
  // A PHash's bits are DCT coefficients in row-major order, and the low-frequency rows are much
  // the same across pictures of one kind (centred round emoji on flat backgrounds): cut in
  // plain runs, one block put thousands of hashes in a few buckets. A permutation keeps every
  // Hamming distance.
  uint64_t Spread(uint64_t hash) const {
    uint64_t out = 0;
    for (int byte = 0; byte < 8; ++byte) out |= spread_table_[byte][(hash >> (8 * byte)) & 0xFF];
    return out;
  }
  uint32_t BlockOf(uint64_t spread, int block) const {
    return static_cast<uint32_t>(spread >> block_shift_[block]) & block_mask_[block];
  }

  int max_distance_;
  int blocks_;
  size_t size_ = 0;
  // spread_table_[byte][value]: the bits of that byte of a hash at their spread positions.
  std::array<std::array<uint64_t, 256>, 8> spread_table_{};
  std::array<int, kMaxBlocks> block_shift_{};
  std::array<uint32_t, kMaxBlocks> block_mask_{};
  // block_masks_[b]: every mask of block b's width with at most its pigeonhole radius bits set
  // (empty for a block that need not be read).
  std::array<std::vector<uint32_t>, kMaxBlocks> block_masks_;
  // buckets_[b][v]: entries whose block b of Spread(hash) equals v. Invariant: every entry is in
  // exactly one bucket of each block.
  std::array<std::vector<std::vector<Entry>>, kMaxBlocks> buckets_;
  // Per slot (one per Add): its group, and its thumbnail at slot * kThumbBytes in thumbs_
  // (has_thumb_ false: added without one; its bytes are zeros).
  std::vector<int64_t> groups_;
  std::vector<bool> has_thumb_;
  std::vector<uint8_t> thumbs_;
};

// One item to group: the hashes it founds a group with (its kept frames' phashes) and the
// hashes it probes founders with (those frames in all eight orientations, or `own` alone).
// Thumbnails (kThumbBytes each) beside them: `own_thumbs` one per `own` hash, `probe_thumbs`
// one per probe; either may be empty (hash-only matching for that side).
struct GroupingCandidate {
  std::span<const uint64_t> own;
  std::span<const uint64_t> probes;
  std::span<const uint8_t> own_thumbs = {};
  std::span<const uint8_t> probe_thumbs = {};
};

// Groups `items` in order the way Catalog::AddItem does one at a time: an item joins the
// earlier founder `rule` accepts best (NearDupIndex::NearestAccepted), otherwise founds a
// group. Returns, per item, the position of its founder (its own position for a founder).
// Requires: 0 <= rule.IndexRadius() <= kMaxNearDuplicateDistance.
std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, const MatchRule& rule);
// Hash-only matching within max_distance.
std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance);

}  // namespace memes::store
