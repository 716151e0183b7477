// dedupe_bench: near-duplicate grouping on a labelled set built from real images
// (bench/dedupe_bench_data.h), and the speed of the founder index.
//
//   build/bench/dedupe_bench --google G --twitter T --emoji-json J [--gif-suite DIR]
//       [--originals 1000] [--stored 200000] [--store-dir DIR] [--threads 1]
//
// Prints markdown: per grouping method (the old any-member join at 6 bits; founder-only with
// and without the eight orientations at several thresholds) the recall of each transform pair,
// false merges, the largest group against the largest true group; the test-fraction error of
// the hash split and the balanced split over these groups; lookups/s against `stored` hashes on
// one core and the catalog's commit time per item at 1 000 and at `stored` items.
// bench/dedupe_bench.sh fetches the emoji packages and runs it.
#include <unistd.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "bench/dedupe_bench_data.h"
#include "bench/dedupe_bench_misses.h"
#include "bench/dedupe_bench_speed.h"
#include "store/catalog.h"
#include "store/near_dup_index.h"
#include "store/split.h"
#include "transform/frames.h"
#include "transform/signature.h"

namespace fs = std::filesystem;
using memes::bench::BenchItem;
using memes::bench::Clock;
using memes::bench::Hashed;
using memes::bench::Seconds;
using memes::bench::SpeedFigures;

namespace {

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
    candidates.push_back(
        {h.own, h.probes, h.own_thumbs, h.probe_thumbs, h.own_second, h.probe_second});
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

struct Quality {
  std::map<std::string, std::pair<int, int>> recall;  // transform -> (joined, pairs)
  int groups = 0, false_merge_groups = 0, vendor_pairs = 0, vendor_merged = 0;
  size_t largest = 0, largest_true = 0;
  int64_t pairs_together = 0, pairs_wrong = 0;
};

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

// Signature variants measured pair by pair (bench-only): per transform, the share of pairs
// whose nearest orientation is within t bits, and the same share over "other vendor" pairs
// (different pictures that look alike: what a threshold must keep apart).
struct Variant {
  std::string name;
  bool unused;
  bool median;
  int blur;            // box blur side before the DCT (0: none)
  double moments = 0;  // > 0: window centre ± moments·σ of the ink around the border colour
  int noise = 16;
};

// Grey 32×32 of the window centre ± k·σ (per axis) of the "ink": each pixel's largest channel
// difference from the border colour, less `noise`.
cv::Mat MomentWindow(const std::vector<uint8_t>& planar, double k, int noise) {
  const int size = 32;
  cv::Mat grey(size, size, CV_32F);
  for (int i = 0; i < 1024; ++i)
    grey.at<float>(i / 32, i % 32) =
        0.299f * planar[i] + 0.587f * planar[1024 + i] + 0.114f * planar[2048 + i];
  bool bordered = false;
  // The border colour: one three corners share (as transform::FindContentWindow).
  int cr = planar[0], cg = planar[1024], cb = planar[2048];
  {
    const int idx[4] = {0, 31, 31 * 32, 1023};
    for (int a = 0; a < 4; ++a) {
      int agree = 0;
      for (int b = 0; b < 4; ++b)
        agree += std::abs(planar[idx[a]] - planar[idx[b]]) <= 24 &&
                 std::abs(planar[1024 + idx[a]] - planar[1024 + idx[b]]) <= 24 &&
                 std::abs(planar[2048 + idx[a]] - planar[2048 + idx[b]]) <= 24;
      if (agree >= 3) {
        bordered = true;
        cr = planar[idx[a]], cg = planar[1024 + idx[a]], cb = planar[2048 + idx[a]];
        break;
      }
    }
  }
  if (!bordered) return grey;
  double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const int i = y * 32 + x;
      int w = std::max({std::abs(planar[i] - cr), std::abs(planar[1024 + i] - cg),
                        std::abs(planar[2048 + i] - cb)}) -
              noise;
      if (w <= 0) continue;
      sw += w, sx += w * x, sy += w * y, sxx += double(w) * x * x, syy += double(w) * y * y;
    }
  if (sw <= 0) return grey;
  const double mx = sx / sw, my = sy / sw;
  const double vx = std::max(0.25, sxx / sw - mx * mx), vy = std::max(0.25, syy / sw - my * my);
  const double hx = k * std::sqrt(vx), hy = k * std::sqrt(vy);
  const double scale_x = 32 / (2 * hx), scale_y = 32 / (2 * hy);
  cv::Mat m = (cv::Mat_<double>(2, 3) << scale_x, 0, scale_x * (0.5 - (mx + 0.5) + hx) - 0.5, 0,
               scale_y, scale_y * (0.5 - (my + 0.5) + hy) - 0.5);
  cv::Mat out;
  const float bg = 0.299f * cr + 0.587f * cg + 0.114f * cb;
  cv::warpAffine(grey, out, m, cv::Size(32, 32), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(bg));
  return out;
}

uint64_t VariantHash(const cv::Mat& grey32, const Variant& v) {
  cv::Mat g = grey32;
  if (v.blur > 1) cv::blur(grey32, g, cv::Size(v.blur, v.blur));
  cv::Mat dct;
  cv::dct(g, dct);
  std::array<float, 64> low{};
  for (int u = 0; u < 8; ++u)
    for (int w = 0; w < 8; ++w) low[8 * u + w] = dct.at<float>(u, w);
  low[0] = dct.at<float>(0, 8);
  float threshold = 0;
  if (v.median) {
    auto sorted = low;
    std::nth_element(sorted.begin(), sorted.begin() + 32, sorted.end());
    threshold = sorted[32];
  } else {
    for (float x : low) threshold += x / 64;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 64; ++i) bits = (bits << 1) | (low[i] >= threshold ? 1u : 0u);
  return bits;
}

std::array<uint64_t, 8> VariantHashes(const std::vector<uint8_t>& planar, const Variant& v) {
  const int size = 32;
  if (v.moments < 0) return memes::transform::ContentHashes(planar, size);
  if (v.moments > 0) {
    cv::Mat g32 = MomentWindow(planar, v.moments, v.noise);
    std::array<uint64_t, 8> out{};
    cv::Mat m;
    cv::flip(g32, m, 1);
    const cv::RotateFlags r[] = {cv::ROTATE_90_COUNTERCLOCKWISE, cv::ROTATE_180,
                                 cv::ROTATE_90_CLOCKWISE};
    for (int mir = 0; mir < 2; ++mir) {
      const cv::Mat& b = mir ? m : g32;
      out[4 * mir] = VariantHash(b, v);
      for (int t = 1; t < 4; ++t) {
        cv::Mat turned;
        cv::rotate(b, turned, r[t - 1]);
        out[4 * mir + t] = VariantHash(turned, v);
      }
    }
    return out;
  }
  cv::Mat grey(size, size, CV_32F);
  for (int i = 0; i < size * size; ++i)
    grey.at<float>(i / size, i % size) =
        0.299f * planar[i] + 0.587f * planar[1024 + i] + 0.114f * planar[2048 + i];
  cv::Mat g32;
  cv::resize(grey, g32, cv::Size(32, 32), 0, 0, cv::INTER_LINEAR);
  std::array<uint64_t, 8> out{};
  cv::Mat m;
  cv::flip(g32, m, 1);
  const cv::RotateFlags r[] = {cv::ROTATE_90_COUNTERCLOCKWISE, cv::ROTATE_180,
                               cv::ROTATE_90_CLOCKWISE};
  for (int mir = 0; mir < 2; ++mir) {
    const cv::Mat& b = mir ? m : g32;
    out[4 * mir] = VariantHash(b, v);
    for (int t = 1; t < 4; ++t) {
      cv::Mat turned;
      cv::rotate(b, turned, r[t - 1]);
      out[4 * mir + t] = VariantHash(turned, v);
    }
  }
  return out;
}

void SignatureVariants(const std::vector<memes::bench::BenchItem>& set) {
  std::vector<Variant> variants = {
      {"whole frame, mean (img_hash-like)", false, false, 0},
      {"whole frame, median", false, true, 0},
      {"moments k=2, median", false, true, 0, 2.0},

      {"transform::ContentHashes (chosen: moments k=2, median)", false, true, 0, -1},
      {"moments k=2.5, median", false, true, 0, 2.5},
      {"moments k=2, mean", false, false, 0, 2.0},
      {"moments k=2, median, blur 3", false, true, 3, 2.0}};
  // Per item: frames' planar pixels.
  std::vector<std::vector<std::vector<uint8_t>>> frames(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    auto decoded = memes::transform::DecodeToFrames(set[i].bytes, {});
    if (!decoded.ok()) continue;
    for (auto& f : decoded->frames) frames[i].push_back(f.planar);
  }
  // Pairs: copy -> original (stills -> animation); other-vendor -> the preceding original.
  std::map<int, size_t> original, animation;
  for (size_t i = 0; i < set.size(); ++i) {
    if (set[i].transform == "original") original[set[i].truth] = i;
    if (set[i].transform == "animation") animation[set[i].truth] = i;
  }
  std::vector<std::pair<std::string, std::pair<size_t, size_t>>> pairs;
  size_t last_original = SIZE_MAX;
  for (size_t i = 0; i < set.size(); ++i) {
    const std::string& t = set[i].transform;
    if (t == "original") last_original = i;
    if (t == "other-vendor" && last_original != SIZE_MAX) pairs.push_back({t, {i, last_original}});
    if (t == "original" || t == "animation" || t == "other-vendor") continue;
    const auto& anchors = t.rfind("anim-", 0) == 0 ? animation : original;
    auto a = anchors.find(set[i].truth);
    if (a != anchors.end()) pairs.push_back({t, {i, a->second}});
  }
  const int thresholds[] = {6, 8, 10, 12};
  std::printf(
      "\n## Signature variants, pair by pair (share of pairs within t bits, t = 6/8/10/12)\n\n");
  std::printf("| variant |");
  std::vector<std::string> names = memes::bench::PositiveTransforms();
  names.push_back("other-vendor");
  for (const auto& n : names) std::printf(" %s |", n.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < names.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const Variant& v : variants) {
    std::vector<std::vector<uint64_t>> own(set.size()), probes(set.size());
    for (size_t i = 0; i < set.size(); ++i) {
      for (const auto& f : frames[i]) {
        const auto h = VariantHashes(f, v);
        own[i].push_back(h[0]);
        probes[i].insert(probes[i].end(), h.begin(), h.end());
      }
    }
    std::map<std::string, std::array<int, 5>> within;  // 4 thresholds + count
    for (const auto& [t, ab] : pairs) {
      int best = 65;
      for (uint64_t p : probes[ab.first])
        for (uint64_t o : own[ab.second]) best = std::min(best, __builtin_popcountll(p ^ o));
      auto& w = within[t];
      for (int k = 0; k < 4; ++k) w[k] += best <= thresholds[k];
      ++w[4];
    }
    std::printf("| %s |", v.name.c_str());
    for (const auto& n : names) {
      const auto& w = within[n];
      std::printf(" %.0f/%.0f/%.0f/%.0f |", 100.0 * w[0] / std::max(1, w[4]),
                  100.0 * w[1] / std::max(1, w[4]), 100.0 * w[2] / std::max(1, w[4]),
                  100.0 * w[3] / std::max(1, w[4]));
    }
    std::printf("\n");
  }
}

// "C:T:TRIM:CONTRAST[:SECOND[:TOLERANCE[:REPS[:REP_THUMB[:COLOUR]]]]]": candidate bits,
// thumbnail distance, trim share, contrast 0/1, second-hash bits (-1 off), per-channel
// tolerance, representatives per group, thumbnail radius for a representative (-1: T), chroma
// distance of the mean colours (-1 off), mean of the worst thumbnail cells (-1 off).
memes::store::MatchRule ParseRule(const std::string& text) {
  int c = 0, contrast = 0, second = -1, reps = 1;
  double t = 0, trim = 0, tolerance = 0, rep_thumb = -1, colour = -1, peak = -1;
  int margin = 0;
  std::sscanf(text.c_str(), "%d:%lf:%lf:%d:%d:%lf:%d:%lf:%lf:%lf:%d", &c, &t, &trim, &contrast,
              &second, &tolerance, &reps, &rep_thumb, &colour, &peak, &margin);
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
  return rule;
}

std::string RuleName(const memes::store::MatchRule& rule) {
  char name[240], extra[120] = "";
  size_t used = 0;
  if (rule.second_distance >= 0)
    used +=
        std::snprintf(extra + used, sizeof extra - used, " or frame <= %d", rule.second_distance);
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
                  ", peak <= %.0f (margin %d)", rule.peak_distance, rule.peak_margin);
  std::snprintf(name, sizeof name, "verified: content <= %d%s, thumbnail <= %.0f (trim %.0f %%%s)",
                rule.candidate_distance, extra, rule.thumb_distance, rule.trim * 100,
                rule.contrast ? ", contrast" : "");
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  memes::bench::BenchSetOptions options;
  size_t stored = 200000;
  bool variants = false, commit = true, thumb_pairs = false, quick = false, speed = true,
       list_merges = false, misses = false;
  // The verified rules to measure (--grid).
  std::vector<memes::store::MatchRule> verified_grid = {
      ParseRule("10:26:0:1"), ParseRule("6:26:0:1:6"), ParseRule("8:26:0:1:6")};
  fs::path store_dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--google")
      options.google = value;
    else if (flag == "--twitter")
      options.twitter = value;
    else if (flag == "--emoji-json")
      options.emoji_json = value;
    else if (flag == "--gif-suite")
      options.gif_suite = value;
    else if (flag == "--originals")
      options.originals = std::stoi(value);
    else if (flag == "--stored")
      stored = std::stoul(value);
    else if (flag == "--commit")
      commit = value == "1";
    else if (flag == "--variants")
      variants = value == "1";
    else if (flag == "--store-dir")
      store_dir = value;
    else if (flag == "--thumb-pairs")
      thumb_pairs = value == "1";
    else if (flag == "--misses")
      misses = value == "1";
    else if (flag == "--list-merges")
      list_merges = value == "1";
    else if (flag == "--quick")
      quick = value == "1";
    else if (flag == "--speed")
      speed = value == "1";
    else if (flag == "--grid") {
      // "C:T:TRIM:CONTRAST[:SECOND[:TOLERANCE[:REPS[:REP_THUMB[:COLOUR[:PEAK]]]]]],…"
      verified_grid.clear();
      for (size_t at = 0; at < value.size();) {
        size_t end = value.find(',', at);
        if (end == std::string::npos) end = value.size();
        verified_grid.push_back(ParseRule(value.substr(at, end - at)));
        at = end + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.google.empty() || options.twitter.empty()) {
    std::fprintf(stderr,
                 "usage: dedupe_bench --google DIR --twitter DIR --emoji-json FILE "
                 "[--gif-suite DIR] [--originals N] [--stored N] [--store-dir DIR]\n");
    return 2;
  }
  auto start = Clock::now();
  const std::vector<BenchItem> set = memes::bench::BuildBenchSet(options);
  const double build = Seconds(start);
  if (variants) {
    SignatureVariants(set);
    return 0;
  }
  start = Clock::now();
  // Per item, both signatures of its kept frames: the OpenCV PHash of the whole frame (what
  // the catalog stored before) and transform::ContentHashes (trimmed content box, median DCT).
  std::vector<Hashed> items, phash_items;
  int failed = 0;
  for (const BenchItem& item : set) {
    auto decoded = memes::transform::DecodeToFrames(item.bytes, {});
    if (!decoded.ok() || decoded->frames.empty()) {
      ++failed;
      continue;
    }
    Hashed content{&item, {}, {}, {}, {}, {}, {}}, phash{&item, {}, {}, {}, {}, {}, {}};
    for (const auto& frame : decoded->frames) {
      const auto old_hashes = memes::transform::PerceptualHashes(frame.planar, 32);
      phash.own.push_back(old_hashes[0]);
      phash.probes.insert(phash.probes.end(), old_hashes.begin(), old_hashes.end());
      const auto new_hashes = memes::transform::ContentHashes(frame.planar, 32);
      content.own.push_back(new_hashes[0]);
      content.probes.insert(content.probes.end(), new_hashes.begin(), new_hashes.end());
      const auto thumbs = memes::transform::ContentThumbsOf(frame.planar, 32);
      content.own_thumbs.insert(content.own_thumbs.end(), thumbs[0].begin(), thumbs[0].end());
      for (const auto& thumb : thumbs)
        content.probe_thumbs.insert(content.probe_thumbs.end(), thumb.begin(), thumb.end());
      const auto second = memes::transform::FrameHashes(frame.planar, 32);
      content.own_second.push_back(second[0]);
      content.probe_second.insert(content.probe_second.end(), second.begin(), second.end());
    }
    items.push_back(std::move(content));
    phash_items.push_back(std::move(phash));
  }
  const double decode = Seconds(start);
  {
    // What recomputing founders' thumbnails at open would cost, per frame (frames read aside).
    size_t frames = 0;
    std::vector<std::vector<uint8_t>> planes;
    for (size_t i = 0; i < std::min<size_t>(set.size(), 1000); ++i) {
      auto decoded = memes::transform::DecodeToFrames(set[i].bytes, {});
      if (decoded.ok())
        for (auto& f : decoded->frames) planes.push_back(f.planar);
    }
    const auto t = Clock::now();
    for (int round = 0; round < 5; ++round) {
      for (const auto& p : planes) {
        const auto thumbs = memes::transform::ContentThumbsOf(p, 32);
        frames += thumbs[0][0] != 1;
      }
    }
    std::printf("ContentThumbsOf (8 orientations): %.1f us per frame (checksum %zu)\n\n",
                Seconds(t) / std::max<size_t>(1, 5 * planes.size()) * 1e6, frames);
  }
  // Arrival order: shuffled, so founders are sometimes copies (as on a real site).
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 random(7);
  std::shuffle(order.begin(), order.end(), random);
  {
    std::vector<Hashed> a, b;
    for (size_t i : order) {
      a.push_back(items[i]);
      b.push_back(phash_items[i]);
    }
    items.swap(a);
    phash_items.swap(b);
  }
  std::set<int> truths;
  for (const Hashed& h : items) truths.insert(h.item->truth);
  std::printf(
      "# dedupe_bench\n\n%zu items (%zu true pictures; %d failed to decode), built in "
      "%.1f s, decoded and hashed in %.1f s\n\n",
      items.size(), truths.size(), failed, build, decode);

  if (thumb_pairs) ThumbPairs(items);
  struct Method {
    std::string name;
    std::vector<size_t> group;
  };
  std::vector<Method> methods;
  if (!quick) {
    methods.push_back({"phash: any member <= 6 (old)", AnyMemberJoin(phash_items, 6)});
    for (int t : {6, 8}) {
      methods.push_back({"phash: founder <= " + std::to_string(t) + " + 8 orientations",
                         FounderJoin(phash_items, t, true)});
    }
  }
  for (int t : {6, 8}) {
    methods.push_back({"content: founder <= " + std::to_string(t) + " + 8 orientations",
                       FounderJoin(items, t, true)});
  }
  for (const memes::store::MatchRule& rule : verified_grid) {
    const std::string name = RuleName(rule);
    const auto t0 = Clock::now();
    methods.push_back({name, VerifiedJoin(items, rule)});
    std::fprintf(stderr, "%s: %.1f s\n", name.c_str(), Seconds(t0));
  }
  std::printf("## Pair recall per transform, precision, largest group\n\n| method |");
  for (const auto& t : memes::bench::PositiveTransforms()) std::printf(" %s |", t.c_str());
  std::printf(
      " other vendor merged | false-merge groups | wrong pairs | groups | largest / true |\n|---|");
  for (size_t i = 0; i < memes::bench::PositiveTransforms().size() + 5; ++i) std::printf("---|");
  std::printf("\n");
  for (const Method& m : methods) {
    const Quality q = Measure(items, m.group);
    std::printf("| %s |", m.name.c_str());
    for (const auto& t : memes::bench::PositiveTransforms()) {
      const auto it = q.recall.find(t);
      if (it == q.recall.end() || it->second.second == 0) {
        std::printf(" - |");
      } else {
        std::printf(" %.1f %% |", 100.0 * it->second.first / it->second.second);
      }
    }
    std::printf(" %.1f %% (%d/%d) | %.2f %% | %.2f %% | %d | %zu / %zu |\n",
                100.0 * q.vendor_merged / std::max(1, q.vendor_pairs), q.vendor_merged,
                q.vendor_pairs, 100.0 * q.false_merge_groups / std::max(1, q.groups),
                100.0 * q.pairs_wrong / std::max<int64_t>(1, q.pairs_together), q.groups, q.largest,
                q.largest_true);
  }
  if (misses && !verified_grid.empty()) {
    // The missed pairs of the last verified rule, by cause; the cheap transforms listed.
    const memes::store::MatchRule& rule = verified_grid.back();
    memes::bench::ExplainMisses(items, methods.back().group, rule,
                                {"jpeg", "rescale", "pad", "palette"});
  }
  if (list_merges) {
    // The false-merge groups of the last method: the pictures each holds.
    const std::vector<size_t>& group = methods.back().group;
    std::map<size_t, std::map<int, std::string>> pictures;
    for (size_t i = 0; i < items.size(); ++i)
      pictures[group[i]][items[i].item->truth] = items[i].item->name;
    std::printf("\nfalse merges of `%s`:\n", methods.back().name.c_str());
    for (const auto& [g, truths] : pictures) {
      if (truths.size() < 2) continue;
      std::printf("-");
      for (const auto& [truth, name] : truths) std::printf(" %s", name.c_str());
      std::printf("\n");
    }
  }
  std::printf("\npairs per transform:");
  {
    const Quality q = Measure(items, methods.back().group);
    for (const auto& [t, jp] : q.recall) std::printf(" %s %d", t.c_str(), jp.second);
  }
  std::printf(
      "\n\n## Test-fraction error after the split (fraction 0.2, classes = emoji "
      "category, groups of `content: founder <= %d + 8 orientations`)\n\n",
      memes::store::kDefaultNearDuplicateDistance);
  std::printf("| split | seed | worst class (>= 100 items) | overall |\n|---|---|---|---|\n");
  const std::vector<size_t>* chosen = nullptr;
  for (const Method& m : methods) {
    if (m.name ==
        "content: founder <= " + std::to_string(memes::store::kDefaultNearDuplicateDistance) +
            " + 8 orientations") {
      chosen = &m.group;
    }
  }
  for (bool balanced : {false, true}) {
    for (uint64_t seed : {0, 1, 2}) {
      const auto [worst, overall] = SplitError(items, *chosen, balanced, seed, 0.2);
      std::printf("| %s | %llu | %.2f points | %.2f points |\n", balanced ? "balanced" : "hash",
                  (unsigned long long)seed, 100 * worst, 100 * overall);
    }
  }
  if (speed) SpeedFigures(items, stored, store_dir, commit);
  return 0;
}
