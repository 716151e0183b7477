#include "train/shard_dataset.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "train/test_shards.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;
using testing::ShardFolderSpec;
using testing::SyntheticImages;

fs::path TempFolder(const std::string& name) {
  const fs::path folder =
      fs::temp_directory_path() / ("memes_shard_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  return folder;
}

ShardFolderSpec SmallSpec() {
  ShardFolderSpec spec;
  spec.classes = {"kumamon", "shiba", "doge"};
  spec.train_shards = {SyntheticImages(10, 3, 32, 1), SyntheticImages(7, 3, 32, 100)};
  spec.test = SyntheticImages(5, 3, 32, 1000);
  return spec;
}

TEST(ShardDataset, OpensAndChecksAFolderWithManifest) {
  const fs::path folder = TempFolder("ok");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  auto data = ShardDataset::Open(folder);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_TRUE(data->has_manifest());
  EXPECT_EQ(data->size(Split::kTrain), 17u);
  EXPECT_EQ(data->size(Split::kTest), 5u);
  EXPECT_EQ(data->classes(), (std::vector<std::string>{"kumamon", "shiba", "doge"}));
  EXPECT_EQ(data->label(Split::kTrain, 11), 1);  // second shard, record 1: label (1 % 3)
  EXPECT_GT(data->std()[0], 0.0f);
  fs::remove_all(folder);
}

TEST(ShardDataset, WithoutManifestComputesMeanAndStd) {
  const fs::path with = TempFolder("with"), without = TempFolder("without");
  auto spec = SmallSpec();
  ASSERT_TRUE(testing::WriteShardFolder(with, spec));
  spec.write_manifest = false;
  ASSERT_TRUE(testing::WriteShardFolder(without, spec));
  auto a = ShardDataset::Open(with);
  auto b = ShardDataset::Open(without);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(b->has_manifest());
  EXPECT_EQ(b->classes(), a->classes());  // from batches.meta.txt
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(a->mean()[c], b->mean()[c], 1e-5);
    EXPECT_NEAR(a->std()[c], b->std()[c], 1e-4);
  }
  fs::remove_all(with);
  fs::remove_all(without);
}

TEST(ShardDataset, WithoutMetaTheClassCountIsTheLargestLabelPlusOne) {
  const fs::path folder = TempFolder("nometa");
  auto spec = SmallSpec();
  spec.write_manifest = false;
  ASSERT_TRUE(testing::WriteShardFolder(folder, spec));
  fs::remove(folder / "batches.meta.txt");
  auto data = ShardDataset::Open(folder);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->num_classes(), 3);
  fs::remove_all(folder);
}

TEST(ShardDataset, TruncatedShardNamesFileAndRecord) {
  const fs::path folder = TempFolder("size");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  fs::resize_file(folder / "data_batch_2.bin", 3073 * 4 + 100);
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kCorrupt);
  const std::string message = data.status().ToString();
  EXPECT_NE(message.find("data_batch_2.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("record 4"), std::string::npos) << message;
  fs::remove_all(folder);
}

TEST(ShardDataset, SizeDifferentFromManifestIsRefused) {
  const fs::path folder = TempFolder("records");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  fs::resize_file(folder / "test_batch.bin", 3073 * 4);  // whole records, one missing
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  const std::string message = data.status().ToString();
  EXPECT_NE(message.find("test_batch.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("dataset.json says"), std::string::npos) << message;
  fs::remove_all(folder);
}

TEST(ShardDataset, HashMismatchNamesTheFile) {
  const fs::path folder = TempFolder("hash");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  {
    std::fstream file(folder / "data_batch_1.bin", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(3073 * 2 + 500);
    file.put(static_cast<char>(7));
  }
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  const std::string message = data.status().ToString();
  EXPECT_NE(message.find("data_batch_1.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("sha256"), std::string::npos) << message;
  ShardOpenOptions no_hashes;
  no_hashes.verify_hashes = false;
  EXPECT_TRUE(ShardDataset::Open(folder, no_hashes).ok());
  fs::remove_all(folder);
}

TEST(ShardDataset, LabelOutOfRangeNamesFileAndRecord) {
  const fs::path folder = TempFolder("label");
  auto spec = SmallSpec();
  spec.train_shards[1][3].label = 9;                     // 3 classes
  ASSERT_TRUE(testing::WriteShardFolder(folder, spec));  // manifest hashes the bad bytes
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  const std::string message = data.status().ToString();
  EXPECT_NE(message.find("data_batch_2.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("record 3: label 9 out of range"), std::string::npos) << message;
  fs::remove_all(folder);
}

TEST(ShardDataset, PerClassCountsMustMatchTheManifest) {
  const fs::path folder = TempFolder("counts");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(folder / "dataset.json"));
  EXPECT_EQ(manifest["counts"]["test"]["shiba"], 2);  // test labels 0,1,2,0,1
  manifest["counts"]["test"]["shiba"] = 3;
  std::ofstream(folder / "dataset.json") << manifest.dump();
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().ToString().find("counts 3 test records of 'shiba', the shards hold 2"),
            std::string::npos)
      << data.status().ToString();
  fs::remove_all(folder);
}

TEST(ShardDataset, MissingTestSplitIsNotFound) {
  const fs::path folder = TempFolder("notest");
  ASSERT_TRUE(testing::WriteShardFolder(folder, SmallSpec()));
  fs::remove(folder / "test_batch.bin");
  auto data = ShardDataset::Open(folder);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  fs::remove_all(folder);
}

}  // namespace
}  // namespace memes::train
