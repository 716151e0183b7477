#include "store/near_dup_index.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numeric>

namespace memes::store {

namespace {

// The factor ThumbDistance and ThumbPeak scale a thumbnail's values by after taking its mean off:
// 1, or (with `contrast`) kUnitSpread over the thumbnail's standard deviation (one for all three
// channels, so a red and a purple heart of one shape stay apart; at least kMinSpread, so a flat
// picture is not blown up).
constexpr float kMinSpread = 8;
float ThumbGain(const ThumbStats& stats, bool contrast) {
  constexpr float kUnitSpread = 48;
  return contrast ? kUnitSpread / std::max(kMinSpread, stats.spread) : 1;
}

constexpr int kThumbCells = kThumbSide * kThumbSide;
constexpr int kRowValues = 3 * kThumbSide;

// One side of ThumbDistance's formula computed once per probe: each value times the
// thumbnail's gain (ThumbGain), the products the formula starts from.
struct ScaledThumb {
  std::array<float, kThumbBytes> values;
  float gain;
};

void Scale(std::span<const uint8_t> thumb, const ThumbStats& stats, bool contrast,
           ScaledThumb& out) {
  out.gain = ThumbGain(stats, contrast);
  for (size_t i = 0; i < kThumbBytes; ++i) out.values[i] = thumb[i] * out.gain;
}

// ThumbDistance with trim 0 and `a` scaled. Each value's difference is the same float
// expression as in the trimmed path ((a * gain_a - b * gain_b) - shift, then the tolerance);
// a row's 36 differences are summed in kLanes partial sums (so the compiler keeps them in one
// vector register: SSE2 on baseline x86-64), the rows in order in a double, and the comparison
// stops after the first row whose running total passes `limit`. Against one running float sum
// per row only the rounding of the sum changes (relative 1e-7 of a row sum).
double ScaledDistance(const ScaledThumb& a, const ThumbStats& stats_a, std::span<const uint8_t> b,
                      const ThumbStats& stats_b, bool contrast, double limit, float slack) {
  constexpr int kLanes = 4;
  static_assert(kRowValues % kLanes == 0);
  const float gain_a = a.gain, gain_b = ThumbGain(stats_b, contrast);
  // (value_a - mean_a) * gain_a - (value_b - mean_b) * gain_b = value_a * gain_a - value_b *
  // gain_b - shift, with shift repeated per value of a row (R, G, B, R, …).
  std::array<float, kRowValues> shift;
  for (int i = 0; i < kRowValues; ++i)
    shift[i] = stats_a.mean[i % 3] * gain_a - stats_b.mean[i % 3] * gain_b;
  const double bound = limit * kThumbCells;
  double total = 0;
  for (int row = 0; row < kThumbSide; ++row) {
    const float* row_a = a.values.data() + row * kRowValues;
    // The bytes widened first in a loop of their own: SSE2 has no 4-byte vector to widen
    // inside the lane loop, which then stayed scalar.
    float row_b[kRowValues];
    for (int i = 0; i < kRowValues; ++i) row_b[i] = b[row * kRowValues + i];
    float lanes[kLanes] = {};
    for (int i = 0; i < kRowValues; i += kLanes) {
      for (int lane = 0; lane < kLanes; ++lane) {
        const float d = std::abs(row_a[i + lane] - row_b[i + lane] * gain_b - shift[i + lane]);
        // Not (d > slack ? d - slack : 0), the same sums (d - slack is +-0 or below 0
        // exactly when d <= slack) without a branch that keeps the loop scalar.
        lanes[lane] += std::max(d - slack, 0.f);
      }
    }
    total += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    if (total > bound) break;
  }
  return total / kThumbCells;
}

}  // namespace

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
  // r = m q + a: blocks 0..a at radius q, the others at radius q - 1 (none when q == 0). A
  // block's radius grows with r, so each smaller radius's masks are a subset of the largest's.
  for (int r = 0; r <= max_distance; ++r) {
    const int q = r / blocks_, a = r % blocks_;
    for (int block = 0; block < blocks_; ++block) block_radius_[r][block] = block <= a ? q : q - 1;
  }
  for (int block = 0; block < blocks_; ++block) {
    const int widest = block_radius_[max_distance][block];
    std::vector<uint32_t>& all = block_masks_[max_distance][block];
    for (uint32_t mask = 0; mask <= block_mask_[block] && widest >= 0; ++mask) {
      if (__builtin_popcount(mask) <= widest) all.push_back(mask);
    }
    for (int r = 0; r < max_distance; ++r) {
      for (const uint32_t mask : all) {
        if (__builtin_popcount(mask) <= block_radius_[r][block]) {
          block_masks_[r][block].push_back(mask);
        }
      }
    }
  }
  for (int block = 0; block < blocks_; ++block) {
    for (Tables& tables : tables_) tables.offsets[block].assign(size_t{block_mask_[block]} + 2, 0);
  }
}

void NearDupIndex::Clear() {
  size_ = 0;
  indexed_ = 0;
  for (Tables& tables : tables_) {
    for (int block = 0; block < blocks_; ++block) {
      std::fill(tables.offsets[block].begin(), tables.offsets[block].end(), 0);
      tables.csr_spread[block].clear();
      tables.csr_slot[block].clear();
    }
    tables.spreads.clear();
  }
  has_second_.clear();
  groups_.clear();
  has_thumb_.clear();
  founder_.clear();
  thumbs_.clear();
  thumb_stats_.clear();
  second_thumb_at_.clear();
  second_thumbs_.clear();
  second_thumb_stats_.clear();
}

void NearDupIndex::Add(uint64_t hash, int64_t group, std::span<const uint8_t> thumb, bool defer,
                       std::optional<uint64_t> second, bool founder,
                       std::span<const uint8_t> second_thumb) {
  assert(thumb.empty() || thumb.size() == kThumbBytes);
  assert(second_thumb.empty() || (second && second_thumb.size() == kThumbBytes));
  assert(groups_.size() < UINT32_MAX);
  ++size_;
  tables_[0].spreads.push_back(Spread(hash));
  tables_[1].spreads.push_back(second ? Spread(*second) : 0);
  has_second_.push_back(second.has_value());
  groups_.push_back(group);
  has_thumb_.push_back(!thumb.empty());
  founder_.push_back(founder);
  if (thumb.empty()) {
    thumbs_.resize(thumbs_.size() + kThumbBytes, 0);
    thumb_stats_.emplace_back();
  } else {
    thumbs_.insert(thumbs_.end(), thumb.begin(), thumb.end());
    thumb_stats_.push_back(StatsOf(thumb));
  }
  // Second thumbnails are kept only for the slots that have one with detail: a band flatter
  // than kMinSpread (a plain background, a black square) says nothing about which picture it
  // is and would match every other flat band, so such a slot is never a second-source
  // candidate (NearestAccepted skips flat probe bands likewise).
  const ThumbStats second_stats = second_thumb.empty() ? ThumbStats() : StatsOf(second_thumb);
  if (second_thumb.empty() || second_stats.spread < kMinSpread) {
    second_thumb_at_.push_back(-1);
  } else {
    second_thumb_at_.push_back(static_cast<int32_t>(second_thumb_stats_.size()));
    second_thumbs_.insert(second_thumbs_.end(), second_thumb.begin(), second_thumb.end());
    second_thumb_stats_.push_back(second_stats);
  }
  if (!defer && size_ - indexed_ >= kAppendBuffer) Rebuild();
}

void NearDupIndex::Rebuild() {
  for (int source = 0; source < 2; ++source) {
    Tables& tables = tables_[source];
    // Source 1 holds only the slots that have a second hash; none: no tables to build.
    size_t entries = 0;
    for (size_t slot = 0; slot < size_; ++slot) entries += source == 0 || has_second_[slot];
    for (int block = 0; block < blocks_; ++block) {
      // A block no probe reads (its radius is negative at the largest radius, so at every
      // smaller one) needs no table.
      if (block_masks_[max_distance_][block].empty()) continue;
      std::vector<uint32_t>& offsets = tables.offsets[block];
      std::fill(offsets.begin(), offsets.end(), 0);
      std::vector<uint64_t>& spreads = tables.csr_spread[block];
      std::vector<uint32_t>& slots = tables.csr_slot[block];
      spreads.resize(entries);
      slots.resize(entries);
      if (entries == 0) continue;
      for (size_t slot = 0; slot < size_; ++slot) {
        if (source == 0 || has_second_[slot]) ++offsets[BlockOf(tables.spreads[slot], block) + 1];
      }
      for (size_t v = 1; v < offsets.size(); ++v) offsets[v] += offsets[v - 1];
      // offsets[v] serves as the fill cursor of bucket v and ends as bucket v + 1's start;
      // shifted back below.
      for (size_t slot = 0; slot < size_; ++slot) {
        if (source == 1 && !has_second_[slot]) continue;
        const uint32_t at = offsets[BlockOf(tables.spreads[slot], block)]++;
        spreads[at] = tables.spreads[slot];
        slots[at] = static_cast<uint32_t>(slot);
      }
      for (size_t v = offsets.size() - 1; v > 0; --v) offsets[v] = offsets[v - 1];
      offsets[0] = 0;
    }
  }
  indexed_ = size_;
}

std::optional<NearDupIndex::Match> NearDupIndex::NearestAccepted(
    std::span<const uint64_t> probes, std::span<const uint8_t> probe_thumbs, const MatchRule& rule,
    std::span<const uint64_t> second_probes, std::span<const uint8_t> second_probe_thumbs,
    std::vector<Match>* bridges, size_t orientations) const {
  assert(rule.IndexRadius() <= max_distance_);
  assert(probe_thumbs.empty() || probe_thumbs.size() == probes.size() * kThumbBytes);
  assert(second_probes.empty() || second_probes.size() == probes.size());
  assert(second_probe_thumbs.empty() || second_probe_thumbs.size() == probes.size() * kThumbBytes);
  // The second source nominates only thumbnail-verified candidates, each verified on the
  // second thumbnails of both sides: without them a pair is matched by the first hash alone.
  const bool second = rule.verify && rule.second_distance >= 0 && !second_probes.empty() &&
                      !second_probe_thumbs.empty();
  orientations = std::max<size_t>(orientations, 1);
  auto radius_of = [&](size_t p) { return rule.ProbeRadius(p, orientations); };
  std::optional<Match> best;
  double best_score = 0;
  // The peak check (a full pass over both thumbnails and a partial sort) runs only for a pair
  // that would become the best so far, or, after the scan, for the best group's founder frames
  // (Match::founder_accepts): the founder-frame pairs the other stages accepted wait here
  // (few: only accepted candidates). state: 0 peak not checked, 1 accepted, 2 refused.
  struct FounderPair {
    int64_t group;
    uint32_t slot, probe;
    int source;
    double thumb;
    int state;
    bool bridge_only;        // found by the second source after the first accepted: a bridge only
    ThumbStats probe_stats;  // the probe thumbnail's, as the scan computed them
  };
  std::vector<FounderPair> founder_pairs;
  const bool probe_has_thumb = rule.verify && !probe_thumbs.empty();
  // Probe p's thumbnail of `source` (0: the content window's, 1: the second hash's), or empty.
  auto probe_thumb_of = [&](size_t p, int source) {
    if (source == 0) {
      return probe_has_thumb ? probe_thumbs.subspan(p * kThumbBytes, kThumbBytes)
                             : std::span<const uint8_t>();
    }
    return second ? second_probe_thumbs.subspan(p * kThumbBytes, kThumbBytes)
                  : std::span<const uint8_t>();
  };
  auto thumb_of = [&](uint32_t slot, int source) {
    return source == 0 ? std::span(thumbs_).subspan(size_t{slot} * kThumbBytes, kThumbBytes)
                       : std::span(second_thumbs_)
                             .subspan(size_t(second_thumb_at_[slot]) * kThumbBytes, kThumbBytes);
  };
  auto stats_of = [&](uint32_t slot, int source) -> const ThumbStats& {
    return source == 0 ? thumb_stats_[slot] : second_thumb_stats_[second_thumb_at_[slot]];
  };
  auto peak_accepts = [&](size_t p, int source, const ThumbStats& probe_stats, uint32_t slot) {
    return rule.peak_distance < 0 ||
           ThumbPeak(probe_thumb_of(p, source), probe_stats, thumb_of(slot, source),
                     stats_of(slot, source), rule.contrast, rule.peak_margin,
                     rule.peak_side_margin) <= rule.peak_distance;
  };
  // One source's candidates for every probe. The second source is read only when the first
  // accepts none: a copy the content hash finds joins where it always did, and the band only
  // places what it alone finds. (Were the best of both taken, an original that a captioned copy
  // founded one group with and a letterboxed copy another would join the caption's group on a
  // band thumbnail a little closer, splitting it from the letterbox and the other copies only
  // the content hash finds: JPEG recall fell by 4 points, docs/benchmarks.md.)
  // The probe's thumbnail scaled (trim 0 only), refilled per probe.
  ScaledThumb scaled;
  // bridge_only: collect founder pairs for `bridges`, leave `best` as the first source set it.
  auto scan = [&](int source, bool bridge_only) {
    const size_t step = bridge_only ? orientations : 1;
    for (size_t p = 0; p < probes.size(); p += step) {
      const std::span<const uint8_t> probe_thumb = probe_thumb_of(p, source);
      const bool has_probe_thumb = !probe_thumb.empty();
      const ThumbStats probe_stats = has_probe_thumb ? StatsOf(probe_thumb) : ThumbStats();
      // A probe band with no detail is not looked up (as Add keeps no flat band thumbnail).
      if (source == 1 && probe_stats.spread < kMinSpread) continue;
      if (has_probe_thumb && rule.trim == 0) Scale(probe_thumb, probe_stats, rule.contrast, scaled);
      // A symmetric picture has the same hash in several orientations: probe it once, unless
      // the thumbnails (which see colour) tell the orientations apart.
      // (An earlier equal probe read at a smaller radius does not cover this one.)
      if (!has_probe_thumb && p < 64) {
        bool repeated = false;
        for (size_t q = 0; q < p && !repeated; ++q)
          repeated = probes[q] == probes[p] && radius_of(q) >= radius_of(p);
        if (repeated) continue;
      }
      // A bridge is another group's founder; bridges need nothing past bridge_distance.
      const double limit = bridge_only && rule.bridge_distance >= 0
                               ? std::min(rule.thumb_distance, rule.bridge_distance)
                               : rule.thumb_distance;
      const double far_limit = rule.second_far_thumb_distance < 0
                                   ? limit
                                   : std::min(limit, rule.second_far_thumb_distance);
      auto consider = [&](uint32_t slot, int distance) {
        if (bridge_only && (!founder_[slot] || groups_[slot] == best->group)) return;
        double score = 0, thumb = -1;
        const bool verified = source == 1 || (has_probe_thumb && has_thumb_[slot]);
        if (verified) {
          // The colour check first: it costs two stats already at hand.
          if (rule.colour_distance >= 0 &&
              ColourDistance(probe_stats, stats_of(slot, source)) > rule.colour_distance)
            return;
          const double pair_limit =
              source == 1 && distance > rule.second_near_distance ? far_limit : limit;
          thumb = rule.trim == 0 ? ScaledDistance(scaled, probe_stats, thumb_of(slot, source),
                                                  stats_of(slot, source), rule.contrast, pair_limit,
                                                  static_cast<float>(rule.tolerance))
                                 : ThumbDistance(probe_thumb, probe_stats, thumb_of(slot, source),
                                                 stats_of(slot, source), rule.trim, rule.contrast,
                                                 pair_limit, rule.tolerance);
          if (thumb > pair_limit) return;
          score = thumb;
        } else if (distance > rule.distance) {
          return;
        }
        const int64_t group = groups_[slot];
        const bool founder_slot = founder_[slot];
        if (bridge_only) {
          if (founder_slot) {
            founder_pairs.push_back({group, slot, static_cast<uint32_t>(p), source, thumb,
                                     verified ? 0 : 1, true, probe_stats});
          }
          return;
        }
        const bool would_be_best =
            !best || score < best_score ||
            (score == best_score &&
             (distance < best->distance || (distance == best->distance && group < best->group)));
        int state = verified ? 0 : 1;
        if (would_be_best && verified) state = peak_accepts(p, source, probe_stats, slot) ? 1 : 2;
        if (founder_slot) {
          founder_pairs.push_back(
              {group, slot, static_cast<uint32_t>(p), source, thumb, state, false, probe_stats});
        }
        if (would_be_best && state == 1) {
          best = Match{group, distance, thumb};
          best_score = score;
        }
      };
      if (source == 0) {
        ForEachSlotWithin(
            probes[p], [&](uint32_t slot, int distance) { consider(slot, distance); },
            /*source=*/0, radius_of(p));
      } else {
        ForEachSlotWithin(
            second_probes[p],
            [&](uint32_t slot, int distance) {
              if (second_thumb_at_[slot] >= 0) consider(slot, distance);
            },
            /*source=*/1, rule.SecondProbeRadius(p, orientations));
      }
    }
  };
  scan(0, false);
  if (second) {
    if (!best) {
      scan(1, false);
    } else if (bridges != nullptr) {
      scan(1, true);
    }
  }
  auto accepted = [&](FounderPair& pair) {
    if (pair.state == 0) {
      pair.state = peak_accepts(pair.probe, pair.source, pair.probe_stats, pair.slot) ? 1 : 2;
    }
    return pair.state == 1;
  };
  if (bridges != nullptr) {
    bridges->clear();
    for (FounderPair& pair : founder_pairs) {
      if ((best && pair.group == best->group) || !accepted(pair)) continue;
      auto at = std::find_if(bridges->begin(), bridges->end(),
                             [&](const Match& m) { return m.group == pair.group; });
      if (at == bridges->end()) {
        bridges->push_back(Match{pair.group, 0, pair.thumb, true, pair.thumb});
        at = bridges->end() - 1;
      } else if (pair.thumb < at->founder_thumb_distance) {
        at->thumb_distance = at->founder_thumb_distance = pair.thumb;
      }
    }
    std::sort(bridges->begin(), bridges->end(),
              [](const Match& a, const Match& b) { return a.group < b.group; });
  }
  if (best) {
    for (FounderPair& pair : founder_pairs) {
      if (pair.group != best->group || pair.bridge_only) continue;
      if (!accepted(pair)) continue;
      if (!best->founder_accepts || pair.thumb < best->founder_thumb_distance) {
        best->founder_thumb_distance = pair.thumb;
      }
      best->founder_accepts = true;
    }
  }
  return best;
}

bool MayRepresent(const NearDupIndex::Match& match, int representatives, const MatchRule& rule) {
  if (representatives >= rule.representatives || !match.founder_accepts) return false;
  // Identical to a representative already there: it would add frames, not reach.
  if (match.distance == 0 && match.thumb_distance <= 0) return false;
  const double radius = rule.representative_thumb_distance < 0 ? rule.thumb_distance
                                                               : rule.representative_thumb_distance;
  return match.founder_thumb_distance <= radius;
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

ThumbStats StatsOf(std::span<const uint8_t> thumb) {
  assert(thumb.size() == kThumbBytes);
  constexpr int kCells = kThumbSide * kThumbSide;
  // Integer sums in one pass (a lookup takes the stats of 16 probe thumbnails, a load of every
  // stored one): the same values as float sums, which are exact below 2^24.
  static_assert(kCells * 255 * 255 < (1 << 24));
  std::array<uint32_t, 3> sums{}, squares{};
  for (int i = 0; i < kCells; ++i) {
    for (int c = 0; c < 3; ++c) {
      const uint32_t v = thumb[3 * i + c];
      sums[c] += v;
      squares[c] += v * v;
    }
  }
  ThumbStats stats;
  float var = 0;
  for (int c = 0; c < 3; ++c) {
    const float sum = static_cast<float>(sums[c]), sq = static_cast<float>(squares[c]);
    stats.mean[c] = sum / kCells;
    var += std::max(0.f, sq / kCells - stats.mean[c] * stats.mean[c]) / 3;
  }
  stats.spread = std::sqrt(var);
  return stats;
}

double ThumbPeak(std::span<const uint8_t> a, const ThumbStats& stats_a, std::span<const uint8_t> b,
                 const ThumbStats& stats_b, bool contrast, int margin, int side_margin) {
  assert(a.size() == kThumbBytes && b.size() == kThumbBytes);
  assert(margin >= 0 && side_margin >= 0 && margin <= kThumbSide / 2 - 2 &&
         side_margin <= kThumbSide / 2 - 2);
  constexpr int kCells = kThumbSide * kThumbSide;
  const float gain_a = ThumbGain(stats_a, contrast), gain_b = ThumbGain(stats_b, contrast);
  std::array<float, kCells> cell{};
  for (int i = 0; i < kCells; ++i) {
    const int row = i / kThumbSide, column = i % kThumbSide;
    if (row < margin || column < side_margin || row >= kThumbSide - margin ||
        column >= kThumbSide - side_margin)
      continue;
    float sum = 0;
    for (int c = 0; c < 3; ++c) {
      sum += std::abs((a[3 * i + c] - stats_a.mean[c]) * gain_a -
                      (b[3 * i + c] - stats_b.mean[c]) * gain_b);
    }
    cell[i] = sum;
  }
  std::partial_sort(cell.begin(), cell.begin() + kPeakCells, cell.end(), std::greater<float>());
  double total = 0;
  for (int i = 0; i < kPeakCells; ++i) total += cell[i];
  return total / kPeakCells;
}

double ThumbDistance(std::span<const uint8_t> a, std::span<const uint8_t> b, double trim,
                     bool contrast, double tolerance) {
  return ThumbDistance(a, StatsOf(a), b, StatsOf(b), trim, contrast,
                       std::numeric_limits<double>::infinity(), tolerance);
}

double ThumbDistance(std::span<const uint8_t> a, const ThumbStats& stats_a,
                     std::span<const uint8_t> b, const ThumbStats& stats_b, double trim,
                     bool contrast, double limit, double tolerance) {
  assert(a.size() == kThumbBytes && b.size() == kThumbBytes);
  assert(trim >= 0 && trim < 1);
  constexpr int kCells = kThumbSide * kThumbSide;
  // Per channel: value -> (value - mean) * gain (ThumbGain).
  const float gain_a = ThumbGain(stats_a, contrast), gain_b = ThumbGain(stats_b, contrast);
  // (value - mean_a) * gain_a - (value_b - mean_b) * gain_b = value_a * gain_a - value_b *
  // gain_b - shift.
  float shift[3];
  for (int c = 0; c < 3; ++c) shift[c] = stats_a.mean[c] * gain_a - stats_b.mean[c] * gain_b;
  const float slack = static_cast<float>(tolerance);
  if (trim == 0) {
    // No cell is left out: the sum only grows, so it stops once it passes the limit.
    ScaledThumb scaled;
    Scale(a, stats_a, contrast, scaled);
    return ScaledDistance(scaled, stats_a, b, stats_b, contrast, limit, slack);
  }
  auto channel = [&](float a_value, float b_value, int c) {
    const float d = std::abs(a_value * gain_a - b_value * gain_b - shift[c]);
    return d > slack ? d - slack : 0.f;
  };
  std::array<float, kCells> cell{};
  for (int i = 0; i < kCells; ++i) {
    float sum = 0;
    for (int c = 0; c < 3; ++c) sum += channel(a[3 * i + c], b[3 * i + c], c);
    cell[i] = sum;
  }
  const int kept = std::max(1, static_cast<int>(kCells * (1 - trim) + 0.5));
  std::nth_element(cell.begin(), cell.begin() + (kept - 1), cell.end());
  double total = 0;
  for (int i = 0; i < kept; ++i) total += cell[i];
  return total / kept;
}

void NearDupIndex::Merge(int64_t from, int64_t into) {
  assert(from != into);
  for (size_t slot = 0; slot < size_; ++slot) {
    if (groups_[slot] != from) continue;
    groups_[slot] = into;
    founder_[slot] = false;
  }
}

std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, const MatchRule& rule,
                                   std::vector<bool>* representative,
                                   std::vector<bool>* absorbed_out) {
  NearDupIndex founders(rule.IndexRadius());
  std::vector<size_t> founder_of(items.size());
  std::vector<bool> absorbed(items.size(), false);  // per founder position
  std::vector<size_t> merged_into(items.size());    // per founder position: where it went
  std::iota(merged_into.begin(), merged_into.end(), size_t{0});
  std::vector<NearDupIndex::Match> bridges;
  std::vector<int> representatives(items.size(), 0);  // per founder position
  if (representative != nullptr) representative->assign(items.size(), false);
  const auto add_frames = [&](const GroupingCandidate& item, size_t group, bool founder) {
    for (size_t k = 0; k < item.own.size(); ++k) {
      founders.Add(
          item.own[k], static_cast<int64_t>(group),
          item.own_thumbs.empty() ? std::span<const uint8_t>()
                                  : item.own_thumbs.subspan(k * kThumbBytes, kThumbBytes),
          /*defer=*/false,
          item.own_second.empty() ? std::nullopt : std::optional<uint64_t>(item.own_second[k]),
          founder,
          item.own_second.empty() || item.own_second_thumbs.empty()
              ? std::span<const uint8_t>()
              : item.own_second_thumbs.subspan(k * kThumbBytes, kThumbBytes));
    }
    ++representatives[group];
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const GroupingCandidate& item = items[i];
    const bool use_probes = !item.probes.empty();
    const std::span<const uint64_t> probes = use_probes ? item.probes : item.own;
    const std::span<const uint8_t> thumbs = use_probes ? item.probe_thumbs : item.own_thumbs;
    const std::span<const uint64_t> second = use_probes ? item.probe_second : item.own_second;
    const std::span<const uint8_t> second_thumbs =
        use_probes ? item.probe_second_thumbs : item.own_second_thumbs;
    const size_t orientations =
        use_probes ? ProbeOrientations(item.probes.size(), item.own.size()) : 1;
    const auto match = founders.NearestAccepted(probes, thumbs, rule, second, second_thumbs,
                                                rule.Bridges() ? &bridges : nullptr, orientations);
    if (match) {
      size_t group = static_cast<size_t>(match->group);
      for (const auto& [from, into] : BridgeMerges(*match, bridges, rule, [&](int64_t g) {
             return static_cast<bool>(absorbed[size_t(g)]);
           })) {
        founders.Merge(from, into);
        merged_into[size_t(from)] = size_t(into);
        absorbed[size_t(into)] = true;
        // The absorbed group's representatives (its founder counted) now represent `into`, as
        // the catalog counts them (items.representative).
        representatives[size_t(into)] += representatives[size_t(from)];
        group = static_cast<size_t>(into);
      }
      founder_of[i] = group;
      // Merged into another group: its founder did not accept the item as match says.
      if (group == size_t(match->group) && MayRepresent(*match, representatives[group], rule)) {
        add_frames(item, group, /*founder=*/false);
        if (representative != nullptr) (*representative)[i] = true;
      }
      continue;
    }
    founder_of[i] = i;
    add_frames(item, i, /*founder=*/true);
    if (representative != nullptr) (*representative)[i] = true;
  }
  // Members of a group merged later answer as the group it was merged into (one step: a group
  // that absorbed is never absorbed).
  for (size_t& founder : founder_of) founder = merged_into[founder];
  if (absorbed_out != nullptr) *absorbed_out = std::move(absorbed);
  return founder_of;
}

std::vector<size_t> AssignFounders(std::span<const GroupingCandidate> items, int max_distance) {
  MatchRule rule;
  rule.distance = max_distance;
  rule.verify = false;
  return AssignFounders(items, rule);
}

}  // namespace memes::store
