// dedupe_bench --variants 1: candidate signatures (whole frame or content window, mean or
// median threshold, blur) measured pair by pair on the labelled set, before any grouping.
// Thread-safety: single-threaded bench code.
#pragma once

#include <vector>

#include "bench/dedupe_bench_data.h"

namespace memes::bench {

// Prints the share of each transform's pairs within 6/8/10/12 bits per variant.
void SignatureVariants(const std::vector<BenchItem>& set);

}  // namespace memes::bench
