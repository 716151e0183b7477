// The fast recipe's parts: whitening init, lookahead, test-time augmentation views, bfloat16
// parity, the recipe's defaults and schedule, and exact resume of a fast-recipe run.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include <fstream>

#include "train/checkpoint.h"
#include "train/ema.h"
#include "train/model.h"
#include "train/recipe.h"
#include "train/test_shards.h"
#include "train/train_api.h"
#include "train/training_schedule.h"
#include "train/whitening.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

TEST(WhiteningTest, OutputCovarianceIsIdentityOnCorrelatedRandomData) {
  torch::manual_seed(3);
  // Correlated channels and neighbouring pixels: a random mix of channels, then a blur.
  auto x = torch::randn({64, 3, 16, 16});
  x = torch::einsum("ij,njhw->nihw", {torch::randn({3, 3}), x});
  x = x + 0.7 * x.roll(1, 3) + 0.3 * x.roll(1, 2);
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 24, 2).bias(false));
  InitWhitening(*conv, x, /*eps=*/1e-6);
  torch::NoGradGuard no_grad;
  const auto out = conv(x.to(torch::kFloat));  // (N, 24, 15, 15)
  const auto first =
      out.narrow(1, 0, 12).permute({0, 2, 3, 1}).reshape({-1, 12}).to(torch::kDouble);
  const auto covariance = first.t().mm(first) / static_cast<double>(first.size(0));
  EXPECT_LT((covariance - torch::eye(12, torch::kDouble)).abs().max().item<double>(), 1e-3)
      << covariance;
  // The second half is the first negated.
  EXPECT_TRUE(torch::allclose(out.narrow(1, 12, 12), -out.narrow(1, 0, 12)));
  // Largest eigenvalue first: the first filter is the smallest (scaled by 1/sqrt(largest)).
  const auto norms = conv->weight.flatten(1).norm(2, 1);
  EXPECT_LT(norms[0].item<double>(), norms[11].item<double>());
}

TEST(WhiteningTest, GreyImagesCopiedToThreeChannelsStayFinite) {
  auto grey = torch::rand({8, 1, 8, 8});
  auto x = grey.expand({8, 3, 8, 8}).contiguous();
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 24, 2));
  InitWhitening(*conv, x);
  EXPECT_TRUE(torch::isfinite(conv->weight).all().item<bool>());
}

TEST(LookaheadTest, UpdateMovesAverageTowardWeightsAndCopiesBack) {
  std::vector<torch::Tensor> ema = {torch::zeros({3}), torch::full({2, 2}, 4.0)};
  std::vector<torch::Tensor> net = {torch::ones({3}), torch::zeros({2, 2})};
  LookaheadUpdate(ema, net, 0.75);
  EXPECT_TRUE(torch::allclose(ema[0], torch::full({3}, 0.25)));
  EXPECT_TRUE(torch::allclose(ema[1], torch::full({2, 2}, 3.0)));
  EXPECT_TRUE(torch::equal(net[0], ema[0]));
  EXPECT_TRUE(torch::equal(net[1], ema[1]));
  // decay 1: the weights become the average, which does not move.
  net[0].fill_(9);
  LookaheadUpdate(ema, net, 1.0);
  EXPECT_TRUE(torch::allclose(net[0], torch::full({3}, 0.25)));
}

TEST(LookaheadTest, DecayGrowsCubicallyToPointNineFivePowerFive) {
  EXPECT_DOUBLE_EQ(LookaheadDecay(0, 100), 0.0);
  EXPECT_NEAR(LookaheadDecay(100, 100), std::pow(0.95, 5), 1e-12);
  EXPECT_NEAR(LookaheadDecay(50, 100), std::pow(0.95, 5) / 8, 1e-12);
}

TEST(LookaheadTest, FastModelKeepsOneBufferPerTrackedTensor) {
  auto config = PresetConfig("fast", 4, 32);
  ASSERT_TRUE(config.ok());
  config->widths = {8, 16, 16};
  SeResNeXt model(*config);
  const auto tracked = LookaheadTracked(*model);
  const auto buffers = model->LookaheadBuffers();
  ASSERT_EQ(tracked.size(), buffers.size());
  for (size_t i = 0; i < tracked.size(); ++i) EXPECT_TRUE(torch::equal(tracked[i], buffers[i]));
  auto classic = PresetConfig("tiny", 4, 32);
  EXPECT_TRUE(SeResNeXt(*classic)->LookaheadBuffers().empty());
}

TEST(TtaTest, SixViewsAreFlipsAndOnePixelShifts) {
  auto x = torch::arange(2 * 3 * 5 * 5, torch::kFloat).reshape({2, 3, 5, 5});
  const auto views = TtaViews(x);
  ASSERT_EQ(views.size(), 6u);
  for (const auto& v : views) EXPECT_EQ(v.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(views[0], x));
  EXPECT_TRUE(torch::equal(views[1], x.flip(3)));
  using torch::indexing::Slice;
  // Shifted (-1, -1): pixel (y, x) holds x(y - 1, x - 1) inside the image.
  EXPECT_TRUE(torch::equal(views[2].index({Slice(), Slice(), Slice(1), Slice(1)}),
                           x.index({Slice(), Slice(), Slice(0, 4), Slice(0, 4)})));
  EXPECT_TRUE(torch::equal(views[3], views[2].flip(3)));
  EXPECT_TRUE(torch::equal(views[4].index({Slice(), Slice(), Slice(0, 4), Slice(0, 4)}),
                           x.index({Slice(), Slice(), Slice(1), Slice(1)})));
  EXPECT_TRUE(torch::equal(views[5], views[4].flip(3)));
  double total = 0;
  for (double w : TtaWeights()) total += w;
  EXPECT_DOUBLE_EQ(total, 1.0);
}

TEST(TtaTest, ForwardTtaIsTheWeightedMeanOfTheViews) {
  auto config = PresetConfig("fast", 3, 28);
  ASSERT_TRUE(config.ok());
  config->widths = {8, 8, 8};
  SeResNeXt model(*config);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({4, 3, 28, 28});
  const auto logits = ForwardTta(model, x, 2);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{4, 3}));
  torch::Tensor expected = torch::zeros({4, 3});
  const auto views = TtaViews(x);
  for (size_t i = 0; i < views.size(); ++i) expected += TtaWeights()[i] * model->forward(views[i]);
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(ForwardTta(model, x, 0), model->forward(x)));
}

TEST(FastModelTest, ParameterAndShapeCountsAgree) {
  for (int size : {28, 32}) {
    auto config = PresetConfig("fast", 10, size);
    ASSERT_TRUE(config.ok());
    SeResNeXt model(*config);
    EXPECT_EQ(ParameterCount(*model), CountParameters(*config));
    EXPECT_EQ(model->forward(torch::randn({2, 3, size, size})).sizes(),
              (std::vector<int64_t>{2, 10}));
  }
  auto small = PresetConfig("small", 10, 32);
  small->recipe = "fast";
  SeResNeXt whitened(*small);
  EXPECT_EQ(ParameterCount(*whitened), CountParameters(*small));
  EXPECT_EQ(whitened->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_FALSE(whitened->whitening()->weight.requires_grad());
}

TEST(Bf16Test, AutocastLogitsMatchFloat32WithinTolerance) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has neither AVX512-BF16 nor AMX";
  torch::manual_seed(1);
  auto config = PresetConfig("small", 10, 32);
  SeResNeXt model(*config);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({8, 3, 32, 32});
  const auto reference = model->forward(x);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
  const auto bf16 = model->forward(x).to(torch::kFloat);
  at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(false);
  // bfloat16 keeps 8 bits of mantissa: ~1% of the logits' scale after a few layers.
  const double scale = reference.abs().max().item<double>();
  EXPECT_LT((bf16 - reference).abs().max().item<double>(), 0.05 * scale + 1e-3);
  EXPECT_TRUE(bf16.argmax(1).eq(reference.argmax(1)).sum().item<int64_t>() >= 7);
}

TEST(RecipeTest, FastDefaultsFillOnlyWhatWasNotGiven) {
  TrainOptions options;
  options.preset = "fast";
  options.epochs = 3;
  options.given_options = {"--epochs"};
  ASSERT_TRUE(ApplyRecipeDefaults(options, 60000).ok());
  EXPECT_EQ(options.recipe, "fast");
  EXPECT_EQ(options.epochs, 3);
  EXPECT_EQ(options.batch_size, 1024);
  EXPECT_DOUBLE_EQ(options.momentum, 0.85);
  EXPECT_NEAR(options.learning_rate, 11.5 / (1024 * (1 + 1 / 0.15)), 1e-12);
  EXPECT_EQ(options.schedule, "triangular");
  EXPECT_DOUBLE_EQ(options.label_smoothing, 0.2);
  TrainOptions small_data;
  small_data.recipe = "fast";
  ASSERT_TRUE(ApplyRecipeDefaults(small_data, 1200).ok());
  EXPECT_EQ(small_data.batch_size, 128);  // 1200 / 8 = 150
  TrainOptions classic;
  ASSERT_TRUE(ApplyRecipeDefaults(classic, 60000).ok());
  EXPECT_EQ(classic.recipe, "classic");
  EXPECT_EQ(classic.batch_size, 128);
  TrainOptions bad;
  bad.preset = "fast";
  bad.recipe = "classic";
  EXPECT_EQ(ApplyRecipeDefaults(bad, 100).code(), StatusCode::kInvalidArgument);
}

TEST(RecipeTest, TriangularScheduleRisesThenDecays) {
  auto schedule = Schedule::Make("triangular", 1.0, 10, 0, {});
  ASSERT_TRUE(schedule.ok());
  EXPECT_DOUBLE_EQ(schedule->At(0), 0.2);
  EXPECT_NEAR(schedule->At(2.3), 1.0, 1e-12);
  EXPECT_NEAR(schedule->At(10), 0.07, 1e-12);
  EXPECT_GT(schedule->At(1), schedule->At(0.5));
  EXPECT_LT(schedule->At(6), schedule->At(3));
}

class FastRecipeTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_recipe_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    testing::ShardFolderSpec spec;
    spec.classes = {"kumamon", "shiba", "doge", "pepe"};
    const auto images = testing::SyntheticImages(64, 4, 32, 11);
    spec.train_shards = {images};
    spec.test = images;
    ASSERT_TRUE(testing::WriteShardFolder(root_ / "shards", spec));
  }
  void TearDown() override { fs::remove_all(root_); }
  // The last line of a run's metrics.jsonl: its last epoch.
  static nlohmann::json LastEpoch(const fs::path& run_dir) {
    std::ifstream in(run_dir / "metrics.jsonl");
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return nlohmann::json::parse(last);
  }

  TrainOptions Options(const std::string& run) const {
    TrainOptions options;
    options.shards = root_ / "shards";
    options.run_dir = root_ / run;
    options.preset = "fast";
    options.widths = {8, 16, 16};
    options.batch_size = 16;
    options.epochs = 4;
    options.given_options = {"--batch-size", "--epochs", "--widths"};
    options.threads = 1;
    options.progress = false;
    options.seed = 5;
    return options;
  }
  fs::path root_;
};

void ExpectSameState(const fs::path& a, const fs::path& b) {
  auto first = LoadModel(a);
  auto second = LoadModel(b);
  ASSERT_TRUE(first.ok() && second.ok());
  auto one = first->model->named_parameters();
  auto two = second->model->named_parameters();
  ASSERT_EQ(one.size(), two.size());
  for (const auto& named : one) {
    EXPECT_TRUE(torch::equal(named.value(), two[named.key()])) << named.key();
  }
  auto buffers_one = first->model->named_buffers();
  auto buffers_two = second->model->named_buffers();
  ASSERT_EQ(buffers_one.size(), buffers_two.size());
  for (const auto& named : buffers_one) {
    EXPECT_TRUE(torch::equal(named.value(), buffers_two[named.key()])) << named.key();
  }
}

// 4 steps per epoch; stops before a lookahead update (step 6 of 20, mid-epoch) and after the
// whitening bias froze (step 13, in epoch 4): both resume to the uninterrupted run's weights.
TEST_F(FastRecipeTrainingTest, ResumeContinuesExactly) {
  TrainOptions straight = Options("straight");
  ASSERT_TRUE(RunTraining(straight).ok());
  for (int64_t stop_step : {6, 13}) {
    TrainOptions stopped = Options("stopped_" + std::to_string(stop_step));
    stopped.stop_after_steps = stop_step;
    const Status status = RunTraining(stopped);
    ASSERT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
    TrainOptions resumed = Options("stopped_" + std::to_string(stop_step));
    resumed.resume = true;
    resumed.given_options = {};
    ASSERT_TRUE(RunTraining(resumed).ok());
    ExpectSameState(straight.run_dir / "last.pt", resumed.run_dir / "last.pt");
  }
  auto loaded = LoadModel(straight.run_dir / "last.pt");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->meta.config.recipe, "fast");
  EXPECT_EQ(loaded->meta.config.family, "airbench");
  // The run ends on the lookahead average.
  const auto tracked = LookaheadTracked(*loaded->model);
  const auto buffers = loaded->model->LookaheadBuffers();
  for (size_t i = 0; i < tracked.size(); ++i) EXPECT_TRUE(torch::equal(tracked[i], buffers[i]));
}

TEST_F(FastRecipeTrainingTest, FastPresetLearnsSyntheticClasses) {
  TrainOptions options = Options("learn");
  options.epochs = 8;
  ASSERT_TRUE(RunTraining(options).ok());
  const nlohmann::json last = LastEpoch(options.run_dir);
  EXPECT_GE(last["test_acc"].get<double>(), 0.9) << last;
}

// The fast recipe trains an SE-ResNeXt end to end. A guard, not the defect's reproduction: the
// full-set failure of `small --recipe fast` (docs/benchmarks.md) needed more steps than a unit
// test affords; the bias rate and init that caused it are pinned by
// RecipeOffTest.SeResNeXtWithTheFastRecipeKeepsHeInitAndTheCommonBiasRate.
TEST_F(FastRecipeTrainingTest, SeResNeXtWithTheFastRecipeLearnsSyntheticClasses) {
  TrainOptions options = Options("se_resnext");
  options.preset = "tiny";
  options.recipe = "fast";
  options.widths = {};
  options.epochs = 8;
  options.given_options = {"--batch-size", "--epochs", "--recipe"};
  ASSERT_TRUE(RunTraining(options).ok());
  const nlohmann::json last = LastEpoch(options.run_dir);
  EXPECT_GE(last["test_acc"].get<double>(), 0.9) << last;
}

// eval of a fast-recipe model scores what training reported: the 6-view test-time augmentation
// (before, eval used the plain forward, so its loss and top-1 differed from the run's).
TEST_F(FastRecipeTrainingTest, EvalReportsWhatTrainingReported) {
  TrainOptions options = Options("eval");
  ASSERT_TRUE(RunTraining(options).ok());
  const nlohmann::json trained = LastEpoch(options.run_dir);
  EvalOptions eval;
  eval.model = options.run_dir / "last.pt";
  eval.shards = root_ / "shards";
  eval.out_dir = root_ / "eval";
  eval.threads = 1;
  eval.json = true;
  ASSERT_TRUE(RunEval(eval).ok());
  std::ifstream report_file(eval.out_dir / "eval.json");
  const auto report = nlohmann::json::parse(report_file);
  EXPECT_EQ(report["tta_views"].get<int>(), 6);
  EXPECT_DOUBLE_EQ(report["top1"].get<double>(), trained["test_acc"].get<double>()) << trained;
  EXPECT_NEAR(report["loss"].get<double>(), trained["test_loss"].get<double>(), 1e-5) << trained;
}

// Only the last epoch pays for the 6 views unless --tta-every-epoch; metrics.jsonl says which.
TEST_F(FastRecipeTrainingTest, OnlyTheLastEpochIsScoredWithAllViewsByDefault) {
  for (const bool every : {false, true}) {
    TrainOptions options = Options(every ? "every" : "last");
    options.epochs = 3;
    options.tta_every_epoch = every;
    ASSERT_TRUE(RunTraining(options).ok());
    std::ifstream in(options.run_dir / "metrics.jsonl");
    std::vector<int> views;
    for (std::string line; std::getline(in, line);) {
      views.push_back(nlohmann::json::parse(line)["test_views"].get<int>());
    }
    EXPECT_EQ(views, every ? (std::vector<int>{6, 6, 6}) : (std::vector<int>{1, 1, 6}));
  }
}

}  // namespace
}  // namespace memes::train
