// End-to-end data safety (issue #10, store side) through the real `memes` binary: what a typo
// in --out, a pack that cannot read some items, a second writer, or a hostile shards folder
// may do to data. Each test failed on the code before the fix it guards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/sha256.h"
#include "store/store.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"
#include "tests/store_fixture.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

class DataSafetyE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-safety-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = (dir_ / "store").string();
    shards_ = (dir_ / "store" / "shards").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Fill(int items, int first = 0) {
    const RunResult run = RunProgram({MEMES_STORE_FILL_PATH, store_, "--items",
                                      std::to_string(items), "--first", std::to_string(first)});
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
  }
  static std::string BlobOf(int item) {
    return ToHex(Sha256Of(std::string_view(FixtureBlobBytes(0, item))));
  }
  // Makes the frames of `item` unreadable (a CRC mismatch in its segment record).
  void DamageFrames(int item) const {
    store::StoreOptions options;
    options.access = store::StoreAccess::kRead;
    auto store = store::Store::Open(store_, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto location = (*store)->catalog().FramesLocationOf(BlobOf(item));
    ASSERT_TRUE(location.ok()) << location.status().ToString();
    ASSERT_TRUE(
        store::DamageFramesForTesting(fs::path(store_) / "frames", BlobOf(item), *location).ok());
  }

  fs::path dir_;
  std::string store_, shards_;
};

TEST_F(DataSafetyE2e, PackRefusesToReplaceAFolderThatIsNotAShardSet) {
  Fill(12);
  const fs::path precious = dir_ / "precious";
  fs::create_directories(precious);
  std::ofstream(precious / "thesis.txt") << "four years";
  RunResult run = RunMemes({"pack", "--store", store_, "--out", precious.string()});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("precious"), std::string::npos) << run.Describe();
  EXPECT_EQ(Slurp(precious / "thesis.txt"), "four years");

  // `--out .` from a folder with a file in it, the store itself, the folder above the store.
  RunOptions in_precious;
  in_precious.working_dir = precious;
  run = RunMemes({"pack", "--store", store_, "--out", "."}, in_precious);
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_EQ(Slurp(precious / "thesis.txt"), "four years");
  for (const std::string& out : {store_, dir_.string(), store_ + "/"}) {
    run = RunMemes({"pack", "--store", store_, "--out", out});
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_NE(run.err.find("store"), std::string::npos) << run.Describe();
  }
  EXPECT_TRUE(fs::exists(fs::path(store_) / "catalog.sqlite"));
  EXPECT_EQ(RunMemes({"verify", "--store", store_}).exit_code, 0);

  // The default output, then the same again (a previous shard set is replaced): fine.
  EXPECT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  run = RunMemes({"pack", "--store", store_});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
}

TEST_F(DataSafetyE2e, APackThatCannotReadSomeItemsKeepsThePreviousShards) {
  Fill(20);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  const std::string before = Slurp(fs::path(shards_) / "dataset.json");
  Fill(5, 20);  // the next pack would hold more
  DamageFrames(3);
  RunResult run = RunMemes({"pack", "--store", store_});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.out.find("keeps its previous shards"), std::string::npos) << run.Describe();
  EXPECT_EQ(Slurp(fs::path(shards_) / "dataset.json"), before);
  EXPECT_EQ(RunMemes({"verify", shards_}).exit_code, 0);

  run = RunMemes({"pack", "--store", store_, "--skip-unreadable"});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(Slurp(fs::path(shards_) / "dataset.json"), before);
  EXPECT_EQ(RunMemes({"verify", shards_}).exit_code, 0);
}

TEST_F(DataSafetyE2e, ASecondWriterIsRefusedWithTheHoldersPidAndReadersGoOn) {
  Fill(12);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  auto held = store::Store::Open(store_);  // this process is now the store's writer
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  const std::string pid = "PID " + std::to_string(::getpid());

  std::ofstream(dir_ / "keywords.tsv") << "cat\tcat\n";
  const std::vector<std::vector<std::string>> writers = {
      {"pack", "--store", store_},
      {"label", "--store", store_, "set", BlobOf(1).substr(0, 12), "class0"},
      {"label", "--store", store_, "rename", "class0", "zero"},
      {"crawl", "--keywords", (dir_ / "keywords.tsv").string(), "--url",
       "http://127.0.0.1:9/search?q={keyword}", "--store", store_},
  };
  for (const auto& args : writers) {
    const RunResult run = RunMemes(args);
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_NE(run.err.find(pid), std::string::npos) << run.Describe();
  }
  const std::vector<std::vector<std::string>> readers = {
      {"verify", shards_, "--store", store_},
      {"label", "--store", store_, "list"},
      {"label", "--store", store_, "log"},
      {"label", "--store", store_, "export", (dir_ / "labels.csv").string()},
      {"preview", "--store", store_, "--out", (dir_ / "preview.png").string()},
      {"preview", "--shards", shards_, "--out", (dir_ / "preview2.png").string()},
  };
  for (const auto& args : readers) {
    const RunResult run = RunMemes(args);
    EXPECT_EQ(run.exit_code, 0) << run.Describe();
  }
  held->reset();  // released: writers work again
  const RunResult run = RunMemes({"label", "--store", store_, "rename", "class0", "zero"});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
}

TEST_F(DataSafetyE2e, HostileIndexRowsNeverReadOutsideTheShards) {
  Fill(12);
  ASSERT_EQ(RunMemes({"pack", "--store", store_, "--test-fraction", "0"}).exit_code, 0);
  // A secret beside the shards folder that an index row tries to reach.
  std::ofstream(dir_ / "store" / "secret.bin") << std::string(3073 * 2, 'S');
  const fs::path index = fs::path(shards_) / "index.tsv";
  const std::string pristine = Slurp(index);
  const std::string header = pristine.substr(0, pristine.find('\n') + 1);
  const std::string blob(64, 'a');
  const std::string rows[] = {
      "../secret.bin\t0\t" + blob + "\t0\t0\t0\tclass0\t00000000\n",
      "data_batch_1.bin\t18446744073709551615\t" + blob + "\t0\t0\t0\tclass0\t00000000\n",
      "data_batch_1.bin\t6004799503160662\t" + blob + "\t0\t0\t0\tclass0\t00000000\n",
  };
  for (const std::string& row : rows) {
    std::ofstream(index, std::ios::trunc) << header << row;
    RunResult run = RunMemes({"verify", shards_});
    EXPECT_EQ(run.exit_code, 1) << run.Describe();
    EXPECT_EQ(run.signal, 0) << run.Describe();
    EXPECT_NE(run.out.find("index.tsv"), std::string::npos) << run.Describe();
    run = RunMemes({"preview", "--shards", shards_, "--out", (dir_ / "p.png").string()});
    EXPECT_EQ(run.exit_code, 1) << run.Describe();
    EXPECT_EQ(run.signal, 0) << run.Describe();
    EXPECT_NE(run.err.find("index.tsv"), std::string::npos) << run.Describe();
  }
}

TEST_F(DataSafetyE2e, ADatasetJsonWithWrongTypesIsAnErrorNamingTheField) {
  Fill(12);
  ASSERT_EQ(RunMemes({"pack", "--store", store_}).exit_code, 0);
  const fs::path manifest_path = fs::path(shards_) / "dataset.json";
  const auto pristine = nlohmann::json::parse(Slurp(manifest_path));
  const std::pair<std::string, nlohmann::json> cases[] = {
      {"image_size", "32"}, {"image_size", 1 << 20}, {"classes", 7}, {"mean", "grey"}};
  for (const auto& [field, value] : cases) {
    nlohmann::json json = pristine;
    json[field] = value;
    std::ofstream(manifest_path, std::ios::trunc) << json.dump();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"verify", shards_},
          std::vector<std::string>{"preview", "--shards", shards_, "--out",
                                   (dir_ / "p.png").string()}}) {
      const RunResult run = RunMemes(args);
      EXPECT_EQ(run.exit_code, 1) << run.Describe();
      EXPECT_EQ(run.signal, 0) << run.Describe();
      EXPECT_NE((run.out + run.err).find("'" + field + "'"), std::string::npos) << run.Describe();
    }
  }
}

// stats.json goes through the store's atomic write with a unique temp name: a leftover at the
// old fixed temp name (here a folder, as a second crawl's half-written file would be) no
// longer stops it being written.
TEST_F(DataSafetyE2e, StatsJsonIsWrittenAtomicallyWithAUniqueTempName) {
  const fs::path images = dir_ / "images";
  for (const char* label : {"cat", "dog"}) {
    fs::create_directories(images / label);
    for (int i = 0; i < 2; ++i) {
      cv::Mat picture(24, 24, CV_8UC3, cv::Scalar(40 * i, label[0] == 'c' ? 200 : 20, 90));
      cv::imwrite((images / label / (std::to_string(i) + ".png")).string(), picture);
    }
  }
  std::ofstream(dir_ / "folder.toml") << "store = \"store\"\n"
                                      << "[classes]\ncat = []\ndog = []\n"
                                      << "[[sources]]\nkind = \"folder\"\npath = \"images\"\n";
  fs::create_directories(fs::path(store_) / "stats.json.tmp");
  const RunResult run = RunMemes({"crawl", (dir_ / "folder.toml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const auto stats = nlohmann::json::parse(Slurp(fs::path(store_) / "stats.json"), nullptr, false);
  EXPECT_TRUE(stats.is_object()) << run.Describe();
}

}  // namespace
}  // namespace memes::testing
