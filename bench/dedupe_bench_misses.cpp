// Missed pairs by cause (dedupe_bench_misses.h).
#include "bench/dedupe_bench_misses.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <span>

namespace memes::bench {

namespace {

using store::kThumbBytes;

// The best way `a` can reach `b`: over a's probes and b's own frames, the smallest Hamming
// distance (`bits`), the thumbnail distance at that pair (`thumb_at_bits`) and the smallest
// thumbnail distance among pairs within the rule's candidate radius (`thumb`, -1 when none).
// The thumbnail distance reported for a pair the colour or peak check refuses.
constexpr double kRefusedByCheck = 999;

struct Reach {
  int bits = 65;
  int band_bits = 65;  // the nearest second (band) hash, any orientation; 65: none
  double thumb_at_bits = -1, thumb = -1;
};

// The thumbnail checks of one pair (ThumbDistance; kRefusedByCheck when the colour or peak
// check refuses it).
double CheckedThumb(std::span<const uint8_t> probe_thumb, std::span<const uint8_t> own_thumb,
                    const store::MatchRule& rule) {
  const double thumb =
      store::ThumbDistance(probe_thumb, own_thumb, rule.trim, rule.contrast, rule.tolerance);
  const store::ThumbStats probe_stats = store::StatsOf(probe_thumb),
                          own_stats = store::StatsOf(own_thumb);
  if ((rule.colour_distance >= 0 &&
       store::ColourDistance(probe_stats, own_stats) > rule.colour_distance) ||
      (rule.peak_distance >= 0 &&
       store::ThumbPeak(probe_thumb, probe_stats, own_thumb, own_stats, rule.contrast,
                        rule.peak_margin, rule.peak_side_margin) > rule.peak_distance)) {
    return kRefusedByCheck;
  }
  return thumb;
}

// With a second source, a pair within the second source's radius counts as within the candidate
// radius (its first-hash bits are reported), checked on the second thumbnails. Each probe at
// the radius NearestAccepted reads it at (8 probes a frame: the quarter turns at the turned
// radius; the band's other orientations too); a band pair beyond second_near_distance whose
// thumbnail passes thumb_distance but not second_far_thumb_distance counts as refused.
Reach ReachOf(const Hashed& a, const Hashed& b, const store::MatchRule& rule) {
  Reach reach;
  const bool thumbs = !a.probe_thumbs.empty() && !b.own_thumbs.empty();
  const bool second = rule.second_distance >= 0 && !a.probe_second.empty() &&
                      !b.own_second.empty() && !a.probe_second_thumbs.empty() &&
                      !b.own_second_thumbs.empty();
  auto thumb_at = [](const std::vector<uint8_t>& all, size_t k) {
    return std::span(all).subspan(k * kThumbBytes, kThumbBytes);
  };
  const size_t orientations = store::ProbeOrientations(a.probes.size(), a.own.size());
  for (size_t p = 0; p < a.probes.size(); ++p) {
    const int first_radius = rule.ProbeRadius(p, orientations);
    const int second_radius = rule.SecondProbeRadius(p, orientations);
    for (size_t o = 0; o < b.own.size(); ++o) {
      const int bits = __builtin_popcountll(a.probes[p] ^ b.own[o]);
      const bool first_candidate = bits <= first_radius;
      const int second_bits =
          second ? __builtin_popcountll(a.probe_second[p] ^ b.own_second[o]) : 65;
      const bool second_candidate = second && second_bits <= second_radius;
      reach.band_bits = std::min(reach.band_bits, second_bits);
      double thumb = -1;
      if (thumbs)
        thumb = CheckedThumb(thumb_at(a.probe_thumbs, p), thumb_at(b.own_thumbs, o), rule);
      if (bits < reach.bits || (bits == reach.bits && thumb < reach.thumb_at_bits)) {
        reach.bits = bits;
        reach.thumb_at_bits = thumb;
      }
      // The best thumbnail among the sources that nominate the pair.
      double candidate_thumb = first_candidate ? thumb : -1;
      if (second_candidate) {
        double band = CheckedThumb(thumb_at(a.probe_second_thumbs, p),
                                   thumb_at(b.own_second_thumbs, o), rule);
        if (second_bits > rule.second_near_distance && rule.second_far_thumb_distance >= 0 &&
            band > rule.second_far_thumb_distance && band <= rule.thumb_distance)
          band = kRefusedByCheck;
        if (candidate_thumb < 0 || band < candidate_thumb) candidate_thumb = band;
      }
      if (candidate_thumb >= 0 && (reach.thumb < 0 || candidate_thumb < reach.thumb)) {
        reach.thumb = candidate_thumb;
      }
    }
  }
  return reach;
}

}  // namespace

void ExplainMisses(const std::vector<Hashed>& items, const std::vector<size_t>& group,
                   const store::MatchRule& rule, const std::vector<std::string>& listed) {
  std::map<int, size_t> original, animation;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].item->transform == "original") original[items[i].item->truth] = i;
    if (items[i].item->transform == "animation") animation[items[i].item->truth] = i;
  }
  struct Counts {
    int missed = 0, not_candidate = 0, thumb_refuses = 0, order_other = 0, order_same = 0;
  };
  std::map<std::string, Counts> by;
  std::vector<std::string> lines;
  auto describe = [&](size_t founder) {
    const BenchItem& f = *items[founder].item;
    return f.transform + " of " + f.name;
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& t = items[i].item->transform;
    if (t == "original" || t == "animation" || t == "other-vendor") continue;
    const auto& anchors = t.rfind("anim-", 0) == 0 ? animation : original;
    const auto a = anchors.find(items[i].item->truth);
    if (a == anchors.end() || group[a->second] == group[i]) continue;
    Counts& c = by[t];
    ++c.missed;
    // Either side may have come first: the copy probes the original or the other way round.
    const Reach forward = ReachOf(items[i], items[a->second], rule);
    const Reach backward = ReachOf(items[a->second], items[i], rule);
    const Reach& best = forward.bits <= backward.bits ? forward : backward;
    const double thumb = std::max(forward.thumb, backward.thumb) < 0
                             ? -1
                             : std::min(forward.thumb < 0 ? 1e9 : forward.thumb,
                                        backward.thumb < 0 ? 1e9 : backward.thumb);
    const char* cause;
    if (forward.thumb < 0 && backward.thumb < 0) {
      ++c.not_candidate;
      cause = "not a candidate";
    } else if (thumb > rule.thumb_distance) {
      ++c.thumb_refuses;
      cause = "thumbnail refuses";
    } else {
      // The pair would be accepted: one of them joined (or was joined by) another founder.
      const bool other = items[group[i]].item->truth != items[i].item->truth ||
                         items[group[a->second]].item->truth != items[i].item->truth;
      ++(other ? c.order_other : c.order_same);
      cause = other ? "order: a look-alike's group" : "order: split between two founders";
    }
    if (std::find(listed.begin(), listed.end(), t) != listed.end()) {
      char line[512];
      std::snprintf(line, sizeof line, "| %s | %s | %d | %d | %.1f | %.1f | %s | %s | %s |",
                    t.c_str(), items[i].item->name.c_str(), best.bits,
                    std::min(forward.band_bits, backward.band_bits), best.thumb_at_bits, thumb,
                    cause, describe(group[i]).c_str(), describe(group[a->second]).c_str());
      lines.push_back(line);
    }
  }
  std::printf(
      "\n## Missed pairs by cause (rule: candidates <= %d bits, thumbnail <= %.0f)\n\n"
      "| transform | missed | not a candidate | thumbnail refuses | order: look-alike's group | "
      "order: two founders |\n|---|---|---|---|---|---|\n",
      rule.candidate_distance, rule.thumb_distance);
  for (const auto& [t, c] : by) {
    std::printf("| %s | %d | %d | %d | %d | %d |\n", t.c_str(), c.missed, c.not_candidate,
                c.thumb_refuses, c.order_other, c.order_same);
  }
  if (lines.empty()) return;
  std::printf(
      "\n| transform | picture | nearest bits | nearest band bits | thumbnail there | "
      "best thumbnail within radius | cause | copy's founder | original's founder |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
}

}  // namespace memes::bench
