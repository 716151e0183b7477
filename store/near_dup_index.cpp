#include "store/near_dup_index.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdlib>

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
  groups_.clear();
  has_thumb_.clear();
  thumbs_.clear();
}

void NearDupIndex::Add(uint64_t hash, int64_t group, std::span<const uint8_t> thumb) {
  assert(thumb.empty() || thumb.size() == kThumbBytes);
  const uint64_t spread = Spread(hash);
  const auto slot = static_cast<uint32_t>(groups_.size());
  ++size_;
  groups_.push_back(group);
  has_thumb_.push_back(!thumb.empty());
  if (thumb.empty()) {
    thumbs_.resize(thumbs_.size() + kThumbBytes, 0);
  } else {
    thumbs_.insert(thumbs_.end(), thumb.begin(), thumb.end());
  }
  for (int block = 0; block < blocks_; ++block)
    buckets_[block][BlockOf(spread, block)].push_back({spread, slot});
}

std::optional<NearDupIndex::Match> NearDupIndex::NearestAccepted(
    std::span<const uint64_t> probes, std::span<const uint8_t> probe_thumbs,
    const MatchRule& rule) const {
  assert(rule.IndexRadius() <= max_distance_);
  assert(probe_thumbs.empty() || probe_thumbs.size() == probes.size() * kThumbBytes);
  const int radius = rule.IndexRadius();
  std::optional<Match> best;
  double best_score = 0;
  // (probe, slot) pairs already judged: a stored hash is visited once per block it agrees in.
  std::vector<std::pair<uint32_t, uint32_t>> judged;
  for (size_t p = 0; p < probes.size(); ++p) {
    const uint64_t probe = probes[p];
    const bool probe_has_thumb = rule.verify && !probe_thumbs.empty();
    // A symmetric picture has the same hash in several orientations: probe it once, unless the
    // thumbnails (which see colour) tell the orientations apart.
    if (!probe_has_thumb && p < 64 &&
        std::find(probes.begin(), probes.begin() + p, probe) != probes.begin() + p)
      continue;
    ForEachSlotWithin(probe, [&](uint32_t slot, int distance) {
      if (distance > radius) return;
      const std::pair<uint32_t, uint32_t> key{static_cast<uint32_t>(p), slot};
      if (std::find(judged.begin(), judged.end(), key) != judged.end()) return;
      judged.push_back(key);
      double score = 0, thumb = -1;
      if (probe_has_thumb && has_thumb_[slot]) {
        thumb = ThumbDistance(probe_thumbs.subspan(p * kThumbBytes, kThumbBytes),
                              std::span(thumbs_).subspan(size_t{slot} * kThumbBytes, kThumbBytes),
                              rule.trim, rule.contrast);
        if (thumb > rule.thumb_distance) return;
        score = thumb;
      } else if (distance > rule.distance) {
        return;
      }
      const int64_t group = groups_[slot];
      if (!best || score < best_score ||
          (score == best_score &&
           (distance < best->distance || (distance == best->distance && group < best->group)))) {
        best = Match{group, distance, thumb};
        best_score = score;
      }
    });
  }
  return best;
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

double ThumbDistance(std::span<const uint8_t> a, std::span<const uint8_t> b, double trim,
                     bool contrast) {
  assert(a.size() == kThumbBytes && b.size() == kThumbBytes);
  assert(trim >= 0 && trim < 1);
  constexpr int kCells = kThumbSide * kThumbSide;
  // Per channel: value -> (value - mean) * gain, gain 1 or (with `contrast`) kUnitSpread over
  // the thumbnail's standard deviation (one for all three channels, so a red and a purple heart
  // of one shape stay apart; at least kMinSpread, so a flat picture is not blown up).
  constexpr float kUnitSpread = 48, kMinSpread = 8;
  float offset_a[3], offset_b[3], gain_a[3], gain_b[3];
  float var_a = 0, var_b = 0;
  for (int c = 0; c < 3; ++c) {
    float sum_a = 0, sum_b = 0, sq_a = 0, sq_b = 0;
    for (int i = 0; i < kCells; ++i) {
      sum_a += a[3 * i + c];
      sum_b += b[3 * i + c];
      sq_a += float(a[3 * i + c]) * a[3 * i + c];
      sq_b += float(b[3 * i + c]) * b[3 * i + c];
    }
    offset_a[c] = sum_a / kCells;
    offset_b[c] = sum_b / kCells;
    var_a += std::max(0.f, sq_a / kCells - offset_a[c] * offset_a[c]) / 3;
    var_b += std::max(0.f, sq_b / kCells - offset_b[c] * offset_b[c]) / 3;
  }
  for (int c = 0; c < 3; ++c) {
    gain_a[c] = contrast ? kUnitSpread / std::max(kMinSpread, std::sqrt(var_a)) : 1;
    gain_b[c] = contrast ? kUnitSpread / std::max(kMinSpread, std::sqrt(var_b)) : 1;
  }
  std::array<float, kCells> cell{};
  for (int i = 0; i < kCells; ++i) {
    float sum = 0;
    for (int c = 0; c < 3; ++c) {
      sum += std::abs((a[3 * i + c] - offset_a[c]) * gain_a[c] -
                      (b[3 * i + c] - offset_b[c]) * gain_b[c]);
    }
    cell[i] = sum;
  }
  const int kept = std::max(1, static_cast<int>(kCells * (1 - trim) + 0.5));
  std::nth_element(cell.begin(), cell.begin() + (kept - 1), cell.end());
  double total = 0;
  for (int i = 0; i < kept; ++i) total += cell[i];
  return total / kept;
}

std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items,
                                   const MatchRule& rule) {
  NearDupIndex founders(rule.IndexRadius());
  std::vector<size_t> founder_of(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const GroupingCandidate& item = items[i];
    const bool use_probes = !item.probes.empty();
    const std::span<const uint64_t> probes = use_probes ? item.probes : item.own;
    const std::span<const uint8_t> thumbs = use_probes ? item.probe_thumbs : item.own_thumbs;
    const auto match = founders.NearestAccepted(probes, thumbs, rule);
    if (match) {
      founder_of[i] = static_cast<size_t>(match->group);
      continue;
    }
    founder_of[i] = i;
    for (size_t k = 0; k < item.own.size(); ++k) {
      founders.Add(item.own[k], static_cast<int64_t>(i),
                   item.own_thumbs.empty() ? std::span<const uint8_t>()
                                           : item.own_thumbs.subspan(k * kThumbBytes, kThumbBytes));
    }
  }
  return founder_of;
}

std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance) {
  MatchRule rule;
  rule.distance = max_distance;
  rule.verify = false;
  return AssignFounders(items, rule);
}

}  // namespace memes::store
