// memes-train: the `memes` command line with LibTorch linked in. `memes` execs it for the
// commands that need a model (pipelines/cli.h); it is not meant to be called by name.
#include <unistd.h>

#include <cstdlib>

#include "pipelines/cli.h"
#include "train/library_versions.h"
#include "train/predict_probs.h"
#include "train/train_api.h"

namespace {

// Debian's LibTorch runs its intra-op pool on GNU OpenMP, whose idle threads spin at each
// barrier for ~300 000 iterations before sleeping. Between the many small ops of a training step
// a spinning thread keeps its core busy, so on a loaded machine (or beside the batch prefetcher)
// `--threads 2` ran slower than `--threads 1`. libgomp reads OMP_WAIT_POLICY once, when it is
// loaded, before main: so the variable is set here and the process re-executes itself once.
// A policy the user set is kept (OMP_WAIT_POLICY=active restores spinning).
void ReexecWithPassiveOpenMp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
  // execv failed (no /proc): run on, with libgomp's default policy.
}

}  // namespace

int main(int argc, char** argv) {
  ReexecWithPassiveOpenMp(argv);
  memes::pipelines::TrainEntryPoints entry_points;
  entry_points.train = &memes::train::RunTraining;
  entry_points.eval = &memes::train::RunEval;
  entry_points.predict = &memes::train::RunPredict;
  entry_points.test_probabilities = &memes::train::PredictTestProbabilities;
  entry_points.versions = &memes::train::LibraryVersions;
  memes::pipelines::InstallTrainEntryPoints(entry_points);
  return memes::pipelines::RunCli(argc, argv);
}
