#include "train/predict_probs.h"

#include <oneapi/tbb/global_control.h>

#include <numeric>

#include "train/batch_prefetcher.h"
#include "train/checkpoint.h"

namespace memes::train {

Result<TestProbabilities> PredictTestProbabilities(const TestProbabilitiesOptions& options) {
  MEMES_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options.device));
  const bool cuda = device.is_cuda();
  const int threads = ConfigureThreads(options.threads);
  tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, threads);
  MEMES_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModel(options.model));
  ShardOpenOptions open_options;
  open_options.verify_hashes = options.verify_hashes;
  open_options.load_train = false;
  MEMES_ASSIGN_OR_RETURN(ShardDataset data, ShardDataset::Open(options.shards, open_options));
  const auto& meta = loaded.meta;
  if (data.classes() != meta.classes || data.image_size() != meta.config.image_size) {
    return InvalidArgument(
        "the shards' classes or image size are not the model's (" + options.model.string() + ")",
        options.shards.string());
  }
  const size_t count = data.size(Split::kTest);
  const int64_t classes = meta.config.num_classes;
  TestProbabilities result;
  result.classes = meta.classes;
  result.records = static_cast<int64_t>(count);
  result.probabilities.reserve(count * classes);

  SeResNeXt model = loaded.model;
  model->to(device);
  if (cuda) ToChannelsLast(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  // The model's own normalisation, not the shards': predictions must see what training saw.
  const NormalizeTable table(meta.mean, meta.std);
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  // Unshuffled: batches arrive in record order, so rows line up with index.tsv.
  BatchPrefetcher batches(data, Split::kTest, std::move(order), options.batch_size, false, 0, table,
                          cuda, 0, cuda ? threads : 1);
  while (auto batch = batches.Next()) {
    auto images = batch->images.to(device, cuda);  // (N, 3, S, S)
    if (cuda) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    auto plain = model->forward(images).to(torch::kCPU, torch::kFloat).softmax(1);  // (N, C)
    auto mirrored =
        model->forward(images.flip({3})).to(torch::kCPU, torch::kFloat).softmax(1);  // (N, C)
    auto mean = ((plain + mirrored) * 0.5).contiguous();                             // (N, C)
    const float* values = mean.data_ptr<float>();
    result.probabilities.insert(result.probabilities.end(), values, values + mean.numel());
  }
  if (result.probabilities.size() != count * classes) {
    return Internal("predicted " + std::to_string(result.probabilities.size() / classes) + " of " +
                    std::to_string(count) + " test records");
  }
  return result;
}

}  // namespace memes::train
