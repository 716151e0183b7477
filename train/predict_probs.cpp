#include "train/predict_probs.h"

#include <numeric>

#include "train/batch_prefetcher.h"
#include "train/eval_prologue.h"
#include "train/model.h"
#include "train/recipe.h"

namespace memes::train {

namespace {

Result<TestProbabilities> PredictChecked(const TestProbabilitiesOptions& options) {
  EvalPrologueOptions prologue_options;
  prologue_options.model = options.model;
  prologue_options.shards = options.shards;
  prologue_options.device = options.device;
  prologue_options.threads = options.threads;
  prologue_options.verify_hashes = options.verify_hashes;
  MEMES_ASSIGN_OR_RETURN(EvalPrologue prologue, OpenEvalPrologue(prologue_options));
  const ShardDataset& data = prologue.data;
  const auto& meta = prologue.loaded.meta;
  const bool cuda = prologue.cuda;
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

  SeResNeXt model = prologue.loaded.model;
  // The views `memes eval` scores this checkpoint with (evaluate.cpp): a fast-recipe model sees
  // its 6-view test-time augmentation, as its training's test accuracy did; a classic one the
  // image and its mirror (training augments with flips).
  const int tta_level = meta.config.recipe == "fast" ? kFastTtaLevel : 1;
  result.views = tta_level == kFastTtaLevel ? kFastTtaViews : 2;
  torch::NoGradGuard no_grad;
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  // Unshuffled: batches arrive in record order, so rows line up with index.tsv.
  BatchPrefetcher batches(data, Split::kTest, std::move(order), options.batch_size, false, 0,
                          prologue.table, cuda, 0, cuda ? prologue.threads : 1);
  while (auto batch = batches.Next()) {
    auto images = batch->images.to(prologue.device, cuda);  // (N, 3, S, S)
    if (cuda) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    // Level 1 averages logits, not probabilities: the same rule as the 6 views (and as eval).
    auto probabilities =
        ForwardTta(model, images, tta_level).to(torch::kCPU, torch::kFloat).softmax(1).contiguous();
    const float* values = probabilities.data_ptr<float>();  // (N, C)
    result.probabilities.insert(result.probabilities.end(), values, values + probabilities.numel());
  }
  if (result.probabilities.size() != count * classes) {
    return Internal("predicted " + std::to_string(result.probabilities.size() / classes) + " of " +
                    std::to_string(count) + " test records");
  }
  return result;
}

}  // namespace

Result<TestProbabilities> PredictTestProbabilities(const TestProbabilitiesOptions& options) {
  return CatchLibTorch([&] { return PredictChecked(options); });
}

}  // namespace memes::train
