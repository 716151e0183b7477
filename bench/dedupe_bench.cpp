// dedupe_bench: near-duplicate grouping on a labelled set built from real images
// (bench/dedupe_bench_data.h), and the speed of the founder index.
//
//   build/bench/dedupe_bench --google G --twitter T --emoji-json J [--gif-suite DIR]
//       [--originals 1000] [--stored 200000] [--store-dir DIR] [--threads 1]
//
// G holds the originals' drawings, T the other vendor's: pass Twemoji's folder as G and Noto's
// as T to measure on flat vector art (bench/dedupe_bench.sh ORIGINALS_FROM=twitter).
// Prints markdown: per grouping method (the old any-member join at 6 bits; founder-only with
// and without the eight orientations at several thresholds) the recall of each transform pair,
// false merges, the largest group against the largest true group; the test-fraction error of
// the hash split and the balanced split over these groups; lookups/s against `stored` hashes on
// one core and the catalog's commit time per item at 1 000 and at `stored` items.
// --grid
// C:T:TRIM:CONTRAST[:SECOND[:TOLERANCE[:REPS[:REP_THUMB[:COLOUR[:PEAK[:MARGIN[:BRIDGE[:TURNED
// [:NEAR[:FAR[:SIDE]]]]]]]]]]]],…
// chooses the verified rules (ParseRule, dedupe_bench_quality.h); --misses 1 explains the last
// one's missed pairs (listing those of JPEG, rescale, pad and palette; --misses crop,caption
// lists those transforms' instead), --list-merges 1 lists its false merges, --variants 1 measures
// signature variants pair by pair (dedupe_bench_variants.h) and stops; --twins 0 counts emoji that
// are pixel twins up to a turn, a mirror or a scale as different pictures (BenchSetOptions::twins).
// --viewpoint DIR (opencv-doc's examples/data) measures the scene pairs of OpenCV's example
// images instead (dedupe_bench_viewpoint.h) and stops.
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
#include "bench/dedupe_bench_quality.h"
#include "bench/dedupe_bench_speed.h"
#include "bench/dedupe_bench_variants.h"
#include "bench/dedupe_bench_viewpoint.h"
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
using namespace memes::bench;  // the quality and variant helpers

int main(int argc, char** argv) {
  memes::bench::BenchSetOptions options;
  size_t stored = 200000;
  bool variants = false, commit = true, thumb_pairs = false, quick = false, speed = true,
       list_merges = false, misses = false;
  std::vector<std::string> miss_list = {"jpeg", "rescale", "pad", "palette"};
  // The verified rules to measure (--grid): by default the catalog's default rule without
  // bridges and with them (last: --misses and --list-merges explain the last rule).
  memes::store::MatchRule no_bridges;
  no_bridges.bridge_distance = -1;
  std::vector<memes::store::MatchRule> verified_grid = {no_bridges, memes::store::MatchRule{}};
  fs::path store_dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  fs::path viewpoint;  // --viewpoint: opencv-doc's examples/data
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
    else if (flag == "--misses") {
      // "1": the cheap transforms' missed pairs listed; or the transforms to list, "crop,caption".
      misses = value != "0";
      if (misses && value != "1") {
        miss_list.clear();
        for (size_t at = 0; at <= value.size();) {
          const size_t comma = std::min(value.find(',', at), value.size());
          miss_list.push_back(value.substr(at, comma - at));
          at = comma + 1;
        }
      }
    } else if (flag == "--list-merges")
      list_merges = value == "1";
    else if (flag == "--quick")
      quick = value == "1";
    else if (flag == "--twins")
      options.twins = value == "1";
    else if (flag == "--speed")
      speed = value == "1";
    else if (flag == "--viewpoint")
      viewpoint = value;
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
  if (!viewpoint.empty()) {
    return memes::bench::ViewpointPairs(
               viewpoint, verified_grid.empty() ? memes::store::MatchRule{} : verified_grid.back())
               ? 0
               : 1;
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
    Hashed content{}, phash{};
    content.item = phash.item = &item;
    for (const auto& frame : decoded->frames) {
      const auto old_hashes = memes::transform::PerceptualHashes(frame.planar, 32);
      phash.own.push_back(old_hashes[0]);
      phash.probes.insert(phash.probes.end(), old_hashes.begin(), old_hashes.end());
      AppendFrame(frame.planar, content);
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
      "# dedupe_bench\n\n%zu items (%zu true pictures, %zu twin truths joined; %d failed to "
      "decode), built in %.1f s, decoded and hashed in %.1f s\n\n",
      items.size(), truths.size(), memes::bench::g_twin_pairs.size(), failed, build, decode);

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
    memes::bench::ExplainMisses(items, methods.back().group, rule, miss_list);
  }
  if (list_merges) {
    // The false-merge groups of the last method: the pictures each holds.
    const std::vector<size_t>& group = methods.back().group;
    std::map<size_t, std::map<int, std::string>> pictures;
    for (size_t i = 0; i < items.size(); ++i)
      pictures[group[i]][items[i].item->truth] = items[i].item->name;
    std::printf("\ntwin truths joined (--twins 1):");
    for (const std::string& pair : memes::bench::g_twin_pairs) std::printf(" [%s]", pair.c_str());
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
