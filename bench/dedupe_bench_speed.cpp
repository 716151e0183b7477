// The speed half of dedupe_bench (dedupe_bench_speed.h).
#include "bench/dedupe_bench_speed.h"
#include "core/mix.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <tuple>

#include "store/catalog.h"
#include "store/near_dup_index.h"
#include "store/split.h"
#include "transform/frames.h"
#include "transform/signature.h"

namespace memes::bench {

namespace fs = std::filesystem;

namespace {

// `count` hashes shaped like real ones: each a real hash with 10–20 random bits flipped (so the
// index's buckets fill as unevenly as with real pictures, without exact repeats).
// Stored hash k was made from real hash k % real.size() (RealThumbOf gives its thumbnail).
// `second`: the same from the items' second hashes (stored hash k's second hash is made from
// the same frame's second hash).
std::vector<uint64_t> StoredHashes(const std::vector<Hashed>& items, size_t count,
                                   bool second = false) {
  std::vector<uint64_t> real;
  for (const Hashed& h : items) {
    const auto& own = second ? h.own_second : h.own;
    real.insert(real.end(), own.begin(), own.end());
  }
  std::vector<uint64_t> out;
  std::mt19937_64 random(second ? 4 : 3);
  while (out.size() < count) {
    uint64_t hash = real[out.size() % real.size()];
    const int flips = 10 + static_cast<int>(random() % 11);
    for (int f = 0; f < flips; ++f) hash ^= uint64_t{1} << (random() % 64);
    out.push_back(hash);
  }
  return out;
}

// The thumbnail of real hash k (the items' own frames in order); `second`: the second hash's.
std::vector<std::span<const uint8_t>> RealThumbs(const std::vector<Hashed>& items,
                                                 bool second = false) {
  std::vector<std::span<const uint8_t>> out;
  for (const Hashed& h : items) {
    for (size_t k = 0; k < h.own.size(); ++k)
      out.push_back(std::span(second ? h.own_second_thumbs : h.own_thumbs)
                        .subspan(k * memes::store::kThumbBytes, memes::store::kThumbBytes));
  }
  return out;
}

// Whose thumbnail a stored hash carries (the verified rule's rows).
enum class StoredThumbs {
  // Its own real picture's: every probe meets dozens of stored hashes within the candidate
  // radius that the thumbnail accepts (the worst case; a store holds none of them, they would
  // have joined one group).
  kSamePicture,
  // Another real picture's: hash look-alikes that the thumbnail refuses, what a store's index
  // holds (founders of different pictures).
  kOtherPicture,
};

// `second`: the stored second hashes, used when rule->second_distance >= 0.
void IndexSpeed(const std::vector<Hashed>& items, const std::vector<uint64_t>& hashes, int distance,
                int blocks, double linear_per_item, size_t linear_found,
                const memes::store::MatchRule* rule, const std::vector<uint64_t>* second = nullptr,
                StoredThumbs stored_thumbs = StoredThumbs::kSamePicture);
// `candidate` / `second`: the verified rule's radii (second -1: no second source); each item's
// frame carries its second hash from `seconds` either way.
void CommitSpeed(const std::vector<Hashed>& items, const std::vector<uint64_t>& hashes,
                 const std::vector<uint64_t>& seconds, size_t stored, const fs::path& store_dir,
                 bool verify, int candidate = memes::store::kDefaultCandidateDistance,
                 int second = memes::store::kDefaultSecondDistance,
                 int turned = memes::store::kDefaultTurnedDistance);

// Items in the linear scan's sample.
constexpr size_t kLinearSample = 100;

}  // namespace

void AppendFrame(std::span<const uint8_t> planar, Hashed& item) {
  const transform::ContentWindow window = transform::FindContentWindow(planar, 32);
  const auto hashes = transform::ContentHashes(planar, 32, window);
  item.own.push_back(hashes[0]);
  item.probes.insert(item.probes.end(), hashes.begin(), hashes.end());
  const auto thumbs = transform::ContentThumbsOf(planar, 32, window);
  item.own_thumbs.insert(item.own_thumbs.end(), thumbs[0].begin(), thumbs[0].end());
  for (const auto& thumb : thumbs)
    item.probe_thumbs.insert(item.probe_thumbs.end(), thumb.begin(), thumb.end());
  const auto second = transform::BandHashes(planar, 32);
  item.own_second.push_back(second[0]);
  item.probe_second.insert(item.probe_second.end(), second.begin(), second.end());
  const auto band_thumbs = transform::BandThumbsOf(planar, 32);
  item.own_second_thumbs.insert(item.own_second_thumbs.end(), band_thumbs[0].begin(),
                                band_thumbs[0].end());
  for (const auto& thumb : band_thumbs)
    item.probe_second_thumbs.insert(item.probe_second_thumbs.end(), thumb.begin(), thumb.end());
}

void SpeedFigures(const std::vector<Hashed>& items, size_t stored, const fs::path& store_dir,
                  bool commit) {
  const int distance = memes::store::kDefaultNearDuplicateDistance;
  const std::vector<uint64_t> hashes = StoredHashes(items, stored);
  const std::vector<uint64_t> second_hashes = StoredHashes(items, stored, /*second=*/true);
  std::printf(
      "\n## Founder index speed (%zu stored hashes, one thread; one lookup = one item: its kept "
      "frames x 8 orientations, %s)\n\n",
      stored, "probes that repeat within an item are read once");
  std::printf(
      "| threshold | blocks | buckets read / probe | entries read / probe | lookups/s | probe "
      "hashes/s | x linear scan | matches: index / scan (%zu items) | build |\n"
      "|---|---|---|---|---|---|---|---|---|\n",
      kLinearSample);
  for (int d : {6, 8, 10}) {
    // The linear scan the old commit did, for the same probes, on a sample of items.
    const size_t sample = std::min(items.size(), kLinearSample);
    const auto start = Clock::now();
    size_t linear_found = 0;
    for (size_t i = 0; i < sample; ++i) {
      int best = 65;
      for (uint64_t probe : items[i].probes) {
        for (uint64_t hash : hashes) best = std::min(best, __builtin_popcountll(hash ^ probe));
      }
      linear_found += best <= d;
    }
    const double linear = Seconds(start) / sample;
    for (int m = memes::store::NearDupIndex::kMinBlocks;
         m <= memes::store::NearDupIndex::kMaxBlocks; ++m) {
      IndexSpeed(items, hashes, d, m, linear, linear_found, nullptr);
    }
    if (d == 6) {
      // Two candidate sources at 6 bits each (content hash or whole-frame hash), verified.
      memes::store::MatchRule rule;
      rule.candidate_distance = 6;
      rule.second_distance = 6;
      for (int m = memes::store::NearDupIndex::kMinBlocks; m <= 5; ++m) {
        IndexSpeed(items, hashes, d, m, linear, linear_found, &rule, &second_hashes);
      }
    }
    if (d == memes::store::kDefaultCandidateDistance) {
      // The verified rule (the default, with its second source when it has one): thumbnails
      // compared for every candidate.
      const memes::store::MatchRule rule;
      for (int m = memes::store::NearDupIndex::kMinBlocks;
           m <= memes::store::NearDupIndex::kMaxBlocks; ++m) {
        IndexSpeed(items, hashes, d, m, linear, linear_found, &rule, &second_hashes);
      }
      for (int m = memes::store::NearDupIndex::kMinBlocks; m <= 5; ++m) {
        IndexSpeed(items, hashes, d, m, linear, linear_found, &rule, &second_hashes,
                   StoredThumbs::kOtherPicture);
      }
      // Every probe at the full radius and the band at 6 bits, the default before turned
      // probes had a radius of their own (MatchRule::turned_distance); the band at 6 bits with
      // them, the default before the band's unturned probe was read at 10.
      memes::store::MatchRule all_turns, band6;
      all_turns.turned_distance = -1;
      all_turns.second_distance = all_turns.second_near_distance = 6;
      band6.second_distance = band6.second_near_distance = 6;
      for (const memes::store::MatchRule* before : {&all_turns, &band6}) {
        for (const StoredThumbs kind : {StoredThumbs::kSamePicture, StoredThumbs::kOtherPicture}) {
          IndexSpeed(items, hashes, d, memes::store::NearDupIndex::kMinBlocks, linear, linear_found,
                     before, &second_hashes, kind);
        }
      }
      // The content hash alone (no band source), what the band costs; and without bridges,
      // what they cost (the band read after an acceptance too).
      memes::store::MatchRule no_bridges;
      no_bridges.bridge_distance = -1;
      for (const StoredThumbs kind : {StoredThumbs::kSamePicture, StoredThumbs::kOtherPicture}) {
        IndexSpeed(items, hashes, d, memes::store::NearDupIndex::kMinBlocks, linear, linear_found,
                   &no_bridges, nullptr, kind);
        IndexSpeed(items, hashes, d, memes::store::NearDupIndex::kMinBlocks, linear, linear_found,
                   &no_bridges, &second_hashes, kind);
      }
    }
    std::printf("| %d | linear scan | - | %zu | %.0f | - | 1 | - | - |\n", d, hashes.size(),
                1 / linear);
  }
  (void)distance;
  if (commit) {
    std::printf(
        "\n## Commit time per item (Catalog::AddItem, one transaction each, %s; 10 rounds of 100 "
        "adds interleaved: store A at ~1 000, the big store, store B at ~1 000; per item: lookup / "
        "transaction (both timed inside AddItem) / whole AddItem)\n\n"
        "| rule | A at 1 000 | B at 1 000 | big store | transaction big / A | AddItem big / A | "
        "transaction B / A (noise) | fill |\n"
        "|---|---|---|---|---|---|---|---|\n",
        store_dir.string().c_str());
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, false);
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, true);
    // Every probe at the full radius and the band at 6 (the default before turned_distance);
    // the band at 6 with them (the default before the band's unturned probe was read at 10).
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, true,
                memes::store::kDefaultCandidateDistance, 6, -1);
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, true,
                memes::store::kDefaultCandidateDistance, 6);
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, true,
                memes::store::kDefaultCandidateDistance, -1);
    CommitSpeed(items, hashes, second_hashes, stored, store_dir, true, 6, 6);
  }
}

namespace {

void IndexSpeed(const std::vector<Hashed>& items, const std::vector<uint64_t>& hashes, int distance,
                int blocks, double linear_per_item, size_t linear_found,
                const memes::store::MatchRule* rule, const std::vector<uint64_t>* second,
                StoredThumbs stored_thumbs) {
  const bool two = rule && rule->second_distance >= 0 && second;
  memes::store::NearDupIndex index(two ? rule->IndexRadius() : distance, blocks);
  const auto thumbs = RealThumbs(items);
  const auto second_thumbs = RealThumbs(items, /*second=*/true);
  // Stored hash i was made from real hash i mod thumbs.size() (StoredHashes); half the set
  // away is another item's frame, of another original but for 1 in --originals.
  const size_t thumb_shift = stored_thumbs == StoredThumbs::kOtherPicture ? thumbs.size() / 2 : 0;
  auto start = Clock::now();
  for (size_t i = 0; i < hashes.size(); ++i) {
    index.Add(
        hashes[i], static_cast<int64_t>(i),
        rule ? thumbs[(i + thumb_shift) % thumbs.size()] : std::span<const uint8_t>(),
        /*defer=*/true, two ? std::optional<uint64_t>((*second)[i]) : std::nullopt,
        /*founder=*/true,
        two ? second_thumbs[(i + thumb_shift) % second_thumbs.size()] : std::span<const uint8_t>());
  }
  index.Flush();
  const double build = Seconds(start);
  size_t lookups = 0, probes = 0;
  std::vector<memes::store::NearDupIndex::Match> bridges;
  start = Clock::now();
  // Items in set order, round and round, for 1.5 s (at least 200 items).
  for (size_t i = 0; Seconds(start) < 1.5 || lookups < 200; i = (i + 1) % items.size()) {
    if (rule) {
      // As the catalog looks up: with bridges, the second source is read after an acceptance too.
      index.NearestAccepted(
          items[i].probes, items[i].probe_thumbs, *rule,
          two ? std::span<const uint64_t>(items[i].probe_second) : std::span<const uint64_t>(),
          two ? std::span<const uint8_t>(items[i].probe_second_thumbs) : std::span<const uint8_t>(),
          rule->Bridges() ? &bridges : nullptr,
          memes::store::ProbeOrientations(items[i].probes.size(), items[i].own.size()));
    } else {
      index.Nearest(items[i].probes);
    }
    ++lookups;
    probes += items[i].probes.size();
  }
  const double elapsed = Seconds(start);
  // Each probe at the radius NearestAccepted reads it at.
  size_t buckets = 0, entries = 0, costed = 0;
  for (const Hashed& item : items) {
    const size_t orientations =
        memes::store::ProbeOrientations(item.probes.size(), item.own.size());
    for (size_t p = 0; p < item.probes.size(); ++p) {
      const int radius = rule ? rule->ProbeRadius(p, orientations) : distance;
      const auto cost = index.CostOf(item.probes[p], /*source=*/0, radius);
      buckets += cost.buckets;
      entries += cost.entries;
      if (two) {
        const auto cost2 = index.CostOf(item.probe_second[p], /*source=*/1,
                                        rule->SecondProbeRadius(p, orientations));
        buckets += cost2.buckets;
        entries += cost2.entries;
      }
      ++costed;
    }
  }
  size_t found = 0;
  for (size_t i = 0; i < std::min(items.size(), kLinearSample); ++i)
    found += index.Nearest(items[i].probes).has_value();
  char turned[32] = "";
  if (rule && rule->ProbeRadius(1, 8) < rule->ProbeRadius(0, 8))
    std::snprintf(turned, sizeof turned, " (turned %d)", rule->turned_distance);
  char band[32] = "";
  if (two) std::snprintf(band, sizeof band, " + band %d", rule->second_distance);
  std::printf("| %d%s%s%s%s%s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %zu / %zu | %.2f s |\n",
              distance, rule ? " verified" : "", turned, band,
              rule && rule->bridge_distance >= 0 ? " + bridges" : "",
              !rule              ? ""
              : thumb_shift == 0 ? " (worst case: stored thumbnails of the probe's picture)"
                                 : " (look-alikes: stored thumbnails of other pictures)",
              blocks, double(buckets) / costed, double(entries) / costed, lookups / elapsed,
              probes / elapsed, linear_per_item / (elapsed / lookups), found, linear_found, build);
}

void CommitSpeed(const std::vector<Hashed>& items, const std::vector<uint64_t>& hashes,
                 const std::vector<uint64_t>& seconds, size_t stored, const fs::path& store_dir,
                 bool verify, int candidate, int second, int turned) {
  // Commit time per item through the catalog (one transaction each, as the crawl's commit) on
  // two stores in one run: `big` filled to `stored` items (in transactions of 10 000, the fast
  // path), `small` and `small2` at about 1 000. Timed in interleaved rounds (small, big, small2)
  // so a change of load hits all three alike; small vs small2 shows the noise.
  fs::create_directories(store_dir);
  const auto thumbs = RealThumbs(items);
  const auto second_thumbs = RealThumbs(items, /*second=*/true);
  struct Bench {
    fs::path path;
    std::unique_ptr<memes::store::Catalog> catalog;
    size_t next = 0;  // the next item number to add
  };
  auto open = [&](const std::string& name) -> std::optional<Bench> {
    Bench bench;
    bench.path =
        store_dir / ("dedupe-bench-" + std::to_string(::getpid()) + "-" + name + ".sqlite");
    memes::store::CatalogOptions options;
    options.rule.verify = verify;
    options.rule.candidate_distance = candidate;
    options.rule.second_distance = second;
    options.rule.second_near_distance = std::min(second, options.rule.second_near_distance);
    options.rule.turned_distance = turned;
    auto catalog = memes::store::Catalog::Open(bench.path, options);
    if (!catalog.ok()) {
      std::printf("catalog: %s\n", catalog.status().ToString().c_str());
      return std::nullopt;
    }
    bench.catalog = std::move(*catalog);
    return bench;
  };
  // Item i as the crawl would add it: one frame (hash i mod the set, its real thumbnail), 8
  // orientation probes; item numbers are unique across the stores (distinct blobs).
  auto add = [&](Bench& bench, size_t i) {
    char blob[65];
    std::snprintf(blob, sizeof blob, "%016llx%016llx%016llx%016llx",
                  (unsigned long long)SplitMix64(i), (unsigned long long)SplitMix64(i + 1),
                  (unsigned long long)SplitMix64(i + 2), (unsigned long long)SplitMix64(i + 3));
    const size_t k_hash = i % hashes.size();
    const auto thumb = thumbs[k_hash % thumbs.size()];
    const auto second_thumb = second_thumbs[k_hash % second_thumbs.size()];
    memes::store::FrameRecord frame{0, 0, hashes[k_hash], {}, seconds[k_hash], {}};
    if (verify) {
      frame.thumb.assign(thumb.begin(), thumb.end());
      frame.thumb2.assign(second_thumb.begin(), second_thumb.end());
    }
    std::vector<uint64_t> probes(8), second_probes(8);
    std::vector<uint8_t> probe_thumbs, probe_second_thumbs;
    for (int k = 0; k < 8; ++k) {
      probes[k] = hashes[k_hash] ^ SplitMix64(i * 8 + k);
      second_probes[k] = seconds[k_hash] ^ SplitMix64(i * 8 + k + 4);
      if (verify) {
        probe_thumbs.insert(probe_thumbs.end(), thumb.begin(), thumb.end());
        probe_second_thumbs.insert(probe_second_thumbs.end(), second_thumb.begin(),
                                   second_thumb.end());
      }
    }
    probes[0] = frame.phash;
    second_probes[0] = seconds[k_hash];
    auto added = bench.catalog->AddItem({blob, 1, "png", 32, 32, 1, memes::store::kItemOk, ""},
                                        nullptr, std::span(&frame, 1), "x", probes, probe_thumbs,
                                        second_probes, probe_second_thumbs);
    if (!added.ok()) {
      std::printf("add: %s\n", added.status().ToString().c_str());
      return memes::store::AddResult{};
    }
    return *added;
  };
  auto fill = [&](Bench& bench, size_t base, size_t to) {
    while (bench.next < to) {
      const size_t until = std::min(to, bench.next + 10000);
      const auto status = bench.catalog->InTransaction([&] {
        for (; bench.next < until; ++bench.next) add(bench, base + bench.next);
        return memes::Status();
      });
      if (!status.ok()) std::printf("fill: %s\n", status.ToString().c_str());
    }
  };
  // Per item: AddItem's own split of its time (AddResult): the lookup before the transaction
  // and the write transaction. Returns {AddItem, lookup, transaction} seconds.
  auto timed = [&](Bench& bench, size_t base, size_t count) {
    std::array<double, 3> sum{};
    for (size_t k = 0; k < count; ++k) {
      const auto t0 = Clock::now();
      const memes::store::AddResult added = add(bench, base + bench.next++);
      sum[0] += Seconds(t0);
      sum[1] += added.lookup_seconds;
      sum[2] += added.transaction_seconds;
    }
    return sum;
  };
  auto small = open("small"), small2 = open("small2"), big = open("big");
  if (!small || !small2 || !big) return;
  // Disjoint item numbers per store, so no blob repeats.
  const size_t base_small = 0, base_small2 = 1u << 28, base_big = 1u << 29;
  fill(*small, base_small, 1000);
  fill(*small2, base_small2, 1000);
  const auto fill_start = Clock::now();
  fill(*big, base_big, stored);
  const double fill_seconds = Seconds(fill_start);
  constexpr int kRounds = 10, kPerRound = 100;
  // {AddItem, lookup, transaction} totals per store.
  std::array<double, 3> t_small{}, t_small2{}, t_big{};
  auto accumulate = [](std::array<double, 3>& sum, const std::array<double, 3>& t) {
    for (int k = 0; k < 3; ++k) sum[k] += t[k];
  };
  for (int round = 0; round < kRounds; ++round) {
    accumulate(t_small, timed(*small, base_small, kPerRound));
    accumulate(t_big, timed(*big, base_big, kPerRound));
    accumulate(t_small2, timed(*small2, base_small2, kPerRound));
  }
  const double us = 1e6 / (kRounds * kPerRound);
  const std::string name =
      !verify ? "hash"
              : "verified, content " + std::to_string(candidate) +
                    (turned >= 0 && turned < candidate ? " (turned " + std::to_string(turned) + ")"
                                                       : std::string()) +
                    (second >= 0 ? " + band " + std::to_string(second) : std::string());
  std::printf(
      "| %s | %.0f / %.0f / %.0f us | %.0f / %.0f / %.0f us | %zu: %.0f / %.0f / %.0f us | "
      "%.2f | %.2f | %.2f | %.0f s |\n",
      name.c_str(), t_small[1] * us, t_small[2] * us, t_small[0] * us, t_small2[1] * us,
      t_small2[2] * us, t_small2[0] * us, stored, t_big[1] * us, t_big[2] * us, t_big[0] * us,
      t_big[2] / t_small[2], t_big[0] / t_small[0], t_small2[2] / t_small[2], fill_seconds);
  for (Bench* bench : {&*small, &*small2, &*big}) {
    bench->catalog.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(bench->path.string() + suffix);
  }
}

}  // namespace

}  // namespace memes::bench
