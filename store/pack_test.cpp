// Pack and verify on small generated stores: split stability, leak-freedom, augmentation
// counts, failure atomicity, corruption detection.
#include "store/pack.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "store/rotate.h"
#include "store/shard_reader.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> FramePixels(int item, int frame) {
  std::vector<uint8_t> pixels(3 * 32 * 32);
  for (size_t i = 0; i < pixels.size(); ++i) {
    pixels[i] = static_cast<uint8_t>((i * 31 + item * 7 + frame * 13) ^ (i >> 5));
  }
  return pixels;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct IndexRow {
  std::string file;
  uint64_t record;
  std::string blob;
  int frame, rotation, label;
};

std::vector<IndexRow> ReadIndex(const fs::path& dir) {
  std::ifstream in(dir / "index.tsv");
  std::string line;
  std::getline(in, line);
  std::vector<IndexRow> rows;
  while (std::getline(in, line)) {
    std::stringstream s(line);
    IndexRow row;
    std::string name;
    s >> row.file >> row.record >> row.blob >> row.frame >> row.rotation >> row.label;
    rows.push_back(row);
  }
  return rows;
}

class PackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-pack-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = Store::Open(dir_ / "store");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    options_.out = dir_ / "shards";
    options_.progress = false;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Adds item `i` with `frames` frames; phash chosen so that items with equal `cluster` are near
  // duplicates and distinct clusters are far apart. Returns the blob hash.
  std::string AddItem(int i, const std::string& label, int frames = 1, int cluster = -1) {
    const std::string bytes = "item-" + std::to_string(i);
    auto blob = store_->PutBlob(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    EXPECT_TRUE(blob.ok());
    std::vector<std::vector<uint8_t>> pixels;
    std::vector<FrameData> data;
    const uint64_t phash = SplitMix(cluster >= 0 ? cluster + 100000 : i);
    for (int f = 0; f < frames; ++f) pixels.push_back(FramePixels(i, f));
    for (int f = 0; f < frames; ++f) data.push_back({{f * 2, f * 100, phash ^ (f & 1)}, pixels[f]});
    auto added = store_->AddItem({*blob, bytes.size(), "png", 32, 32, frames * 2, kItemOk, ""},
                                 nullptr, data, label);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return *blob;
  }
  static uint64_t SplitMix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  Result<PackReport> RunPack() { return Pack(*store_, options_); }
  // Makes the frames of `blob` unreadable (a CRC mismatch).
  void DamageFrames(const std::string& blob) {
    auto location = store_->catalog().FramesLocationOf(blob);
    ASSERT_TRUE(location.ok());
    ASSERT_TRUE(DamageFramesForTesting(dir_ / "store" / "frames", blob, *location).ok());
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  PackOptions options_;
};

TEST_F(PackTest, RecordsMatchFramesRotationsAndLabels) {
  std::map<std::string, int> item_of;
  for (int i = 0; i < 40; ++i) item_of[AddItem(i, i % 3 ? "shiba" : "kumamon", 1 + i % 2)] = i;
  auto report = RunPack();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto manifest = ReadManifest(options_.out);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->classes, (std::vector<std::string>{"kumamon", "shiba"}));
  EXPECT_EQ(manifest->record_bytes, 3073);
  const auto rows = ReadIndex(options_.out);
  ASSERT_EQ(rows.size(), uint64_t(report->train_records + report->test_records));
  std::map<std::string, MappedShard> shards;
  std::vector<uint8_t> expected(3072);
  for (const IndexRow& row : rows) {
    if (!shards.count(row.file)) {
      auto shard = MappedShard::Open(options_.out / row.file, 3073);
      ASSERT_TRUE(shard.ok());
      shards.emplace(row.file, std::move(shard).value());
    }
    const auto record = shards.at(row.file).Record(row.record);
    const int item = item_of.at(row.blob);
    EXPECT_EQ(record[0], item % 3 ? 1 : 0);
    EXPECT_EQ(row.label, record[0]);
    if (row.file == "test_batch.bin") {
      EXPECT_EQ(row.rotation, 0) << "test is unrotated";
    }
    RotatePlanar(FramePixels(item, row.frame / 2), expected, 32, 3, row.rotation);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), record.begin() + 1))
        << row.file << " record " << row.record;
  }
  EXPECT_TRUE(VerifyShards(options_.out).ok());
  EXPECT_EQ(report->train_records % 4, 0);

  auto train = OpenSplit(options_.out, *manifest, /*test=*/false);
  auto test = OpenSplit(options_.out, *manifest, /*test=*/true);
  ASSERT_TRUE(train.ok() && test.ok());
  uint64_t records = 0;
  for (const MappedShard& shard : *train) records += shard.records();
  EXPECT_EQ(records, uint64_t(report->train_records));
  ASSERT_EQ(test->size(), 1u);
  EXPECT_EQ((*test)[0].records(), uint64_t(report->test_records));
  ASSERT_EQ(manifest->mean.size(), 3u);
  EXPECT_GT(manifest->mean[0], 0.0);
  EXPECT_LT(manifest->mean[0], 1.0);
  EXPECT_GT(manifest->std[2], 0.0);
}

TEST_F(PackTest, DatasetJsonRecordsTheStoresImageSettings) {
  ImageSettings settings;
  settings.fit = FitMode::kCrop;
  settings.background[0] = 0, settings.background[1] = 0x80, settings.background[2] = 0xff;
  settings.max_frames = 2;
  ASSERT_TRUE(store_->ResetFrames(settings).ok());
  for (int i = 0; i < 6; ++i) AddItem(i, i % 2 ? "a" : "b");
  ASSERT_TRUE(RunPack().ok());
  const auto json = nlohmann::json::parse(Slurp(options_.out / "dataset.json"));
  EXPECT_EQ(json.at("fit"), "crop");
  EXPECT_EQ(json.at("background"), "0080ff");
  EXPECT_EQ(json.at("max_frames"), 2);
  auto manifest = ReadManifest(options_.out);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_TRUE(manifest->image_settings_recorded);
  EXPECT_EQ(manifest->image, settings) << DescribeImageSettings(manifest->image);
}

TEST_F(PackTest, SplitIsStableUnderAdditionsAndRelabelsAndGroupsNeverStraddle) {
  options_.balance_split = false;  // the per-group hash alone: the stable assignment
  options_.test_fraction = 0.3;
  std::vector<std::string> blobs;
  for (int i = 0; i < 120; ++i) blobs.push_back(AddItem(i, i % 2 ? "a" : "b", 1, i / 3));
  ASSERT_TRUE(RunPack().ok());
  std::map<std::string, std::string> side;
  for (const IndexRow& row : ReadIndex(options_.out)) side[row.blob] = row.file;
  auto is_test = [&](const std::string& blob) { return side.at(blob) == "test_batch.bin"; };
  for (int i = 0; i < 120; i += 3) {
    EXPECT_EQ(is_test(blobs[i]), is_test(blobs[i + 1]));
    EXPECT_EQ(is_test(blobs[i]), is_test(blobs[i + 2]));
  }
  int tests = 0;
  for (const auto& blob : blobs) tests += is_test(blob);
  EXPECT_GT(tests, 0);
  EXPECT_LT(tests, 120);

  for (int i = 120; i < 200; ++i) AddItem(i, "c");
  const std::vector<std::string> relabel(blobs.begin(), blobs.begin() + 30);
  ASSERT_TRUE(store_->catalog().SetLabel(relabel, "c").ok());
  ASSERT_TRUE(RunPack().ok());
  std::map<std::string, std::string> after;
  for (const IndexRow& row : ReadIndex(options_.out)) after[row.blob] = row.file;
  for (const auto& blob : blobs) {
    EXPECT_EQ(after.at(blob) == "test_batch.bin", is_test(blob)) << blob;
  }
}

TEST_F(PackTest, BalancedSplitKeepsEveryClassNearTheTestFraction) {
  // Three classes of 100-160 items in groups of skewed sizes (many single items, some groups of
  // 2-12 and one of 30 per class): the hash alone misses the fraction; the balanced split not.
  options_.test_fraction = 0.2;
  const char* classes[] = {"a", "b", "c"};
  const int class_items[] = {100, 130, 160};
  int item = 0, cluster = 0;
  std::map<std::string, std::string> class_of;
  for (int c = 0; c < 3; ++c) {
    int left = class_items[c];
    for (const int size : {30, 12, 9, 7, 5, 4, 3, 3, 2, 2}) {
      for (int k = 0; k < size; ++k) class_of[AddItem(item++, classes[c], 1, cluster)] = classes[c];
      ++cluster;
      left -= size;
    }
    for (; left > 0; --left) class_of[AddItem(item++, classes[c])] = classes[c];
  }
  auto test_share = [&](std::map<std::string, double>& per_class) {
    std::map<std::string, int> test, all;
    for (const IndexRow& row : ReadIndex(options_.out)) {
      if (row.rotation != 0 || row.frame != 0) continue;
      ++all[class_of.at(row.blob)];
      test[class_of.at(row.blob)] += row.file == "test_batch.bin";
    }
    int total_test = 0, total = 0;
    for (const auto& [name, count] : all) {
      per_class[name] = double(test[name]) / count;
      total_test += test[name];
      total += count;
    }
    return double(total_test) / total;
  };
  for (uint64_t seed : {0, 3}) {
    options_.seed = seed;
    ASSERT_TRUE(RunPack().ok());
    std::map<std::string, double> per_class;
    EXPECT_NEAR(test_share(per_class), 0.2, 0.01) << "seed " << seed;
    for (const auto& [name, share] : per_class) {
      EXPECT_NEAR(share, 0.2, 0.03) << "class " << name << " seed " << seed;
    }
    std::ifstream in(options_.out / "dataset.json");
    EXPECT_EQ(nlohmann::json::parse(in)["split_assign"], "balanced");
  }
  // Groups never straddle; additions move few old items (only near each class's boundary).
  options_.seed = 0;
  ASSERT_TRUE(RunPack().ok());
  std::map<std::string, std::string> before;
  for (const IndexRow& row : ReadIndex(options_.out)) before[row.blob] = row.file;
  for (int k = 0; k < 20; ++k) class_of[AddItem(item++, classes[k % 3])] = classes[k % 3];
  ASSERT_TRUE(RunPack().ok());
  int moved = 0;
  for (const IndexRow& row : ReadIndex(options_.out)) {
    auto it = before.find(row.blob);
    moved += it != before.end() && row.rotation == 0 && row.frame == 0 &&
             (it->second == "test_batch.bin") != (row.file == "test_batch.bin");
  }
  EXPECT_LT(moved, 40) << "of 390 items after adding 20";
  std::map<std::string, double> per_class;
  EXPECT_NEAR(test_share(per_class), 0.2, 0.01);
}

TEST_F(PackTest, SplitUnitImageLetsGroupsStraddleAndGroupNever) {
  options_.test_fraction = 0.5;
  std::vector<std::string> blobs;
  for (int i = 0; i < 120; ++i) blobs.push_back(AddItem(i, i % 2 ? "a" : "b", 1, i / 6));
  // Number of 6-item groups with members on both sides, and dataset.json's record of it.
  auto straddling = [&](int& both_in_json, std::string& unit) {
    std::map<std::string, std::string> side;
    for (const IndexRow& row : ReadIndex(options_.out)) side[row.blob] = row.file;
    int both = 0;
    for (int g = 0; g < 20; ++g) {
      std::set<bool> sides;
      for (int k = 0; k < 6; ++k) sides.insert(side.at(blobs[g * 6 + k]) == "test_batch.bin");
      both += sides.size() == 2;
    }
    std::ifstream in(options_.out / "dataset.json");
    const auto json = nlohmann::json::parse(in);
    both_in_json = json["groups"]["both"].get<int>();
    unit = json["split_unit"].get<std::string>();
    return both;
  };
  int json_both = -1;
  std::string unit;
  ASSERT_TRUE(RunPack().ok());
  EXPECT_EQ(straddling(json_both, unit), 0);
  EXPECT_EQ(json_both, 0);
  EXPECT_EQ(unit, "group");

  options_.split_unit = SplitUnit::kImage;
  ASSERT_TRUE(RunPack().ok());
  const int both = straddling(json_both, unit);
  EXPECT_GT(both, 0) << "per-image split puts near-duplicates on both sides";
  EXPECT_EQ(json_both, both);
  EXPECT_EQ(unit, "image");
}

TEST_F(PackTest, AugmentationOptionsAndCap) {
  for (int i = 0; i < 30; ++i) AddItem(i, i < 20 ? "big" : "small");
  options_.rot4 = false;
  auto plain = RunPack();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->train_records + plain->test_records, 30);
  options_.rot4 = true;
  options_.rotate_test = true;
  auto rotated = RunPack();
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->train_records + rotated->test_records, 120);
  options_.max_per_class = 5;
  auto capped = RunPack();
  ASSERT_TRUE(capped.ok());
  for (const ClassReport& c : capped->classes) EXPECT_EQ(c.train_items + c.test_items, 5);
  EXPECT_EQ(capped->classes[0].capped, 15);
  options_.max_per_class = 0;
  options_.rotate_test = false;
  options_.test_fraction = 0.01;
  auto warned = RunPack();
  ASSERT_TRUE(warned.ok());
  ASSERT_FALSE(warned->warnings.empty());
  EXPECT_NE(warned->warnings[0].find("too small to test"), std::string::npos);
}

TEST_F(PackTest, ShardsRollOverAtTheBatchSize) {
  for (int i = 0; i < 20; ++i) AddItem(i, "x");
  options_.records_per_batch = 7;
  options_.test_fraction = 0;
  auto report = RunPack();
  ASSERT_TRUE(report.ok());
  auto manifest = ReadManifest(options_.out);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->train_files.size(), 12u);  // 80 records / 7
  EXPECT_EQ(manifest->files.at("data_batch_12.bin").records, 3u);
  EXPECT_TRUE(VerifyShards(options_.out).ok());
}

TEST_F(PackTest, MoreThan256ClassesIsAnErrorAndKeepsThePreviousShards) {
  for (int i = 0; i < 10; ++i) AddItem(i, "few");
  ASSERT_TRUE(RunPack().ok());
  const auto before = fs::file_size(options_.out / "dataset.json");
  for (int i = 10; i < 10 + 257; ++i) AddItem(i, "class" + std::to_string(i));
  auto report = RunPack();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("256"), std::string::npos);
  EXPECT_EQ(fs::file_size(options_.out / "dataset.json"), before);
  EXPECT_TRUE(VerifyShards(options_.out).ok());
  for (auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST_F(PackTest, AMissingFramesFileIsReportedAndSkippedWhenAskedTo) {
  const std::string lost = AddItem(0, "x");
  for (int i = 1; i < 10; ++i) AddItem(i, "x");
  DamageFrames(lost);
  options_.replace_despite_failures = true;
  auto report = RunPack();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_NE(report->failures[0].find(lost.substr(2)), std::string::npos);
  EXPECT_TRUE(report->replaced);
  EXPECT_TRUE(VerifyShards(options_.out).ok());
}

TEST_F(PackTest, APackWithItemFailuresKeepsThePreviousShards) {
  const std::string lost = AddItem(0, "x");
  for (int i = 1; i < 10; ++i) AddItem(i, "x");
  ASSERT_TRUE(RunPack().ok());
  const std::string before = Slurp(options_.out / "dataset.json");
  AddItem(10, "y");  // the next pack would differ
  DamageFrames(lost);
  auto report = RunPack();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_FALSE(report->replaced);
  EXPECT_EQ(Slurp(options_.out / "dataset.json"), before);
  EXPECT_TRUE(VerifyShards(options_.out).ok());
  for (auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

class VerifyTest : public PackTest {
 protected:
  void SetUp() override {
    PackTest::SetUp();
    for (int i = 0; i < 12; ++i) AddItem(i, i % 2 ? "a" : "b");
    options_.test_fraction = 0;
    ASSERT_TRUE(RunPack().ok());
    shard_ = options_.out / "data_batch_1.bin";
  }
  void Poke(uint64_t offset, uint8_t value) {
    std::fstream file(shard_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(offset));
    file.put(static_cast<char>(value));
  }
  bool HasFault(const VerifyReport& report, const std::string& file, int64_t record) {
    for (const VerifyFault& fault : report.faults) {
      if (fault.file == file && fault.record == record) return true;
    }
    return false;
  }
  std::string Faults(const VerifyReport& report) {
    std::string text;
    for (const auto& fault : report.faults) text += fault.ToString() + "\n";
    return text;
  }
  fs::path shard_;
};

TEST_F(VerifyTest, CleanShardsPass) {
  const VerifyReport report = VerifyShards(options_.out);
  EXPECT_TRUE(report.ok()) << Faults(report);
  EXPECT_EQ(report.records_checked, 48u);
}

TEST_F(VerifyTest, FlippedPixelByteNamesTheRecord) {
  Poke(3073 * 5 + 100, 0xEE ^ 0x55);
  const VerifyReport report = VerifyShards(options_.out);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(HasFault(report, "data_batch_1.bin", 5)) << Faults(report);
}

TEST_F(VerifyTest, OutOfRangeAndWrongLabelsNameTheRecord) {
  Poke(3073 * 7, 200);
  Poke(3073 * 9, 0);
  Poke(3073 * 10, 1);
  const VerifyReport report = VerifyShards(options_.out);
  EXPECT_TRUE(HasFault(report, "data_batch_1.bin", 7)) << Faults(report);
  // One of records 9 and 10 changed its label (both cannot have held the label they now hold).
  EXPECT_TRUE(HasFault(report, "data_batch_1.bin", 9) || HasFault(report, "data_batch_1.bin", 10))
      << Faults(report);
}

TEST_F(VerifyTest, TruncationNamesTheIncompleteRecord) {
  fs::resize_file(shard_, 3073 * 20 + 1000);
  const VerifyReport report = VerifyShards(options_.out);
  EXPECT_TRUE(HasFault(report, "data_batch_1.bin", 20)) << Faults(report);
}

}  // namespace
}  // namespace memes::store

namespace memes::store {
namespace {

// --out rules (store/pack.h): only a new, empty, or previous shard folder is replaced.
TEST_F(PackTest, OutputMustBeNewEmptyOrAPreviousShardSet) {
  for (int i = 0; i < 10; ++i) AddItem(i, i % 2 ? "a" : "b");
  // Someone's folder: refused, and its file survives.
  options_.out = dir_ / "precious";
  fs::create_directories(options_.out);
  std::ofstream(options_.out / "thesis.txt") << "years of work";
  auto report = RunPack();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().ToString().find("precious"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(Slurp(options_.out / "thesis.txt"), "years of work");

  // The store itself, a folder above it, its blobs/: refused.
  for (const fs::path& out : {dir_ / "store", dir_, dir_ / "store" / "blobs" / "x"}) {
    options_.out = out;
    report = RunPack();
    ASSERT_FALSE(report.ok()) << out;
    EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument) << out;
  }
  EXPECT_TRUE(fs::exists(dir_ / "store" / "catalog.sqlite"));

  // A dataset.json that is not ours, or a subfolder beside a shard set: refused.
  options_.out = dir_ / "other";
  fs::create_directories(options_.out);
  std::ofstream(options_.out / "dataset.json") << R"({"format": "coco"})";
  EXPECT_FALSE(RunPack().ok());

  // New, empty, then a previous shard set: accepted.
  options_.out = dir_ / "empty";
  fs::create_directories(options_.out);
  ASSERT_TRUE(RunPack().ok());
  ASSERT_TRUE(RunPack().ok());
  fs::create_directories(options_.out / "run");
  report = RunPack();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("run"), std::string::npos);
  EXPECT_TRUE(fs::exists(options_.out / "run"));
}

}  // namespace
}  // namespace memes::store
