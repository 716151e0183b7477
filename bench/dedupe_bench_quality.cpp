// Grouping methods and their quality on the labelled set (dedupe_bench_quality.h).
#include "bench/dedupe_bench_quality.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "store/near_dup_index.h"
#include "store/split.h"

namespace memes::bench {

// The grouping before issue 12: join the lowest group holding any frame (of any member) within
// 6 bits of one of the item's own frames.
std::vector<size_t> AnyMemberJoin(const std::vector<Hashed>& items, int distance) {
  memes::store::NearDupIndex all(distance);
  std::vector<size_t> group(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t lowest = -1;
    for (uint64_t hash : items[i].own) {
      all.ForEachWithin(hash, [&](int64_t g, int) {
        if (lowest < 0 || g < lowest) lowest = g;
      });
    }
    group[i] = lowest < 0 ? i : static_cast<size_t>(lowest);
    for (uint64_t hash : items[i].own) all.Add(hash, static_cast<int64_t>(group[i]));
  }
  return group;
}

std::vector<size_t> VerifiedJoin(const std::vector<Hashed>& items,
                                 const memes::store::MatchRule& rule) {
  std::vector<memes::store::GroupingCandidate> candidates;
  for (const Hashed& h : items)
    candidates.push_back({h.own, h.probes, h.own_thumbs, h.probe_thumbs, h.own_second,
                          h.probe_second, h.own_second_thumbs, h.probe_second_thumbs});
  return memes::store::AssignFounders(candidates, rule);
}

// Pair by pair: the thumbnail distance of a copy to its original at the orientation whose hash
// is nearest, share within each bound, per transform (other-vendor: what must stay apart).
void ThumbPairs(const std::vector<Hashed>& items) {
  std::map<int, size_t> original, animation;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].item->transform == "original") original[items[i].item->truth] = i;
    if (items[i].item->transform == "animation") animation[items[i].item->truth] = i;
  }
  // other-vendor: its truth is the original's + 1 (built one after the other).
  std::vector<std::pair<std::string, std::pair<size_t, size_t>>> pairs;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& t = items[i].item->transform;
    if (t == "original" || t == "animation") continue;
    if (t == "other-vendor") {
      auto a = original.find(items[i].item->truth - 1);
      if (a != original.end()) pairs.push_back({t, {i, a->second}});
      continue;
    }
    const auto& anchors = t.rfind("anim-", 0) == 0 ? animation : original;
    auto a = anchors.find(items[i].item->truth);
    if (a != anchors.end()) pairs.push_back({t, {i, a->second}});
  }
  const double bounds[] = {10, 14, 18, 22, 26, 30};
  for (const auto& [trim, contrast] : std::vector<std::pair<double, bool>>{
           {0.0, false}, {0.2, false}, {0.0, true}, {0.1, true}, {0.2, true}}) {
    std::printf(
        "\n### Thumbnail distance, trim %.0f %%%s (share of pairs within 10/14/18/22/26/30)\n\n| "
        "transform | pairs | within |\n|---|---|---|\n",
        trim * 100, contrast ? ", contrast" : "");
    std::map<std::string, std::vector<double>> by;
    for (const auto& [t, ab] : pairs) {
      const Hashed& a = items[ab.first];
      const Hashed& b = items[ab.second];
      int best_bits = 65;
      double best = 1e9;
      for (size_t p = 0; p < a.probes.size(); ++p) {
        for (size_t o = 0; o < b.own.size(); ++o) {
          const int bits = __builtin_popcountll(a.probes[p] ^ b.own[o]);
          const double d = memes::store::ThumbDistance(
              std::span(a.probe_thumbs)
                  .subspan(p * memes::store::kThumbBytes, memes::store::kThumbBytes),
              std::span(b.own_thumbs)
                  .subspan(o * memes::store::kThumbBytes, memes::store::kThumbBytes),
              trim, contrast);
          if (bits < best_bits || (bits == best_bits && d < best)) {
            best_bits = bits;
            best = d;
          }
        }
      }
      by[t].push_back(best);
    }
    for (auto& [t, ds] : by) {
      std::printf("| %s | %zu |", t.c_str(), ds.size());
      for (double bound : bounds) {
        const auto n = std::count_if(ds.begin(), ds.end(), [&](double d) { return d <= bound; });
        std::printf(" %.0f", 100.0 * n / ds.size());
      }
      std::printf(" |\n");
    }
  }
}

std::vector<size_t> FounderJoin(const std::vector<Hashed>& items, int distance, bool orientations) {
  std::vector<memes::store::GroupingCandidate> candidates;
  for (const Hashed& h : items) {
    candidates.push_back(
        {h.own, orientations ? std::span<const uint64_t>(h.probes) : std::span<const uint64_t>()});
  }
  return memes::store::AssignFounders(candidates, distance);
}

Quality Measure(const std::vector<Hashed>& items, const std::vector<size_t>& group) {
  Quality q;
  std::map<int, size_t> anchor;  // truth -> position of its "original" (or "animation")
  std::map<int, size_t> other_vendor_of;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& t = items[i].item->transform;
    if (t == "original") anchor[items[i].item->truth] = i;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& t = items[i].item->transform;
    if (t == "animation" && !anchor.count(items[i].item->truth)) anchor[items[i].item->truth] = i;
  }
  std::map<int, size_t> animation;  // truth -> position of its animation
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].item->transform == "animation") animation[items[i].item->truth] = i;
  }
  std::map<size_t, std::map<int, int64_t>> members;  // group -> truth -> items
  std::map<int, size_t> truth_size;
  for (size_t i = 0; i < items.size(); ++i) {
    members[group[i]][items[i].item->truth]++;
    truth_size[items[i].item->truth]++;
    const std::string& t = items[i].item->transform;
    if (t == "original" || t == "animation" || t == "other-vendor") continue;
    // Stills of an animation pair with the animation; every other copy with the original.
    const auto& anchors = t.rfind("anim-", 0) == 0 ? animation : anchor;
    auto a = anchors.find(items[i].item->truth);
    if (a == anchors.end()) continue;
    auto& [joined, pairs] = q.recall[t];
    ++pairs;
    joined += group[a->second] == group[i];
  }
  // The other vendor's drawing of an emoji: the original's truth is the vendor item's − 1 − …;
  // find it by category order instead: pair each other-vendor item with the nearest preceding
  // original in the set (they are built one after the other).
  size_t last_original = SIZE_MAX;
  std::vector<size_t> by_set_order(items.size());
  for (size_t i = 0; i < items.size(); ++i) by_set_order[i] = i;
  std::sort(by_set_order.begin(), by_set_order.end(),
            [&](size_t a, size_t b) { return items[a].item < items[b].item; });
  for (size_t i : by_set_order) {
    const std::string& t = items[i].item->transform;
    if (t == "original") last_original = i;
    if (t == "other-vendor" && last_original != SIZE_MAX) {
      ++q.vendor_pairs;
      q.vendor_merged += group[i] == group[last_original];
    }
  }
  for (const auto& [g, truths] : members) {
    ++q.groups;
    int64_t size = 0, same = 0;
    for (const auto& [truth, count] : truths) {
      size += count;
      same += count * (count - 1) / 2;
    }
    q.false_merge_groups += truths.size() > 1;
    q.largest = std::max<size_t>(q.largest, static_cast<size_t>(size));
    q.pairs_together += size * (size - 1) / 2;
    q.pairs_wrong += size * (size - 1) / 2 - same;
  }
  for (const auto& [truth, size] : truth_size) q.largest_true = std::max(q.largest_true, size);
  return q;
}

// Test-share error of a split over these groups: (max over classes with >= 100 items, overall).
std::pair<double, double> SplitError(const std::vector<Hashed>& items,
                                     const std::vector<size_t>& group, bool balanced, uint64_t seed,
                                     double fraction) {
  std::map<std::string, int> class_id;
  for (const Hashed& h : items)
    class_id.emplace(h.item->category, static_cast<int>(class_id.size()));
  std::map<size_t, std::map<int, int64_t>> counts;
  std::map<size_t, std::string> key;
  for (size_t i = 0; i < items.size(); ++i) {
    counts[group[i]][class_id[items[i].item->category]]++;
    key[group[i]] = "group-" + std::to_string(group[i]);
  }
  std::vector<memes::store::SplitGroup> units;
  for (const auto& [g, c] : counts) {
    units.push_back({key[g], std::vector<std::pair<int, int64_t>>(c.begin(), c.end())});
  }
  std::vector<memes::store::Split> sides;
  if (balanced) {
    sides = memes::store::BalancedSplit(units, seed, fraction);
  } else {
    for (const auto& unit : units) sides.push_back(memes::store::SplitOf(unit.key, seed, fraction));
  }
  std::map<int, std::pair<int64_t, int64_t>> per_class;  // class -> (test, all)
  int64_t test = 0, all = 0;
  for (size_t u = 0; u < units.size(); ++u) {
    for (const auto& [c, n] : units[u].items) {
      per_class[c].second += n;
      all += n;
      if (sides[u] == memes::store::Split::kTest) {
        per_class[c].first += n;
        test += n;
      }
    }
  }
  double worst = 0;
  for (const auto& [c, ta] : per_class) {
    if (ta.second >= 100)
      worst = std::max(worst, std::abs(double(ta.first) / ta.second - fraction));
  }
  return {worst, std::abs(double(test) / all - fraction)};
}

// "C:T:TRIM:CONTRAST[:SECOND[:TOLERANCE[:REPS[:REP_THUMB[:COLOUR[:PEAK[:MARGIN[:BRIDGE[:TURNED
// [:NEAR[:FAR[:SIDE]]]]]]]]]]]]": candidate bits, thumbnail distance, trim share, contrast 0/1,
// second-hash bits (-1 off), per-channel tolerance, representatives per group, thumbnail radius
// for a representative (-1: T), chroma distance of the mean colours (-1 off), mean of the worst
// thumbnail cells (-1 off), edge rows the peak leaves out, bridge thumbnail distance (-1 off),
// turned probes' radius (-1: C), the band's near radius and its far thumbnail distance, edge
// columns the peak leaves out (absent: MARGIN, as before the two were apart).
memes::store::MatchRule ParseRule(const std::string& text) {
  int c = 0, contrast = 0, second = -1, reps = 1;
  double t = 0, trim = 0, tolerance = 0, rep_thumb = -1, colour = -1, peak = -1;
  int margin = 0;
  double bridge = -1;
  int turned = -1, near = -2;
  double far = -1;
  int side = -1;
  std::sscanf(text.c_str(), "%d:%lf:%lf:%d:%d:%lf:%d:%lf:%lf:%lf:%d:%lf:%d:%d:%lf:%d", &c, &t,
              &trim, &contrast, &second, &tolerance, &reps, &rep_thumb, &colour, &peak, &margin,
              &bridge, &turned, &near, &far, &side);
  if (side < 0) side = margin;
  // ThumbPeak's bound (store/near_dup_index.h): past it a Release build would read no cell.
  if (margin < 0 || margin > memes::store::kThumbSide / 2 - 2 ||
      side > memes::store::kThumbSide / 2 - 2) {
    std::fprintf(stderr, "--grid %s: MARGIN and SIDE must be 0..%d\n", text.c_str(),
                 memes::store::kThumbSide / 2 - 2);
    std::exit(2);
  }
  memes::store::MatchRule rule;
  rule.candidate_distance = c;
  rule.thumb_distance = t;
  rule.trim = trim;
  rule.contrast = contrast != 0;
  rule.second_distance = second;
  rule.tolerance = tolerance;
  rule.representatives = reps;
  rule.representative_thumb_distance = rep_thumb;
  rule.colour_distance = colour;
  rule.peak_distance = peak;
  rule.peak_margin = margin;
  rule.peak_side_margin = side;
  rule.bridge_distance = bridge;
  rule.turned_distance = turned;
  rule.second_near_distance = near == -2 ? second : near;  // absent: every band pair is near
  rule.second_far_thumb_distance = far;
  return rule;
}

std::string RuleName(const memes::store::MatchRule& rule) {
  char name[400], extra[280] = "";
  size_t used = 0;
  if (rule.second_distance >= 0) {
    used +=
        std::snprintf(extra + used, sizeof extra - used, " or band <= %d", rule.second_distance);
    if (rule.turned_distance >= 0 && rule.turned_distance < rule.second_distance)
      used +=
          std::snprintf(extra + used, sizeof extra - used, " (turned <= %d)", rule.turned_distance);
    if (rule.second_far_thumb_distance >= 0 && rule.second_near_distance < rule.second_distance)
      used += std::snprintf(extra + used, sizeof extra - used, " (past %d: thumbnail <= %.0f)",
                            rule.second_near_distance, rule.second_far_thumb_distance);
  }
  if (rule.tolerance > 0)
    used += std::snprintf(extra + used, sizeof extra - used, ", tolerance %.0f", rule.tolerance);
  if (rule.representatives > 1) {
    used += std::snprintf(extra + used, sizeof extra - used, ", %d representatives",
                          rule.representatives);
    if (rule.representative_thumb_distance >= 0)
      std::snprintf(extra + used, sizeof extra - used, " within %.0f",
                    rule.representative_thumb_distance);
  }
  if (rule.colour_distance >= 0)
    std::snprintf(extra + std::strlen(extra), sizeof extra - std::strlen(extra), ", colour <= %.0f",
                  rule.colour_distance);
  if (rule.peak_distance >= 0)
    std::snprintf(extra + std::strlen(extra), sizeof extra - std::strlen(extra),
                  ", peak <= %.0f (margin %d, sides %d)", rule.peak_distance, rule.peak_margin,
                  rule.peak_side_margin);
  if (rule.bridge_distance >= 0)
    std::snprintf(extra + std::strlen(extra), sizeof extra - std::strlen(extra),
                  ", bridges within %.0f merge", rule.bridge_distance);
  char turned[32] = "";
  if (rule.turned_distance >= 0 && rule.turned_distance < rule.candidate_distance)
    std::snprintf(turned, sizeof turned, " (turned <= %d)", rule.turned_distance);
  std::snprintf(name, sizeof name,
                "verified: content <= %d%s%s, thumbnail <= %.0f (trim %.0f %%%s)",
                rule.candidate_distance, turned, extra, rule.thumb_distance, rule.trim * 100,
                rule.contrast ? ", contrast" : "");
  return name;
}

}  // namespace memes::bench
