// Loader alone vs the model it feeds: images/s of batch assembly (mmap'd shards -> augmented,
// normalised float batches, oneTBB) against images/s of training the `small` preset, on the
// same threads, in one run. The loader must be >= 20x the model and >= 100 000 images/s.
//
// Usage: train_loader_bench [SHARDS] [--threads N] [--batches N]
//   Without SHARDS it writes 50 000 synthetic 32x32 records to a temporary folder.
#include <oneapi/tbb/global_control.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "train/batch_assembly.h"
#include "train/batch_prefetcher.h"
#include "train/model.h"
#include "train/test_shards.h"

using namespace memes::train;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  fs::path shards;
  int threads = 2;
  int batches = 2000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--batches") && i + 1 < argc) {
      batches = std::stoi(argv[++i]);
    } else {
      shards = argv[i];
    }
  }
  fs::path temporary;
  if (shards.empty()) {
    temporary = fs::temp_directory_path() / ("memes_loader_bench_" + std::to_string(::getpid()));
    testing::ShardFolderSpec spec;
    spec.classes = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    for (int s = 0; s < 5; ++s)
      spec.train_shards.push_back(testing::SyntheticImages(10000, 10, 32, s * 10000));
    spec.test = testing::SyntheticImages(100, 10, 32, 99);
    testing::WriteShardFolder(temporary, spec);
    shards = temporary;
  }
  auto data = ShardDataset::Open(shards);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  ConfigureThreads(threads);
  tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, threads);
  const int batch_size = 128;
  const size_t records = data->size(Split::kTrain);
  std::vector<uint32_t> order(records);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  const NormalizeTable table(data->mean(), data->std());

  // 1. AssembleBatch alone, into one reused buffer (what the prefetcher does per batch).
  std::vector<float> out(static_cast<size_t>(batch_size) * 3 * 32 * 32);
  std::vector<int64_t> labels(batch_size);
  auto started = std::chrono::steady_clock::now();
  for (int b = 0; b < batches; ++b) {
    const size_t begin = (static_cast<size_t>(b) * batch_size) % (records - batch_size);
    AssembleBatch(*data, Split::kTrain, std::span<const uint32_t>(order.data() + begin, batch_size),
                  table, true, AugmentOptions{}, b, out, labels);
  }
  const double assemble_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double assemble_rate = batches * static_cast<double>(batch_size) / assemble_seconds;

  // 2. The prefetcher (fresh tensor per batch, background thread), drained as fast as possible.
  started = std::chrono::steady_clock::now();
  int64_t prefetched = 0;
  {
    BatchPrefetcher prefetcher(*data, Split::kTrain, order, batch_size, true, 1, table, false, 0,
                               threads);
    while (auto batch = prefetcher.Next()) prefetched += batch->labels.size(0);
  }
  const double prefetch_rate =
      prefetched /
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // 3. The model it feeds: training steps of `small` on real batches.
  auto config = PresetConfig("small", data->num_classes());
  SeResNeXt model(*config);
  model->train();
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true));
  auto images = torch::from_blob(out.data(), {batch_size, 3, 32, 32});
  auto targets = torch::from_blob(labels.data(), {batch_size}, torch::kLong);
  const int warmup = 3, steps = 15;
  double model_seconds = 0;
  for (int step = 0; step < warmup + steps; ++step) {
    const auto t = std::chrono::steady_clock::now();
    auto loss = torch::nn::functional::cross_entropy(model->forward(images), targets);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step >= warmup)
      model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  const double model_rate = steps * static_cast<double>(batch_size) / model_seconds;

  std::printf("shards %s: %zu train records, %d threads, batch %d\n", shards.string().c_str(),
              records, threads, batch_size);
  std::printf("loader (AssembleBatch, crop+flip+normalise): %.0f images/s over %d batches\n",
              assemble_rate, batches);
  std::printf("loader (BatchPrefetcher, one epoch, new tensor per batch): %.0f images/s\n",
              prefetch_rate);
  std::printf("model training, preset small: %.0f images/s\n", model_rate);
  std::printf("ratio loader / model: %.0fx (needs >= 20x); loader >= 100000 images/s: %s\n",
              assemble_rate / model_rate, assemble_rate >= 100000 ? "yes" : "NO");
  if (!temporary.empty()) fs::remove_all(temporary);
  return 0;
}
