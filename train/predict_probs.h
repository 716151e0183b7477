// Class probabilities of a checkpoint on a shard folder's test split, one row per record: what
// `memes review` scores items with (out-of-fold predictions). LibTorch-free on purpose:
// pipelines/ includes it and reaches the function through TrainEntryPoints (pipelines/cli.h).
// Thread-safety: like RunEval (sets LibTorch's global thread count); one call at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace memes::train {

struct TestProbabilitiesOptions {
  std::filesystem::path model;   // a checkpoint (last.pt, best.pt)
  std::filesystem::path shards;  // its test_batch.bin is predicted, record by record
  int batch_size = 256;
  std::string device = "auto";
  int threads = 0;
  bool verify_hashes = true;
};

struct TestProbabilities {
  std::vector<std::string> classes;  // the model's classes (== the shards'), label byte order
  int64_t records = 0;
  // (records, classes) row-major, test_batch.bin's record order; each row is the mean of the
  // softmax of the image and of its horizontal mirror (training augments with flips), sums to 1.
  std::vector<float> probabilities;
};

// Errors: an unreadable checkpoint or shard folder; shards whose class names or image size are
// not the model's (kInvalidArgument: the rows would mean other classes).
Result<TestProbabilities> PredictTestProbabilities(const TestProbabilitiesOptions& options);

}  // namespace memes::train
