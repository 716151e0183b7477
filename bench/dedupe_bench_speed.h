// The speed half of dedupe_bench: the founder index's lookups/s against many stored hashes and the
// catalog's commit time per item at 1 000 and at `stored` items (dedupe_bench.cpp's header says
// what the whole bench prints). Thread-safety: single-threaded bench code.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "bench/dedupe_bench_data.h"

namespace memes::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// An item of the labelled set with its signatures, computed once for every grouping rule.
struct Hashed {
  const BenchItem* item;
  std::vector<uint64_t> own;                       // kept frames' phashes
  std::vector<uint64_t> probes;                    // kept frames × 8 orientations
  std::vector<uint8_t> own_thumbs, probe_thumbs;   // verification thumbnails beside them
  std::vector<uint64_t> own_second, probe_second;  // second hashes (transform::BandHashes)
  std::vector<uint8_t> own_second_thumbs, probe_second_thumbs;  // transform::BandThumbsOf
};

// Adds one kept frame (planar 3×32×32) to `item`: its content hash and band hash, each with its
// thumbnail, as founder data (orientation 0) and as the eight orientation probes.
void AppendFrame(std::span<const uint8_t> planar, Hashed& item);

// Prints the index-speed table (and, when `commit`, the commit-time table into a store under
// store_dir) against `stored` hashes shaped like the items' real ones.
void SpeedFigures(const std::vector<Hashed>& items, size_t stored,
                  const std::filesystem::path& store_dir, bool commit);

}  // namespace memes::bench
