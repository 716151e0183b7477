// End-to-end: a generated store → `memes pack` → read back with a CIFAR-10 reader written here
// from the format alone (no store/ code) → the same pixels and labels. Also `memes verify` on
// damaged shards, `memes label` and `memes preview` through the real binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"
#include "tests/store_fixture.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

// A CIFAR-10 binary file: records of 1 label byte + 1024 R + 1024 G + 1024 B.
struct CifarRecord {
  int label;
  std::string pixels;  // 3072 bytes
};
std::vector<CifarRecord> ReadCifar(const fs::path& path) {
  const std::string bytes = Slurp(path);
  EXPECT_EQ(bytes.size() % 3073, 0u) << path;
  std::vector<CifarRecord> records;
  for (size_t offset = 0; offset + 3073 <= bytes.size(); offset += 3073) {
    records.push_back({static_cast<uint8_t>(bytes[offset]), bytes.substr(offset + 1, 3072)});
  }
  return records;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

class StoreE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-store-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = (dir_ / "store").string();
    shards_ = (dir_ / "store" / "shards").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Fill(int items, int first = 0, int classes = 3, int group_size = 1) {
    const RunResult run =
        RunProgram({MEMES_STORE_FILL_PATH, store_, "--items", std::to_string(items), "--first",
                    std::to_string(first), "--classes", std::to_string(classes), "--group-size",
                    std::to_string(group_size)});
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
  }
  std::string BlobOf(int item) {
    return ToHex(Sha256Of(std::string_view(FixtureBlobBytes(0, item))));
  }

  fs::path dir_;
  std::string store_, shards_;
};

TEST_F(StoreE2e, PackedRecordsReadBackAsTheSamePixelsAndLabels) {
  Fill(45);
  const RunResult pack = RunMemes({"pack", "--store", store_});
  ASSERT_EQ(pack.exit_code, 0) << pack.Describe();
  EXPECT_NE(pack.out.find("class0"), std::string::npos) << "the per-class report is printed";

  std::map<std::string, int> item_of;
  for (int i = 0; i < 45; ++i) item_of[BlobOf(i)] = i;
  const std::vector<std::string> classes = Lines(Slurp(fs::path(shards_) / "batches.meta.txt"));
  ASSERT_EQ(classes, (std::vector<std::string>{"class0", "class1", "class2"}));

  std::map<std::string, std::vector<CifarRecord>> files;
  for (const auto& entry : fs::directory_iterator(shards_)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".bin")) files[name] = ReadCifar(entry.path());
  }
  ASSERT_TRUE(files.count("data_batch_1.bin"));
  ASSERT_TRUE(files.count("test_batch.bin"));
  size_t total = 0;
  for (const auto& [name, records] : files) total += records.size();

  const std::vector<std::string> index = Lines(Slurp(fs::path(shards_) / "index.tsv"));
  ASSERT_EQ(index.size(), total + 1);
  std::map<int, std::set<std::string>> sides;
  for (size_t row = 1; row < index.size(); ++row) {
    std::stringstream fields(index[row]);
    std::string file, blob, class_name;
    size_t record = 0;
    int frame = 0, rotation = 0, label = 0;
    fields >> file >> record >> blob >> frame >> rotation >> label >> class_name;
    ASSERT_TRUE(files.count(file)) << index[row];
    ASSERT_LT(record, files[file].size());
    const CifarRecord& r = files[file][record];
    ASSERT_TRUE(item_of.count(blob));
    const int item = item_of[blob];
    sides[item].insert(file == "test_batch.bin" ? "test" : "train");
    EXPECT_EQ(r.label, label);
    EXPECT_EQ(classes[r.label], FixtureClass(item, 3));
    ASSERT_EQ(frame % 3, 0);
    const int k = frame / 3;
    // numpy.rot90(image, rotation): out[y][x] = in[x][31-y] for one quarter turn.
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
          int sy = y, sx = x;
          for (int t = 0; t < rotation; ++t) {
            const int ny = sx, nx = 31 - sy;
            sy = ny, sx = nx;
          }
          ASSERT_EQ(static_cast<uint8_t>(r.pixels[c * 1024 + y * 32 + x]),
                    FixturePixel(item, k, c, sy, sx))
              << file << " record " << record << " rotation " << rotation;
        }
      }
    }
    if (file == "test_batch.bin") {
      EXPECT_EQ(rotation, 0);
    }
  }
  EXPECT_EQ(sides.size(), 45u) << "every item is packed";

  // dataset.json: counts per split and the training split's per-channel mean and std.
  const auto manifest = nlohmann::json::parse(Slurp(fs::path(shards_) / "dataset.json"));
  EXPECT_EQ(manifest["format"], "memes-cifar");
  EXPECT_EQ(manifest["record_bytes"], 3073);
  double sum[3] = {0, 0, 0}, squares[3] = {0, 0, 0}, pixels = 0;
  int64_t train_records = 0;
  for (const auto& [name, records] : files) {
    if (name == "test_batch.bin") {
      EXPECT_EQ(manifest["files"][name]["records"], records.size());
      continue;
    }
    train_records += records.size();
    for (const CifarRecord& r : records) {
      for (int c = 0; c < 3; ++c) {
        for (int i = 0; i < 1024; ++i) {
          const double v = static_cast<uint8_t>(r.pixels[c * 1024 + i]) / 255.0;
          sum[c] += v;
          squares[c] += v * v;
        }
      }
      pixels += 1024;
    }
  }
  int64_t counted = 0;
  for (const auto& [name, count] : manifest["counts"]["train"].items())
    counted += count.get<int64_t>();
  EXPECT_EQ(counted, train_records);
  for (int c = 0; c < 3; ++c) {
    const double mean = sum[c] / pixels;
    EXPECT_NEAR(manifest["mean"][c].get<double>(), mean, 1e-6);
    EXPECT_NEAR(manifest["std"][c].get<double>(), std::sqrt(squares[c] / pixels - mean * mean),
                1e-6);
  }
  for (const auto& [item, side] : sides) EXPECT_EQ(side.size(), 1u) << "item " << item;

  const RunResult verify = RunMemes({"verify", shards_, "--store", store_});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

TEST_F(StoreE2e, VerifyNamesFileAndRecordOfEachFault) {
  Fill(30);
  ASSERT_EQ(RunMemes({"pack", "--store", store_, "--test-fraction", "0"}).exit_code, 0);
  const fs::path shard = fs::path(shards_) / "data_batch_1.bin";
  const std::string pristine = Slurp(shard);
  auto write = [&](const std::string& bytes) { std::ofstream(shard, std::ios::binary) << bytes; };

  std::string flipped = pristine;
  flipped[3073 * 4 + 500] ^= 0x40;
  write(flipped);
  RunResult run = RunMemes({"verify", shards_});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.out.find("data_batch_1.bin: record 4: "), std::string::npos) << run.Describe();

  std::string relabelled = pristine;
  relabelled[3073 * 6] = static_cast<char>((relabelled[3073 * 6] + 1) % 3);
  write(relabelled);
  run = RunMemes({"verify", shards_});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("data_batch_1.bin: record 6: label byte"), std::string::npos)
      << run.Describe();

  write(pristine.substr(0, 3073 * 9 + 17));
  run = RunMemes({"verify", shards_});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("data_batch_1.bin: record 9: incomplete record"), std::string::npos)
      << run.Describe();

  write(pristine);
  run = RunMemes({"verify", shards_});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
}

TEST_F(StoreE2e, LabelCommandsThenRepack) {
  Fill(20, 0, 2);
  RunResult run = RunMemes({"label", "--store", store_, "list"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("class1"), std::string::npos);

  const std::string blob0 = BlobOf(0), blob1 = BlobOf(1);
  run = RunMemes(
      {"label", "set", blob0.substr(0, 10), blob1, "kumamon", "--create-class", "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "rename", "class0", "shiba", "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "merge", "class1", "shiba", "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "drop", BlobOf(2), "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "set", "ffff", "x", "--store", store_});
  EXPECT_EQ(run.exit_code, 2) << "unknown item";

  const std::string csv = (dir_ / "labels.csv").string();
  ASSERT_EQ(RunMemes({"label", "export", csv, "--store", store_}).exit_code, 0);
  const std::string exported = Slurp(csv);
  EXPECT_NE(exported.find(blob0 + ",kumamon,http://fixture.test/img/0.gif,0"), std::string::npos)
      << exported;
  EXPECT_NE(exported.find(BlobOf(2) + ",shiba,"), std::string::npos);
  ASSERT_EQ(RunMemes({"label", "import", csv, "--store", store_}).exit_code, 0);
  const std::string again = (dir_ / "again.csv").string();
  ASSERT_EQ(RunMemes({"label", "export", again, "--store", store_}).exit_code, 0);
  EXPECT_EQ(Slurp(again), exported) << "export → import → export is lossless";

  std::ofstream(csv) << "hash,label,url\n" << blob0 << ",a,\nnot-a-hash,b,\n";
  run = RunMemes({"label", "import", csv, "--store", store_});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("labels.csv:3"), std::string::npos) << run.Describe();

  // label group: items 3 (by URL) and 4 (by hash) share one group; an unknown URL is skipped.
  const std::string groups = (dir_ / "groups.csv").string();
  std::ofstream(groups)
      << "url,group\nhttp://fixture.test/img/3.gif,k\nhttp://nowhere.test/x.gif,k\n"
      << BlobOf(4) << ",k\n";
  run = RunMemes({"label", "group", groups, "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.err.find("groups.csv:3"), std::string::npos) << run.Describe();
  EXPECT_NE(run.out.find("1 rows naming no item"), std::string::npos) << run.Describe();

  run = RunMemes({"pack", "--store", store_, "--test-fraction", "0.3"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Lines(Slurp(fs::path(shards_) / "batches.meta.txt")),
            (std::vector<std::string>{"shiba", "kumamon"}));
  const std::string index = Slurp(fs::path(shards_) / "index.tsv");
  EXPECT_EQ(index.find(BlobOf(2)), std::string::npos) << "a dropped item is not packed";
  run = RunMemes({"label", "log", "--store", store_});
  EXPECT_NE(run.out.find("merge"), std::string::npos);
  EXPECT_NE(run.out.find("group k"), std::string::npos) << run.out;
}

TEST_F(StoreE2e, PreviewWritesAPngFromStoreAndShards) {
  Fill(12);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  const std::string from_store = (dir_ / "store.png").string();
  RunResult run = RunMemes({"preview", "--store", store_, "--out", from_store});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Slurp(from_store).substr(1, 3), "PNG");
  const std::string from_shards = (dir_ / "shards.png").string();
  run = RunMemes({"preview", "--shards", shards_, "--out", from_shards});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Slurp(from_shards).substr(1, 3), "PNG");
  EXPECT_EQ(RunMemes({"preview"}).exit_code, 2);
}

// `memes store compact` rewrites the frames segments; the pack after it is byte for byte the
// pack before it.
TEST_F(StoreE2e, StoreCompactKeepsEveryItemAndThePack) {
  Fill(12);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  const std::string before = Slurp(fs::path(shards_) / "dataset.json");
  const RunResult run = RunMemes({"store", "compact", "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("12 items' frames"), std::string::npos) << run.Describe();
  EXPECT_EQ(RunMemes({"verify", "--store", store_}).exit_code, 0);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  EXPECT_EQ(Slurp(fs::path(shards_) / "dataset.json"), before);
}

TEST_F(StoreE2e, MissingStoreIsAUsageError) {
  const RunResult run = RunMemes({"pack", "--store", (dir_ / "nothing").string()});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_FALSE(fs::exists(dir_ / "nothing" / "catalog.sqlite")) << "pack must not create a store";
}

}  // namespace
}  // namespace memes::testing
