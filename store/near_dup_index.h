// The in-memory near-duplicate index: 64-bit perceptual hashes of group founders' frames, each
// tagged with its group id, searched by Hamming distance in sublinear time with multi-index
// hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing",
// CVPR 2012): the hash is cut into m blocks of 64/m bits, each block indexes a table of
// buckets, and a hash within r = m*q + a bits of a probe (0 <= a < m) agrees with it to within
// q bits in one of the first a + 1 blocks or to within q - 1 bits in one of the others
// (pigeonhole: otherwise the blocks differ by at least (a+1)(q+1) + (m-1-a)q = r + 1 bits), so
// only those buckets are read. Each block is a CSR table (an offset per block value into one
// contiguous array of spread hashes), so a bucket read is two offsets and a run of popcounts;
// hashes added since the last rebuild sit in a small append buffer that probes scan.
// A stored frame may carry a second hash (transform::BandHashes, the frame's middle band, beside
// the content window's) with a thumbnail of its own: it has tables of its own, and a probe pair
// nominates the candidates near on either (MatchRule::second_distance), each verified on the
// thumbnails of the source that nominated it.
// Thread-safety: none; concurrent const calls are safe while nothing is added.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
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
// nothing either). `tolerance`: each channel's difference counts only past this much (after
// the scaling), so a palette's quantisation step or JPEG noise within it costs nothing.
double ThumbDistance(std::span<const uint8_t> a, std::span<const uint8_t> b, double trim,
                     bool contrast = false, double tolerance = 0);

// A thumbnail's per-channel mean and its spread (standard deviation over all channels), what
// ThumbDistance takes off and divides by; computed once per thumbnail.
struct ThumbStats {
  float mean[3] = {0, 0, 0};
  float spread = 0;
};
ThumbStats StatsOf(std::span<const uint8_t> thumb);
// How far apart two thumbnails' mean colours are in chroma: |d(R - G)| + |d(B - G)| of the
// means, so a brightness change costs nothing and a tint on one channel costs its size.
inline double ColourDistance(const ThumbStats& a, const ThumbStats& b) {
  return std::abs((a.mean[0] - a.mean[1]) - (b.mean[0] - b.mean[1])) +
         std::abs((a.mean[2] - a.mean[1]) - (b.mean[2] - b.mean[1]));
}

// The mean of the kPeakCells largest cell differences of ThumbDistance (trim 0, the same
// normalisation with `contrast`) among the cells at least `margin` rows from the top and the
// bottom and `side_margin` columns from the left and the right.
// Requires: 0 <= margin, side_margin <= kThumbSide / 2 - 2 (a bound chosen to leave at least
// the middle 4×4 cells, more than kPeakCells).
double ThumbPeak(std::span<const uint8_t> a, const ThumbStats& stats_a, std::span<const uint8_t> b,
                 const ThumbStats& stats_b, bool contrast, int margin, int side_margin);

// ThumbDistance with both thumbnails' stats given. `limit`: with trim == 0 the comparison stops
// once the distance must exceed it and returns some value above `limit` (a rejection needs no
// exact figure); below or at it the result is exact.
double ThumbDistance(std::span<const uint8_t> a, const ThumbStats& stats_a,
                     std::span<const uint8_t> b, const ThumbStats& stats_b, double trim,
                     bool contrast, double limit, double tolerance = 0);

// Defaults of the verified rule, chosen from bench/dedupe_bench (docs/benchmarks.md).
inline constexpr int kDefaultCandidateDistance = 8;
inline constexpr double kDefaultThumbDistance = 30;
inline constexpr int kDefaultSecondDistance = 6;
inline constexpr int kDefaultSecondNearDistance = 4;
inline constexpr double kDefaultSecondFarThumbDistance = 12;
inline constexpr int kDefaultRepresentatives = 4;
inline constexpr double kDefaultBridgeDistance = 20;
inline constexpr int kDefaultTurnedDistance = 6;
inline constexpr double kDefaultColourDistance = 30;
inline constexpr double kDefaultPeakDistance = 70;
inline constexpr int kDefaultPeakMargin = 2;
inline constexpr int kDefaultPeakSideMargin = 1;
inline constexpr int kPeakCells = 8;

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
  double tolerance = 0;  // ThumbDistance's per-channel tolerance
  // The second candidate source (verified rule only): a founder whose second hash is within
  // `second_distance` bits of a probe's second hash is a candidate too (-1: not used), and is
  // joined when the second thumbnails pass the same checks (thumb, colour, peak). The second
  // hash and thumbnail see the frame without the rows a caption covers
  // (transform::BandHashes), so a captioned copy whose content window moved is still found.
  // The frame as it arrived is read at `second_distance`, its other orientations at most at
  // turned_distance (a caption seldom comes turned as well). 6 bits: with the band's rows
  // 8–23 (schemas 7–10) a captioned flat band lay 7–20 bits away and the band was read at
  // 10 (428 index buckets an item, against 52 at 6); with rows 9–22 the caption's outline
  // stays outside it and 6 bits finds as many captions (docs/benchmarks.md, "The band from
  // row 9").
  int second_distance = kDefaultSecondDistance;
  // A second-source candidate more than `second_near_distance` bits away is joined only within
  // `second_far_thumb_distance` on the second thumbnails (instead of thumb_distance): a band is
  // a third of the frame, flat in many pictures (a flag's stripes, a face's middle), so few of
  // its bits carry the picture (transform::BandHashes sets about 22 of 64, above a margin), and
  // a band 5 or more bits away is often another picture's; that far out, only a close thumbnail
  // tells a copy from another picture with a similar band (docs/benchmarks.md, "The band at 10
  // bits", "Band bits above a margin"). second_far_thumb_distance < 0: thumb_distance for every
  // second-source candidate.
  int second_near_distance = kDefaultSecondNearDistance;
  double second_far_thumb_distance = kDefaultSecondFarThumbDistance;
  // A group's fixed representative set: the founder plus up to `representatives` - 1 members,
  // each the founder accepted directly (by this rule) within `representative_thumb_distance`
  // (< 0: thumb_distance) and not identical to a representative already there; later items
  // join when any representative accepts them. So an original whose copy founded the group
  // attracts its other copies too (founder order), while no chain can grow: a member is
  // accepted by a representative that the founder accepted, two steps at most
  // (see MayRepresent). 1: the founder alone.
  int representatives = kDefaultRepresentatives;
  double representative_thumb_distance = -1;
  // Verified rule only: when the founders of two groups each accept an item directly, both
  // within this thumbnail distance (< 0: never), the groups hold copies of one picture that
  // arrived before it (a captioned copy founded one, a letterboxed copy the other, each in reach
  // of the original, not of each other), and the younger group is merged into the older
  // (BridgeMerges). So the groups do not depend on whether the original came first. Bound it
  // keeps: a group absorbs, or is absorbed, never both, so every member stays within four
  // accepting steps of its founder.
  double bridge_distance = kDefaultBridgeDistance;
  // Verified pairs only: the thumbnails' mean colours must agree within this much in chroma
  // (ColourDistance; < 0: not checked). ThumbDistance takes each mean off, so without it a
  // brown and a red heart of one shape match.
  double colour_distance = kDefaultColourDistance;
  // Verified pairs only: the mean of the kPeakCells worst cells of the two thumbnails
  // (ThumbPeak) must be within this (< 0: not checked). A copy differs a little everywhere, a
  // look-alike (another keycap digit, another clock hour) much in a few cells, which the mean
  // over all 144 cells dilutes.
  double peak_distance = kDefaultPeakDistance;
  // Rows at the top and the bottom that ThumbPeak leaves out: a caption (memes put them there)
  // or a crop changes the edge rows, what tells look-alikes apart (a digit, a clock's hands, a
  // face) sits inside.
  int peak_margin = kDefaultPeakMargin;
  // Columns at the left and the right that ThumbPeak leaves out: only a crop changes them, and
  // what tells look-alikes apart often reaches there (a clock's hand at two or ten o'clock, a
  // diagonal arrow's head, the third person of a family), so one column fewer than the rows
  // (docs/benchmarks.md, "The peak check's side columns").
  int peak_side_margin = kDefaultPeakSideMargin;
  // Verified rule only: the candidate radius (bits, first hash; hash-only pairs too) of an
  // item's quarter-turned probes, the six orientations besides the one it arrived in and its
  // left-right mirror (< 0: the unturned probe's radius). A turned re-upload is the same pixels
  // turned, its hash as near as an unturned copy's; what needs the wide radius (a caption, a
  // palette, a crop) seldom comes turned as well. A probe at 10 bits reads 428 buckets, at 6
  // bits 52, so the turned probes were most of a lookup's time (docs/benchmarks.md, "Turned
  // probes at a smaller radius"). The second source reads every orientation but the one the item
  // arrived in (the mirror too) at most at this radius.
  int turned_distance = kDefaultTurnedDistance;
  // The radius the founder index must search.
  int IndexRadius() const {
    return verify ? std::max({distance, candidate_distance, second_distance}) : distance;
  }
  // The radius probe p of an item is read at, its probes coming `orientations` per frame (8:
  // the eight orientations of transform/phash.h, the frame as it arrived first; 1: every probe
  // a frame as it arrived), on the first hash and on the second. First hash: the frame as it
  // arrived and its left-right mirror (orientation 4) at the candidate radius (hash-only pairs
  // need `distance`), the quarter turns at most at turned_distance. Many pictures are left-right
  // symmetric (faces, hearts, most emoji): the DCT terms a mirror negates are near zero for
  // them, their median-thresholded bits noise, so the mirror's hash is a second draw of those
  // bits for the unturned picture; with the mirror at the turned radius too, 12 of 6 000
  // unturned copies were lost on the 500 set (docs/benchmarks.md, "Turned probes at a smaller
  // radius"). Second hash: the frame as it arrived at second_distance, every other orientation
  // at most at turned_distance (with the band read at 10 bits, as in schemas 9–10, "The band at
  // 10 bits": the mirror's band at 10 too found 0.2–1 point more captions for 376 more buckets
  // an item).
  int ProbeRadius(size_t p, size_t orientations) const {
    const int radius = verify ? std::max(distance, candidate_distance) : distance;
    const bool full =
        orientations <= 1 || p % orientations == 0 || (orientations == 8 && p % 8 == 4);
    return full || !verify || turned_distance < 0 ? radius : std::min(radius, turned_distance);
  }
  int SecondProbeRadius(size_t p, size_t orientations) const {
    const bool full = orientations <= 1 || p % orientations == 0;
    return full || turned_distance < 0 ? second_distance
                                       : std::min(second_distance, turned_distance);
  }
  // Whether two groups whose founders both accept an item merge (bridge_distance).
  bool Bridges() const { return verify && bridge_distance >= 0; }
};

// How many probes an item brings per frame: 8 when it probes with each of its `frames` kept
// frames in the eight orientations (the frame as it arrived first), else 1.
inline size_t ProbeOrientations(size_t probes, size_t frames) {
  return frames > 0 && probes == 8 * frames ? 8 : 1;
}

class NearDupIndex {
 public:
  struct Match {
    int64_t group = 0;
    int distance = 0;            // Hamming distance between the probe and the stored hash
    double thumb_distance = -1;  // ThumbDistance of the pair; -1 when not verified
    // Whether one of the group founder's own frames accepts the probe too (not only another
    // representative), and that best acceptance's ThumbDistance (-1: by hash alone).
    bool founder_accepts = false;
    double founder_thumb_distance = -1;
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
  // `thumb`: the frame's verification thumbnail (kThumbBytes), or empty. Amortised O(size /
  // kAppendBuffer): the CSR tables are rebuilt when the append buffer is full.
  // `defer`: the rebuild waits for Flush() (or a later Add without it), for loading many
  // hashes at once in O(size); until then lookups scan the whole buffer.
  // `second`: the frame's second hash (transform::BandHashes), if it has one.
  // `founder`: false for a frame of a representative that is not the group's founder
  // (MatchRule::representatives); Match::founder_accepts looks at founder frames only.
  // `second_thumb`: the second hash's thumbnail (kThumbBytes), or empty (then, as for a flat
  // one, the slot is never a candidate of the second source). Requires: second_thumb empty unless
  // `second` is given.
  void Add(uint64_t hash, int64_t group, std::span<const uint8_t> thumb = {}, bool defer = false,
           std::optional<uint64_t> second = std::nullopt, bool founder = true,
           std::span<const uint8_t> second_thumb = {});
  // Moves the append buffer into the CSR tables.
  void Flush() {
    if (indexed_ != size_) Rebuild();
  }

  // The stored hash nearest to any of `probes`, if one is within max_distance; ties go to the
  // lowest group id, so the answer does not depend on the order hashes were added in.
  std::optional<Match> Nearest(std::span<const uint64_t> probes) const;

  // The founder `rule` joins the item to, if any: among stored hashes within rule.IndexRadius()
  // (<= max_distance()) of a probe, those the rule accepts (probe_thumbs: one thumbnail per
  // probe, kThumbBytes each, or empty), the best first: the smallest thumbnail distance
  // (hash-only acceptances count as 0), then the smallest Hamming distance, then the lowest
  // group id.
  // `second_probes`: empty, or each probe's second hash (parallel to `probes`), with
  // `second_probe_thumbs` its second thumbnail (kThumbBytes each); with rule.second_distance >= 0
  // a stored second hash within that many bits of one makes a candidate too, verified on the
  // second thumbnails (the Match's `distance` and `thumb_distance` are then the second's).
  // Without second thumbnails the second source is not used.
  // `bridges` (if given) gets, for every other group one of whose founder's own frames accepts a
  // probe by the same checks (first or second source; the second is then read even when the
  // first accepted), that group with its best such acceptance (Match::founder_accepts true),
  // in group order. An item two founders accept directly shows that the two groups hold copies
  // of one picture (MatchRule::bridge_distance).
  // `orientations`: the probes come that many per frame (ProbeOrientations), each read at
  // MatchRule::ProbeRadius / SecondProbeRadius; after a first-source acceptance the second source
  // is read for bridges through each frame's unturned probe only (a bridge joins two copies that
  // arrived before the item, which a turn of it need not reach).
  std::optional<Match> NearestAccepted(std::span<const uint64_t> probes,
                                       std::span<const uint8_t> probe_thumbs, const MatchRule& rule,
                                       std::span<const uint64_t> second_probes = {},
                                       std::span<const uint8_t> second_probe_thumbs = {},
                                       std::vector<Match>* bridges = nullptr,
                                       size_t orientations = 1) const;

  // Group `from` becomes part of group `into`: its stored frames are relabelled `into`'s, and
  // its founder's frames stop being founder frames (Match::founder_accepts means `into`'s
  // founder). O(size): merges are rare, and a relabel (not an alias) stays right when the
  // caller reuses `from`'s id for a new group later (SQLite reuses a deleted row's id).
  void Merge(int64_t from, int64_t into);

  // The cost of one probe, for benchmarks: buckets it reads and stored entries in them
  // (the append buffer's entries included).
  struct ProbeCost {
    size_t buckets = 0, entries = 0;
  };
  // `source`: 0 the first hash's tables, 1 the second's; `radius` (< 0: max_distance) the
  // search radius.
  ProbeCost CostOf(uint64_t probe, int source = 0, int radius = -1) const {
    if (radius < 0) radius = max_distance_;
    const uint64_t spread = Spread(probe);
    const Tables& tables = tables_[source];
    ProbeCost cost;
    for (int block = 0; block < blocks_; ++block) {
      const uint32_t key = BlockOf(spread, block);
      const std::vector<uint32_t>& offsets = tables.offsets[block];
      for (const uint32_t flip : block_masks_[radius][block]) {
        ++cost.buckets;
        cost.entries += offsets[(key ^ flip) + 1] - offsets[key ^ flip];
      }
    }
    cost.entries += size_ - indexed_;
    return cost;
  }

  // Calls visit(group, distance) once for every stored hash within max_distance of `probe`
  // (`source` 1: every stored second hash).
  template <typename Visit>
  void ForEachWithin(uint64_t probe, Visit&& visit, int source = 0) const {
    ForEachSlotWithin(
        probe, [&](uint32_t slot, int distance) { visit(groups_[slot], distance); }, source);
  }

  // Stored hashes a probe sees in the append buffer before they are merged into the CSR arrays:
  // a linear scan of at most this many, so an Add costs an amortised rebuild share
  // (size / kAppendBuffer entry moves) instead of an insertion into every block.
  static constexpr size_t kAppendBuffer = 1024;

 private:
  // Like ForEachWithin, with the slot of each stored hash. A stored hash agrees with the probe
  // within radius in one block or more; it is reported from the first such block only (the
  // earlier blocks' partial distances are checked for it), so no caller needs a seen-set.
  // `radius` (<= max_distance; < 0: max_distance): a smaller radius reads the pigeonhole's
  // fewer buckets (at 4 blocks, 52 per probe at 6 bits against 428 at 10).
  template <typename Visit>
  void ForEachSlotWithin(uint64_t probe, Visit&& visit, int source = 0, int radius = -1) const {
    if (radius < 0) radius = max_distance_;
    assert(radius <= max_distance_);
    const uint64_t spread = Spread(probe);
    const Tables& tables = tables_[source];
    const auto& masks = block_masks_[radius];
    for (int block = 0; block < blocks_; ++block) {
      const uint32_t key = BlockOf(spread, block);
      const uint32_t* offsets = tables.offsets[block].data();
      const uint64_t* spreads = tables.csr_spread[block].data();
      const uint32_t* slots = tables.csr_slot[block].data();
      const uint32_t* flips = masks[block].data();
      const size_t buckets = masks[block].size();
      // Each bucket read starts with two cache misses (a block's offsets and hashes are MBs at
      // 200 000 entries, the buckets scattered): ask for the offsets kOffsetsAhead buckets
      // ahead and for the hashes of the bucket kRunAhead ahead (its offset asked for earlier).
      for (size_t j = 0; j < std::min(buckets, kOffsetsAhead); ++j)
        __builtin_prefetch(offsets + (key ^ flips[j]));
      for (size_t j = 0; j < buckets; ++j) {
        if (j + kOffsetsAhead < buckets)
          __builtin_prefetch(offsets + (key ^ flips[j + kOffsetsAhead]));
        if (j + kRunAhead < buckets)
          __builtin_prefetch(spreads + offsets[key ^ flips[j + kRunAhead]]);
        const uint32_t bucket = key ^ flips[j];
        const uint32_t end = offsets[bucket + 1];
        for (uint32_t at = offsets[bucket]; at < end; ++at) {
          const uint64_t diff = spreads[at] ^ spread;
          const int distance = __builtin_popcountll(diff);
          if (distance > radius || FoundInEarlierBlock(diff, block, radius)) continue;
          visit(slots[at], distance);
        }
      }
    }
    for (size_t slot = indexed_; slot < size_; ++slot) {
      if (source == 1 && !has_second_[slot]) continue;
      const int distance = __builtin_popcountll(tables.spreads[slot] ^ spread);
      if (distance <= radius) visit(static_cast<uint32_t>(slot), distance);
    }
  }
  // Prefetch distances of ForEachSlotWithin, in buckets (measured on the bench's 200 000
  // hashes, docs/benchmarks.md "Lookup speed, cheaper thumbnail checks").
  static constexpr size_t kOffsetsAhead = 16, kRunAhead = 4;
  bool FoundInEarlierBlock(uint64_t diff, int block, int radius) const {
    for (int earlier = 0; earlier < block; ++earlier) {
      if (block_radius_[radius][earlier] >= 0 &&
          __builtin_popcount(BlockOf(diff, earlier)) <= block_radius_[radius][earlier])
        return true;
    }
    return false;
  }
  // Merges the append buffer into the CSR arrays (a counting sort of every stored hash per
  // block: O(size + 2^width)).
  void Rebuild();
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
  // Slots [0, indexed_) are in the CSR arrays, [indexed_, size_) only in the append buffer.
  size_t indexed_ = 0;
  // spread_table_[byte][value]: the bits of that byte of a hash at their spread positions.
  std::array<std::array<uint64_t, 256>, 8> spread_table_{};
  std::array<int, kMaxBlocks> block_shift_{};
  std::array<uint32_t, kMaxBlocks> block_mask_{};
  // Per search radius r <= max_distance: block_radius_[r][b], the pigeonhole's radius for
  // block b (-1: not read); block_masks_[r][b], every mask of block b's width with at most that
  // many bits set (empty for a block that need not be read).
  std::array<std::array<int, kMaxBlocks>, kMaxNearDuplicateDistance + 1> block_radius_{};
  std::array<std::array<std::vector<uint32_t>, kMaxBlocks>, kMaxNearDuplicateDistance + 1>
      block_masks_;
  // The tables of one hash source (0: the first hash, 1: the second). CSR per block b: the
  // entries whose block b of Spread(hash) equals v are csr_spread[b][offsets[b][v] ..
  // offsets[b][v + 1]) (their spread hashes, inline, so a bucket is one contiguous run of
  // popcounts) with their slots at the same places in csr_slot[b]. offsets[b] has 2^width + 1
  // entries. Invariant: every slot below indexed_ (with a hash of this source) is in exactly one
  // bucket of each block. `spreads`: per slot, its spread hash (0 for a slot without one).
  struct Tables {
    std::array<std::vector<uint32_t>, kMaxBlocks> offsets;
    std::array<std::vector<uint64_t>, kMaxBlocks> csr_spread;
    std::array<std::vector<uint32_t>, kMaxBlocks> csr_slot;
    std::vector<uint64_t> spreads;
  };
  std::array<Tables, 2> tables_;
  // Per slot (one per Add): whether it has a second hash, its group, and its thumbnail at
  // slot * kThumbBytes in thumbs_ (has_thumb_ false: added without one; its bytes are zeros).
  std::vector<bool> has_second_;
  std::vector<int64_t> groups_;
  std::vector<bool> has_thumb_;
  std::vector<bool> founder_;  // per slot: a frame of its group's founder
  std::vector<uint8_t> thumbs_;
  // Per slot: its thumbnail's ThumbStats, computed once at Add instead of at every comparison.
  std::vector<ThumbStats> thumb_stats_;
  // Per slot: where its second thumbnail is (index into second_thumb_stats_ and, times
  // kThumbBytes, into second_thumbs_), or -1 for a slot without one.
  std::vector<int32_t> second_thumb_at_;
  std::vector<uint8_t> second_thumbs_;
  std::vector<ThumbStats> second_thumb_stats_;
};

// One item to group: the hashes it founds a group with (its kept frames' phashes) and the
// hashes it probes founders with (those frames in all eight orientations, or `own` alone).
// Thumbnails (kThumbBytes each) beside them: `own_thumbs` one per `own` hash, `probe_thumbs`
// one per probe; either may be empty (hash-only matching for that side).
// `own_second` / `probe_second`: the second hashes beside `own` / `probes` (parallel), or empty;
// `own_second_thumbs` / `probe_second_thumbs` their thumbnails (kThumbBytes each), or empty.
struct GroupingCandidate {
  std::span<const uint64_t> own;
  std::span<const uint64_t> probes;
  std::span<const uint8_t> own_thumbs = {};
  std::span<const uint8_t> probe_thumbs = {};
  std::span<const uint64_t> own_second = {};
  std::span<const uint64_t> probe_second = {};
  std::span<const uint8_t> own_second_thumbs = {};
  std::span<const uint8_t> probe_second_thumbs = {};
};

// Whether an item that joined through `match` becomes one of its group's representatives, the
// group holding `representatives` of them (the founder counted) so far. Invariant it keeps: every
// representative is accepted by the founder's own frames within the representative radius, so
// every member is within two accepting steps of the founder — its hash within 2 x the
// candidate radius and its thumbnail within thumb_distance + representative radius (ThumbDistance
// is an L1 distance between normalised thumbnails, so the triangle inequality holds), whatever
// the arrival order.
bool MayRepresent(const NearDupIndex::Match& match, int representatives, const MatchRule& rule);

// The merges that an item joining through `match` makes (MatchRule::bridge_distance), each
// {from, into}, to be applied in order (NearDupIndex::Merge, `into` marked as having absorbed):
// `bridges` are the other groups whose founders accept the item
// (NearDupIndex::NearestAccepted). The item's group is then the last `into`, or match.group.
// Bound: a group that absorbed one is never absorbed (two that both did stay apart), so a
// member is at most four accepting steps from its founder; of two groups that may, the older
// (smaller id) absorbs. `absorbed(g)`: whether group g has absorbed a group before.
template <typename Absorbed>
std::vector<std::pair<int64_t, int64_t>> BridgeMerges(const NearDupIndex::Match& match,
                                                      std::span<const NearDupIndex::Match> bridges,
                                                      const MatchRule& rule, Absorbed&& absorbed) {
  std::vector<std::pair<int64_t, int64_t>> merges;
  // Only thumbnail-verified acceptances bridge (founder_thumb_distance -1: by hash alone, as a
  // frame without a thumbnail is matched).
  auto bridges_within = [&](const NearDupIndex::Match& m) {
    return m.founder_accepts && m.founder_thumb_distance >= 0 &&
           m.founder_thumb_distance <= rule.bridge_distance;
  };
  if (!rule.Bridges() || !bridges_within(match)) return merges;
  int64_t group = match.group;
  bool group_absorbed = absorbed(group);
  for (const NearDupIndex::Match& other : bridges) {
    if (other.group == group || !bridges_within(other)) continue;
    const bool other_absorbed = absorbed(other.group);
    if (group_absorbed && other_absorbed) continue;
    if (group_absorbed || (!other_absorbed && group < other.group)) {
      merges.emplace_back(other.group, group);
    } else {
      merges.emplace_back(group, other.group);
      group = other.group;
    }
    group_absorbed = true;
  }
  return merges;
}

// Groups `items` in order the way Catalog::AddItem does one at a time: an item joins the
// earlier group whose representative `rule` accepts best (NearDupIndex::NearestAccepted),
// otherwise founds a group. Returns, per item, the position of its founder (its own position
// for a founder); `representative` (if given) gets, per item, whether it represents its group
// (founders included). A group merged into an earlier one (MatchRule::bridge_distance) answers
// as that group's founder, its own founder then representing it; `absorbed` (if given) gets,
// per item, whether it founded a group that absorbed another.
// Requires: 0 <= rule.IndexRadius() <= kMaxNearDuplicateDistance.
std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, const MatchRule& rule,
                                   std::vector<bool>* representative = nullptr,
                                   std::vector<bool>* absorbed = nullptr);
// Hash-only matching within max_distance.
std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance);

}  // namespace memes::store
