#include "train/batch_assembly.h"

#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

#include "train/test_shards.h"
#include "train/training_schedule.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

class BatchAssemblyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("memes_batch_test_" + std::to_string(::getpid()));
    testing::ShardFolderSpec spec;
    spec.classes = {"a", "b"};
    spec.train_shards = {testing::SyntheticImages(40, 2, 32, 5)};
    spec.test = testing::SyntheticImages(4, 2, 32, 9);
    ASSERT_TRUE(testing::WriteShardFolder(folder_, spec));
    auto data = ShardDataset::Open(folder_);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    data_ = std::make_unique<ShardDataset>(std::move(data).value());
  }
  void TearDown() override { fs::remove_all(folder_); }

  fs::path folder_;
  std::unique_ptr<ShardDataset> data_;
};

TEST_F(BatchAssemblyTest, PlainBatchIsTheNormalisedRecords) {
  const NormalizeTable table({0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
  const std::vector<uint32_t> indices = {3, 0, 17};
  std::vector<float> out(3 * 3072);
  std::vector<int64_t> labels(3);
  AssembleBatch(*data_, Split::kTrain, indices, table, false, {}, 1, out, labels);
  for (int i = 0; i < 3; ++i) {
    const uint8_t* record = data_->record(Split::kTrain, indices[i]);
    EXPECT_EQ(labels[i], record[0]);
    for (int j = 0; j < 3072; j += 97) {
      EXPECT_FLOAT_EQ(out[i * 3072 + j], (record[1 + j] / 255.0f - 0.5f) / 0.25f);
    }
  }
}

TEST_F(BatchAssemblyTest, ShiftAndFlipMoveThePixelsAndFillWithZero) {
  const NormalizeTable table({0, 0, 0}, {1, 1, 1});
  const uint8_t* record = data_->record(Split::kTrain, 0);
  // Flip alone through NormalizeImage, then shifts and flips through AssembleBatch's draws.
  std::vector<float> flipped(3072);
  NormalizeImage(record + 1, 32, table, true, flipped.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        ASSERT_FLOAT_EQ(flipped[c * 1024 + y * 32 + x],
                        record[1 + c * 1024 + y * 32 + 31 - x] / 255.0f);
      }
    }
  }
  const std::vector<uint32_t> indices(16, 0);
  std::vector<float> out(16 * 3072);
  std::vector<int64_t> labels(16);
  const AugmentOptions options;
  AssembleBatch(*data_, Split::kTrain, indices, table, true, options, 42, out, labels);
  for (int i = 0; i < 16; ++i) {
    const ImageAugment draw = DrawAugment(42, i, options);
    ASSERT_LE(std::abs(draw.shift_x), 4);
    ASSERT_LE(std::abs(draw.shift_y), 4);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
          const int shifted_x = draw.flip ? 31 - x : x;
          const int sx = shifted_x + draw.shift_x, sy = y + draw.shift_y;
          const float want = (sx < 0 || sx >= 32 || sy < 0 || sy >= 32)
                                 ? 0.0f
                                 : record[1 + c * 1024 + sy * 32 + sx] / 255.0f;
          ASSERT_FLOAT_EQ(out[i * 3072 + c * 1024 + y * 32 + x], want)
              << "image " << i << " c " << c << " y " << y << " x " << x;
        }
      }
    }
  }
}

TEST_F(BatchAssemblyTest, SameSeedSameBatchWhateverTheThreadCount) {
  const NormalizeTable table(data_->mean(), data_->std());
  std::vector<uint32_t> indices(40);
  for (uint32_t i = 0; i < 40; ++i) indices[i] = 39 - i;
  std::vector<float> one(40 * 3072), two(40 * 3072);
  std::vector<int64_t> labels(40);
  {
    tbb::global_control single(tbb::global_control::max_allowed_parallelism, 1);
    AssembleBatch(*data_, Split::kTrain, indices, table, true, {}, 7, one, labels);
  }
  AssembleBatch(*data_, Split::kTrain, indices, table, true, {}, 7, two, labels);
  EXPECT_EQ(one, two);
  AssembleBatch(*data_, Split::kTrain, indices, table, true, {}, 8, two, labels);
  EXPECT_NE(one, two);
}

TEST(Schedule, StepCosineAndOneCycle) {
  auto step = Schedule::Make("step", 0.1, 100, 0, {});
  ASSERT_TRUE(step.ok());
  EXPECT_DOUBLE_EQ(step->At(0), 0.1);
  EXPECT_NEAR(step->At(50.5), 0.01, 1e-12);
  EXPECT_NEAR(step->At(80), 0.001, 1e-12);
  auto cosine = Schedule::Make("cosine", 0.2, 10, 2, {});
  ASSERT_TRUE(cosine.ok());
  EXPECT_LT(cosine->At(0), 0.001);
  EXPECT_NEAR(cosine->At(1), 0.1, 1e-3);
  EXPECT_NEAR(cosine->At(2), 0.2, 1e-9);
  EXPECT_NEAR(cosine->At(6), 0.1, 1e-9);
  EXPECT_LT(cosine->At(9.99), 1e-4);
  auto onecycle = Schedule::Make("onecycle", 0.5, 10, 0, {});
  ASSERT_TRUE(onecycle.ok());
  EXPECT_NEAR(onecycle->At(0), 0.02, 1e-12);
  EXPECT_NEAR(onecycle->At(3), 0.5, 1e-9);
  EXPECT_LT(onecycle->At(9.999), 0.001);
  EXPECT_FALSE(Schedule::Make("linear", 0.1, 10, 0, {}).ok());
}

}  // namespace
}  // namespace memes::train
