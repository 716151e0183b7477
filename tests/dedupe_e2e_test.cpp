// End-to-end: `memes dedupe` through the real binary on a generated store: regrouping reports
// the histogram and the items that changed group, a second run changes nothing, `--report`
// writes the mosaic and the numbers, bad input is a usage error, and a crawl into a store
// without the signatures grouping needs says so until a regroup fills them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "tests/harness/run_memes.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

class DedupeE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-dedupe-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = (dir_ / "store").string();
    const RunResult run = RunProgram(
        {MEMES_STORE_FILL_PATH, store_, "--items", "24", "--classes", "2", "--group-size", "3"});
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string store_;
};

TEST_F(DedupeE2e, RegroupReportsChangesThenIsIdempotentAndPackFollows) {
  RunResult run = RunMemes({"dedupe", "--store", store_, "--threshold", "8"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(
      run.out.find("regrouped 24 items (verified: hash within 8 bits (6 for quarter turns) "
                   "or middle-band hash within 6 bits (past 4: thumbnail within 12), thumbnail "
                   "within 30, mean colour within 30, worst cells within 70, groups whose "
                   "founders both accept an item within 20 merge; 8 bits where a frame has no "
                   "thumbnail; 4 representatives a group)"),
      std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("items changed group"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("group sizes after:"), std::string::npos) << run.out;
  run = RunMemes({"dedupe", "--store", store_, "--threshold", "8"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("; 0 items changed group"), std::string::npos) << run.out;
  run = RunMemes({"pack", "--store", store_});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
}

// The fixture's frames carry no thumbnail and no band hash, as those of a store written by an
// older memes (or whose band hashes schema 9's migration dropped): a crawl into it names the
// store and the command that fixes it; after `memes dedupe` the next crawl has nothing to say.
TEST_F(DedupeE2e, ACrawlSaysWhenStoredFramesLackSignaturesUntilARegroupFillsThem) {
  const fs::path images = dir_ / "images" / "cat";
  fs::create_directories(images);
  cv::Mat picture(24, 24, CV_8UC3, cv::Scalar(30, 160, 220));
  picture(cv::Rect(6, 6, 12, 12)).setTo(cv::Scalar(20, 20, 20));
  ASSERT_TRUE(cv::imwrite((images / "0.png").string(), picture));
  std::ofstream(dir_ / "folder.toml") << "store = \"store\"\n[classes]\ncat = []\n"
                                      << "[[sources]]\nkind = \"folder\"\npath = \"images\"\n";
  const std::string warning =
      "stored frames lack a verification thumbnail, a band hash or a content hash";
  RunResult run = RunMemes({"crawl", (dir_ / "folder.toml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.err.find(warning), std::string::npos) << run.Describe();
  EXPECT_NE(run.err.find("`memes dedupe --store " + store_ + "`"), std::string::npos)
      << run.Describe();
  run = RunMemes({"dedupe", "--store", store_});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"crawl", (dir_ / "folder.toml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.err.find(warning), std::string::npos) << run.Describe();
}

TEST_F(DedupeE2e, ReportWritesMosaicAndNumbers) {
  const fs::path out = dir_ / "report";
  const RunResult run = RunMemes({"dedupe", "--store", store_, "--report", "--out", out.string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("24 grouped items in 8 near-duplicate groups (largest 3)"),
            std::string::npos)
      << run.out;
  EXPECT_GT(fs::file_size(out / "largest-groups.png"), 100u);
  std::ifstream in(out / "dedupe.json");
  const auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["groups"], 8);
  EXPECT_EQ(json["largest_group"], 3);
  EXPECT_EQ(json["group_sizes"]["3"], 8);
  EXPECT_EQ(json["largest_groups"].size(), 8u);
  EXPECT_EQ(json["exact_duplicate_sources"], 0);
}

TEST_F(DedupeE2e, BadThresholdAndMissingStoreAreUsageErrors) {
  RunResult run = RunMemes({"dedupe", "--store", store_, "--threshold", "40"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  run = RunMemes({"dedupe", "--store", (dir_ / "nowhere").string()});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("no store here"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace memes::testing
