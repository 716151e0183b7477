// train/'s public surface for the CLI: plain option structs and three entry points. LibTorch-free
// on purpose (pipelines/ includes it; only train/ sees LibTorch).
// Thread-safety: each Run* call owns its model and threads; run one at a time per process
// (they set LibTorch's global thread count and, for training, a SIGINT handler).
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace memes::train {

struct TrainOptions {
  std::filesystem::path shards;   // folder of data_batch_*.bin, test_batch.bin (+ dataset.json)
  std::filesystem::path run_dir;  // checkpoints, metrics.jsonl, curves.png go here
  std::string preset = "small";   // se-resnext29-8x64 | small | tiny | fast
  // Overrides of the preset (0 or empty: keep the preset's).
  std::vector<int> blocks_per_stage;
  std::vector<int> widths;
  int cardinality = 0;
  int group_width = 0;
  int stem_channels = 0;

  int epochs = 30;
  int batch_size = 128;
  double learning_rate = 0.1;  // peak learning rate
  double momentum = 0.9;       // Nesterov
  double weight_decay = 5e-4;  // not applied to BatchNorm parameters and biases
  double label_smoothing = 0.1;
  std::string schedule = "cosine";   // step | cosine | onecycle | triangular
  double warmup_epochs = 1;          // cosine: linear warm-up; onecycle: rise phase
  std::vector<int> step_milestones;  // step: ÷10 at these epochs (empty: 50% and 75%)
  bool augment = true;               // random crop (4-pixel padding) + horizontal flip
  uint64_t seed = 1;
  std::string device = "auto";  // auto | cpu | cuda
  // 0 (auto): LibTorch's pool runs 1 thread or all cores, whichever steps measure faster, timed
  // again as the load changes (train/thread_chooser.h; on CUDA all cores). N: fixed, and the
  // only way to bit-identical reruns (the thread count changes the order of float sums).
  // Bounds the loader's oneTBB pool too.
  int threads = 0;
  bool resume = false;      // continue from run_dir/last.pt with run_dir/run.json's recipe
  bool force = false;       // a run already in run_dir is moved aside (never deleted) first
  int64_t limit_train = 0;  // >0: use only the first N training records (tests, smoke runs)
  int64_t limit_test = 0;
  int64_t stop_after_steps = 0;  // >0: save and stop after this many steps in all, as SIGINT does
  bool verify_hashes = true;
  bool progress = true;
  // Data-parallel runs (one process per rank; see train/distributed.h and docs/scale.md):
  // batch_size is the global batch, split evenly over the ranks.
  bool sync_bn = false;            // BatchNorm statistics of the global batch, not each rank's
  int dist_timeout_seconds = 600;  // a rank waits this long for the others, then fails
  // Recipe and CPU speed (train/recipe.h, train/README.md).
  std::string recipe;                   // classic | fast; empty: the preset's (fast for "fast")
  std::vector<std::string> recipe_off;  // fast recipe parts switched off (ModelConfig::recipe_off)
  std::string precision = "fp32";       // fp32 | bf16 (CPU autocast; needs AVX512-BF16 or AMX)
  bool channels_last = false;           // CPU: channels-last activations and weights (CUDA: always)
  // Test-time augmentation (fast recipe) on every epoch's test, not only the last epoch's. The
  // epochs before the last are scored on the plain view by default: a curve to watch at 1/6 of
  // the cost (on the full Fashion-MNIST the 6 views were ~30 s of each ~2 min epoch on 2 cores);
  // the last epoch is scored as `memes eval` scores the model.
  bool tta_every_epoch = false;
  // Options the user gave on the command line ("--epochs", "--lr", …), so that a resumed run can
  // tell an option given again from a default. Programmatic callers list what they set.
  std::set<std::string> given_options;
  bool Given(const std::string& name) const { return given_options.count(name) > 0; }
};

// Trains; writes run_dir/{run.json, last.pt, best.pt, metrics.jsonl, curves.png}, each atomically.
// A run_dir already holding a run is an InvalidArgument unless `resume` (continue it) or `force`
// (move it aside first). Returns kCancelled after a SIGINT or stop_after_steps (the checkpoint of
// where it stopped is saved first).
Status RunTraining(const TrainOptions& options);

struct EvalOptions {
  std::filesystem::path model;    // a checkpoint (last.pt, best.pt)
  std::filesystem::path shards;   // evaluates the test split
  std::filesystem::path out_dir;  // confusion.png, eval.json (empty: beside the model)
  int batch_size = 256;
  std::string device = "auto";
  int threads = 0;
  int64_t limit = 0;
  bool verify_hashes = true;  // sha256 of the files eval reads (test_batch.bin), not the others
  bool json = false;          // print eval.json to stdout instead of tables
  bool allow_class_mismatch = false;  // evaluate although the shards name other classes
};
Status RunEval(const EvalOptions& options);

struct PredictOptions {
  std::filesystem::path model;
  // PNG, JPEG, GIF, WebP… anything transform/ decodes; a folder stands for the image files below
  // it (recursively, sorted by path; see ImageFilesIn).
  std::vector<std::filesystem::path> files;
  int top_k = 3;
  bool json = false;  // one JSON object per line and file (JSON Lines)
  std::string device = "auto";
  int threads = 0;
};
// Prints top-k classes per file, trying every file. A file that cannot be read or decoded is
// reported and counted; then the result is a kCorrupt "N of M files failed".
Status RunPredict(const PredictOptions& options);

// The files a folder argument of predict stands for: regular files below `folder` (recursively,
// following no symlinked folders) whose extension is an image or video format transform/ decodes
// (case-insensitive), hidden names (".x") skipped, sorted by path.
Result<std::vector<std::filesystem::path>> ImageFilesIn(const std::filesystem::path& folder);

}  // namespace memes::train
