// `--recipe-off`: each switch of the fast recipe's ablation changes what it names, and the
// checkpoint keeps the switches so eval scores the model as training did.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/model.h"
#include "train/recipe.h"
#include "train/test_shards.h"
#include "train/train_api.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

ModelConfig FastConfig(std::vector<std::string> off) {
  auto config = PresetConfig("fast", 4, 32);
  EXPECT_TRUE(config.ok());
  config->widths = {8, 16, 16};
  config->recipe_off = std::move(off);
  EXPECT_TRUE(ValidateConfig(*config).ok()) << ValidateConfig(*config).ToString();
  return *config;
}

torch::Tensor Param(SeResNeXt& model, const std::string& name) {
  return model->named_parameters()[name];
}

TEST(RecipeOffTest, WhiteningOffLeavesTheFirstLayerTrainable) {
  SeResNeXt full(FastConfig({}));
  SeResNeXt off(FastConfig({"whitening"}));
  EXPECT_FALSE(full->whitening()->weight.requires_grad());
  EXPECT_TRUE(off->whitening()->weight.requires_grad());
  EXPECT_EQ(off->whitening()->weight.sizes(), full->whitening()->weight.sizes());
}

TEST(RecipeOffTest, DiracOffKeepsTheDefaultInit) {
  torch::manual_seed(1);
  SeResNeXt full(FastConfig({}));
  torch::manual_seed(1);
  SeResNeXt off(FastConfig({"dirac"}));
  auto identity = torch::zeros({8, 8, 3, 3});
  torch::nn::init::dirac_(identity);
  EXPECT_TRUE(
      torch::equal(Param(full, "groups.1.conv1.weight").narrow(0, 0, 8).narrow(1, 0, 8), identity));
  EXPECT_FALSE(
      torch::equal(Param(off, "groups.1.conv1.weight").narrow(0, 0, 8).narrow(1, 0, 8), identity));
}

// On SE-ResNeXt the fast recipe keeps He init (dirac made `small --recipe fast` learn worse) and
// the BatchNorm biases the common rate (airbench's 64x kept it at chance).
TEST(RecipeOffTest, SeResNeXtWithTheFastRecipeKeepsHeInitAndTheCommonBiasRate) {
  auto config = PresetConfig("tiny", 4, 32);
  ASSERT_TRUE(config.ok());
  config->recipe = "fast";
  ASSERT_TRUE(ValidateConfig(*config).ok());
  SeResNeXt model(*config);
  for (const auto& named : model->named_modules("", false)) {
    auto* conv = named.value()->as<torch::nn::Conv2d>();
    if (!conv || conv->options.groups() != 1) continue;
    const auto& w = conv->weight;  // (out, in, k, k)
    const int64_t n = std::min(w.size(0), w.size(1));
    auto identity = torch::zeros_like(w.narrow(0, 0, n));
    torch::nn::init::dirac_(identity);
    EXPECT_FALSE(torch::equal(w.narrow(0, 0, n), identity)) << named.key();
  }
  EXPECT_FALSE(model->named_parameters()["stem_bn.weight"].requires_grad());
  EXPECT_DOUBLE_EQ(BatchNormBiasLrScale(*config), 1.0);
  EXPECT_DOUBLE_EQ(BatchNormBiasLrScale(FastConfig({})), kFastBiasLrScale);
  EXPECT_DOUBLE_EQ(BatchNormBiasLrScale(FastConfig({"bn"})), 1.0);
}

TEST(RecipeOffTest, BnOffLetsBatchNormWeightsLearnWithLibTorchDefaults) {
  SeResNeXt full(FastConfig({}));
  SeResNeXt off(FastConfig({"bn"}));
  EXPECT_FALSE(Param(full, "groups.0.norm1.weight").requires_grad());
  EXPECT_TRUE(Param(off, "groups.0.norm1.weight").requires_grad());
  for (auto& module : off->modules(false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.1);
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
    }
  }
}

TEST(RecipeOffTest, LookaheadOffHasNoLookaheadBuffers) {
  SeResNeXt full(FastConfig({}));
  SeResNeXt off(FastConfig({"lookahead"}));
  EXPECT_FALSE(full->LookaheadBuffers().empty());
  EXPECT_TRUE(off->LookaheadBuffers().empty());
}

TEST(RecipeOffTest, ConfigKeepsTheSwitchesAndRefusesUnknownOnes) {
  const ModelConfig config = FastConfig({"dirac", "tta"});
  auto back = ConfigFromJson(ConfigToJson(config));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->recipe_off, config.recipe_off);
  EXPECT_FALSE(back->RecipeHas("tta"));
  EXPECT_TRUE(back->RecipeHas("whitening"));
  ModelConfig unknown = FastConfig({});
  unknown.recipe_off = {"mixup"};
  EXPECT_NE(ValidateConfig(unknown).ToString().find("unknown part 'mixup'"), std::string::npos);
  auto classic = PresetConfig("small", 4, 32);
  ASSERT_TRUE(classic.ok());
  classic->recipe_off = {"tta"};
  EXPECT_FALSE(ValidateConfig(*classic).ok());
  EXPECT_FALSE(classic->RecipeHas("tta"));  // classic has none of the parts
}

// Trained with lookahead and TTA off: the checkpoint has no lookahead state and records the
// switches; eval then scores one view and reports what training reported.
TEST(RecipeOffTest, TrainingAndEvalFollowTheSwitches) {
  const fs::path root =
      fs::temp_directory_path() / ("memes_recipe_off_" + std::to_string(getpid()));
  fs::remove_all(root);
  testing::ShardFolderSpec spec;
  spec.classes = {"kumamon", "shiba", "doge", "pepe"};
  const auto images = testing::SyntheticImages(32, 4, 32, 11);
  spec.train_shards = {images};
  spec.test = images;
  ASSERT_TRUE(testing::WriteShardFolder(root / "shards", spec));
  TrainOptions options;
  options.shards = root / "shards";
  options.run_dir = root / "run";
  options.preset = "fast";
  options.widths = {8, 16, 16};
  options.batch_size = 16;
  options.epochs = 2;
  options.recipe_off = {"tta", "lookahead"};
  options.given_options = {"--batch-size", "--epochs", "--widths", "--recipe-off"};
  options.threads = 1;
  options.progress = false;
  ASSERT_TRUE(RunTraining(options).ok());
  auto loaded = LoadModel(options.run_dir / "last.pt");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->meta.config.recipe_off, (std::vector<std::string>{"lookahead", "tta"}));
  EXPECT_TRUE(loaded->model->LookaheadBuffers().empty());
  for (const auto& named : loaded->model->named_buffers()) {
    EXPECT_FALSE(named.key().starts_with("lookahead.")) << named.key();
  }
  std::ifstream metrics(options.run_dir / "metrics.jsonl");
  std::string line, last;
  while (std::getline(metrics, line)) last = line;
  EvalOptions eval;
  eval.model = options.run_dir / "last.pt";
  eval.shards = root / "shards";
  eval.out_dir = root / "eval";
  eval.threads = 1;
  eval.json = true;
  ASSERT_TRUE(RunEval(eval).ok());
  std::ifstream report_file(eval.out_dir / "eval.json");
  const auto report = nlohmann::json::parse(report_file);
  EXPECT_EQ(report["tta_views"].get<int>(), 1);
  EXPECT_DOUBLE_EQ(report["top1"].get<double>(),
                   nlohmann::json::parse(last)["test_acc"].get<double>());
  fs::remove_all(root);
}

}  // namespace
}  // namespace memes::train
