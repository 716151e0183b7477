#include <gtest/gtest.h>

#include <fstream>

#include "train/checkpoint.h"
#include "train/test_shards.h"
#include "train/train_api.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_trainer_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    testing::ShardFolderSpec spec;
    spec.classes = {"kumamon", "shiba", "doge", "pepe"};
    const auto images = testing::SyntheticImages(64, 4, 32, 11);
    spec.train_shards = {std::vector(images.begin(), images.begin() + 40),
                         std::vector(images.begin() + 40, images.end())};
    spec.test = images;  // the same 64: the test split measures memorisation
    ASSERT_TRUE(testing::WriteShardFolder(root_ / "shards", spec));
  }
  void TearDown() override { fs::remove_all(root_); }

  TrainOptions Options(const std::string& run) const {
    TrainOptions options;
    options.shards = root_ / "shards";
    options.run_dir = root_ / run;
    options.preset = "tiny";
    options.batch_size = 16;
    options.threads = 1;  // one OpenMP thread: no barrier spinning when the suite runs -j2
    options.progress = false;
    options.seed = 5;
    return options;
  }

  static std::vector<nlohmann::json> Metrics(const fs::path& run) {
    std::vector<nlohmann::json> lines;
    std::ifstream in(run / "metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  fs::path root_;
};

TEST_F(TrainerTest, TinyModelOverfitsSixtyFourImages) {
  TrainOptions options = Options("overfit");
  options.epochs = 25;
  options.augment = false;
  options.label_smoothing = 0;
  options.weight_decay = 0;
  options.learning_rate = 0.05;
  options.warmup_epochs = 2;
  ASSERT_TRUE(RunTraining(options).ok());
  const auto metrics = Metrics(options.run_dir);
  ASSERT_EQ(metrics.size(), 25u);
  EXPECT_DOUBLE_EQ(metrics.back()["train_acc"].get<double>(), 1.0) << metrics.back().dump();
  EXPECT_DOUBLE_EQ(metrics.back()["test_acc"].get<double>(), 1.0) << metrics.back().dump();
  EXPECT_LT(metrics.back()["train_loss"].get<double>(),
            metrics.front()["train_loss"].get<double>());
  for (const char* file : {"last.pt", "best.pt", "curves.png", "run.json"}) {
    EXPECT_TRUE(fs::exists(options.run_dir / file)) << file;
  }
  // The model file carries what predict needs.
  auto loaded = LoadModel(options.run_dir / "best.pt");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->meta.classes, (std::vector<std::string>{"kumamon", "shiba", "doge", "pepe"}));
  EXPECT_EQ(loaded->meta.config.preset, "tiny");
  EXPECT_GT(loaded->meta.std[0], 0.0f);
}

void ExpectSameWeights(const fs::path& a, const fs::path& b) {
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
  for (const auto& named : buffers_one) {
    EXPECT_TRUE(torch::equal(named.value(), buffers_two[named.key()])) << named.key();
  }
}

// 2 epochs straight == 1 epoch, stop, resume, 1 more (and the same for a stop mid-epoch).
TEST_F(TrainerTest, ResumeContinuesExactly) {
  TrainOptions straight = Options("straight");
  straight.epochs = 2;
  ASSERT_TRUE(RunTraining(straight).ok());

  for (int64_t stop_step : {3, 5}) {  // 3 steps per epoch: an epoch boundary, then mid-epoch
    TrainOptions stopped = Options("stopped_" + std::to_string(stop_step));
    stopped.epochs = 2;
    stopped.stop_after_steps = stop_step;
    const Status status = RunTraining(stopped);
    ASSERT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
    stopped.stop_after_steps = 0;
    stopped.resume = true;
    ASSERT_TRUE(RunTraining(stopped).ok());
    ExpectSameWeights(straight.run_dir / "last.pt", stopped.run_dir / "last.pt");
    EXPECT_EQ(Metrics(stopped.run_dir).size(), 2u);
    const auto a = Metrics(straight.run_dir).back(), b = Metrics(stopped.run_dir).back();
    EXPECT_DOUBLE_EQ(a["train_loss"].get<double>(), b["train_loss"].get<double>());
    EXPECT_DOUBLE_EQ(a["test_acc"].get<double>(), b["test_acc"].get<double>());
  }
}

// --threads auto changes LibTorch's thread count between steps (1, then all cores); that may
// reorder float sums, never the math: the weights stay within float tolerance of one thread.
// Bit-identical reruns are what a fixed --threads gives (ResumeContinuesExactly pins 1).
TEST_F(TrainerTest, AutoThreadsMatchOneThreadWithinFloatTolerance) {
  TrainOptions fixed = Options("one_thread");
  fixed.epochs = 3;  // 12 steps: the auto run times 1 thread for 4, then 2 threads for 4
  ASSERT_TRUE(RunTraining(fixed).ok());
  TrainOptions automatic = Options("auto_threads");
  automatic.epochs = 3;
  automatic.threads = 0;
  ASSERT_TRUE(RunTraining(automatic).ok());
  auto one = LoadModel(fixed.run_dir / "last.pt");
  auto two = LoadModel(automatic.run_dir / "last.pt");
  ASSERT_TRUE(one.ok() && two.ok());
  auto a = one->model->named_parameters();
  auto b = two->model->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& named : a) {
    EXPECT_TRUE(torch::allclose(named.value(), b[named.key()], 1e-3, 1e-4)) << named.key();
  }
  auto buffers_a = one->model->named_buffers();
  auto buffers_b = two->model->named_buffers();
  for (const auto& named : buffers_a) {
    if (!named.value().is_floating_point()) continue;
    EXPECT_TRUE(torch::allclose(named.value(), buffers_b[named.key()], 1e-3, 1e-4)) << named.key();
  }
}

TEST_F(TrainerTest, BadShardStopsTrainingWithFileAndRecord) {
  fs::resize_file(root_ / "shards" / "data_batch_1.bin", 3073 * 10 + 7);
  TrainOptions options = Options("bad");
  options.epochs = 1;
  const Status status = RunTraining(options);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("data_batch_1.bin"), std::string::npos) << status.ToString();
  EXPECT_NE(status.ToString().find("record 10"), std::string::npos) << status.ToString();
}

TEST_F(TrainerTest, CudaRequestWithoutGpuIsAUsageError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible";
  TrainOptions options = Options("cuda");
  options.device = "cuda";
  EXPECT_EQ(RunTraining(options).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memes::train
