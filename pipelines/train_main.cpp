// memes-train: the `memes` command line with LibTorch linked in. `memes` execs it for the
// commands that need a model (pipelines/cli.h); it is not meant to be called by name.
#include "pipelines/cli.h"
#include "train/library_versions.h"
#include "train/predict_probs.h"
#include "train/train_api.h"

int main(int argc, char** argv) {
  memes::pipelines::TrainEntryPoints entry_points;
  entry_points.train = &memes::train::RunTraining;
  entry_points.eval = &memes::train::RunEval;
  entry_points.predict = &memes::train::RunPredict;
  entry_points.test_probabilities = &memes::train::PredictTestProbabilities;
  entry_points.versions = &memes::train::LibraryVersions;
  memes::pipelines::InstallTrainEntryPoints(entry_points);
  return memes::pipelines::RunCli(argc, argv);
}
