// What every evaluation of a checkpoint on a shard folder's test split starts with (RunEval,
// PredictTestProbabilities): the device, the thread counts, the checkpoint, the shards and the
// model on its device in eval mode. Internal to train/ (includes LibTorch); defined in
// evaluate.cpp. Thread-safety: an EvalPrologue sets LibTorch's global thread count and holds
// oneTBB's allowed parallelism while it lives; one at a time per process.
#pragma once

#include <oneapi/tbb/global_control.h>

#include <exception>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "train/batch_assembly.h"
#include "train/checkpoint.h"
#include "train/shard_dataset.h"

namespace memes::train {

struct EvalPrologueOptions {
  std::filesystem::path model;   // a checkpoint
  std::filesystem::path shards;  // only its test split is opened (and checked)
  std::string device = "auto";
  int threads = 0;
  bool verify_hashes = true;
  // Appended to the message when the shard folder is corrupt (say how to check or skip it).
  std::string corrupt_shards_hint;
};

struct EvalPrologue {
  torch::Device device;
  bool cuda = false;
  int threads = 1;                                   // what ConfigureThreads set
  std::unique_ptr<tbb::global_control> tbb_threads;  // oneTBB capped at `threads` while held
  LoadedModel loaded;  // loaded.model: on `device` (channels-last on CUDA), in eval mode
  ShardDataset data;   // the test split of `shards`
  // The model's own normalisation, not the shards': predictions must see what training saw.
  NormalizeTable table;
};

// Errors: an unknown or unavailable device, an unreadable checkpoint, an unreadable or corrupt
// shard folder. Checks neither classes nor image size against the model: callers differ in what
// they allow. Requires: the caller holds a torch::NoGradGuard while it runs the model.
Result<EvalPrologue> OpenEvalPrologue(const EvalPrologueOptions& options);

// No exception leaves train/: LibTorch reports misuse by throwing c10::Error, whose what()
// carries a C++ stack trace no user should read. `body` returns a Status or a Result<T>.
template <typename Body>
auto CatchLibTorch(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& error) {
    return Internal(std::string("LibTorch: ") + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Internal(error.what());
  }
}

}  // namespace memes::train
