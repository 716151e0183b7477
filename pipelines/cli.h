// The `memes` command line: parses argv with CLI11, sets logging, runs one subcommand.
//
// Two executables share it. `memes` has no LibTorch in it, so every command that needs no model
// starts in milliseconds (loading LibTorch costs ~0.7 s). `memes-train`, built beside it, is the
// same command line plus LibTorch; `memes` parses and checks the arguments of train, eval,
// predict and demo (and --version, which names the LibTorch version) and then execs memes-train
// with the same arguments. memes-train installs its entry points before calling RunCli.
// Thread-safety: call from the main thread; InstallTrainEntryPoints before RunCli.
#pragma once

#include <vector>

#include "core/status.h"
#include "core/version.h"
#include "train/predict_probs.h"
#include "train/train_api.h"

namespace memes::pipelines {

// train/'s entry points, reached through pointers so that `memes` does not link LibTorch.
struct TrainEntryPoints {
  Status (*train)(const train::TrainOptions&) = nullptr;
  Status (*eval)(const train::EvalOptions&) = nullptr;
  Status (*predict)(const train::PredictOptions&) = nullptr;
  Result<train::TestProbabilities> (*test_probabilities)(const train::TestProbabilitiesOptions&) =
      nullptr;                                          // memes review
  std::vector<LibraryVersion> (*versions)() = nullptr;  // LibTorch's version, CUDA or not
};

// Called once by memes-train's main(). Without it (in `memes`), the commands that need a model
// exec memes-train.
void InstallTrainEntryPoints(const TrainEntryPoints& entry_points);
// The installed entry points. Requires: InstallTrainEntryPoints was called (a command that needs
// them is only run in memes-train).
const TrainEntryPoints& Train();

// Returns the process exit status: 0 ok, 1 some items failed, 2 usage/configuration error.
// In `memes`, a command that needs LibTorch does not return: the process becomes memes-train.
int RunCli(int argc, char** argv);

}  // namespace memes::pipelines
