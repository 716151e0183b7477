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
  // Views each record was predicted on: what `memes eval` scores the checkpoint with, 6 for a
  // fast-recipe model (ForwardTta at kFastTtaLevel: the image, its mirror, both shifted by one
  // pixel either way), 2 otherwise (the image and its mirror).
  int views = 0;
  // (records, classes) row-major, test_batch.bin's record order; each row is the softmax of the
  // views' weighted mean logits (train/model.h ForwardTta), so for a fast-recipe model it is
  // the probability `memes eval` takes its top-1 and loss from. Sums to 1.
  std::vector<float> probabilities;
};

// Errors: an unreadable checkpoint or shard folder; shards whose class names or image size are
// not the model's (kInvalidArgument: the rows would mean other classes).
Result<TestProbabilities> PredictTestProbabilities(const TestProbabilitiesOptions& options);

}  // namespace memes::train
