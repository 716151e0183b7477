// End-to-end: `memes label` through the real binary on stores made by memes_store_fill: a typo
// never makes a class (set, merge, import), import reports and dry-runs its changes and leaves
// alone what the CSV does not mention, tables line up with Chinese names, the log shows dates.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "core/sha256.h"
#include "core/text.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"
#include "tests/store_fixture.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

class LabelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-label-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = (dir_ / "store").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Fill(int items, int classes) {
    const RunResult run = RunProgram({MEMES_STORE_FILL_PATH, store_, "--items",
                                      std::to_string(items), "--classes", std::to_string(classes)});
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
  }
  std::string BlobOf(int item) {
    return ToHex(Sha256Of(std::string_view(FixtureBlobBytes(0, item))));
  }
  RunResult Label(std::vector<std::string> args) {
    args.insert(args.begin(), {"label", "--store", store_});
    return RunMemes(args);
  }
  std::string Export() {
    const std::string csv = (dir_ / "export.csv").string();
    EXPECT_EQ(Label({"export", csv}).exit_code, 0);
    return Slurp(csv);
  }

  fs::path dir_;
  std::string store_;
};

TEST_F(LabelCli, SetToAnUnknownClassIsAUsageErrorUnlessCreateClass) {
  Fill(6, 2);
  RunResult run = Label({"set", BlobOf(0), "clas1"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("no class 'clas1' (did you mean 'class1'?)"), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.err.find("known classes: class0, class1"), std::string::npos) << run.Describe();
  EXPECT_NE(run.err.find("--create-class"), std::string::npos) << run.Describe();
  EXPECT_EQ(Label({"list"}).out.find("clas1 "), std::string::npos) << "no class was made";

  run = Label({"set", BlobOf(0), " class1\r"});
  EXPECT_EQ(run.exit_code, 0) << "a known name with spaces around it: " << run.Describe();
  EXPECT_NE(Export().find(BlobOf(0) + ",class1,"), std::string::npos);

  run = Label({"set", BlobOf(0), "柴犬", "--create-class"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(Label({"list"}).out.find("柴犬"), std::string::npos);

  run = Label({"merge", "class0", "clas1"});
  EXPECT_EQ(run.exit_code, 2) << "merge into a typo: " << run.Describe();
  EXPECT_NE(run.err.find("did you mean 'class1'?"), std::string::npos) << run.Describe();
}

TEST_F(LabelCli, ImportRefusesUnknownClassesReportsCountsAndDryRuns) {
  Fill(6, 2);  // items 0, 2, 4: class0; 1, 3, 5: class1
  ASSERT_EQ(Label({"drop", BlobOf(5)}).exit_code, 0);
  const std::string before = Export();
  const std::string csv = (dir_ / "edit.csv").string();
  // No dropped column: item 5 must stay dropped. Item 0 moves to class1, item 2 gets a typo.
  std::ofstream(csv) << "hash,label,url\n"
                     << BlobOf(0) << ",class1,\n"
                     << BlobOf(2) << ",mushroom_haed,\n"
                     << BlobOf(4) << ",class0,\n"
                     << BlobOf(5) << ",class1,\n";
  RunResult run = Label({"import", csv});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("'mushroom_haed' (line 3"), std::string::npos) << run.Describe();
  EXPECT_NE(run.err.find("--create-classes"), std::string::npos) << run.Describe();
  EXPECT_NE(run.err.find("nothing was changed"), std::string::npos) << run.Describe();
  EXPECT_EQ(Export(), before);

  run = Label({"import", csv, "--create-classes", "--dry-run"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find(BlobOf(0).substr(0, 12) + "  class0 -> class1"), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.out.find(BlobOf(2).substr(0, 12) + "  class0 -> mushroom_haed"), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.out.find("nothing was changed"), std::string::npos) << run.Describe();
  EXPECT_EQ(Export(), before) << "a dry run changes nothing";

  run = Label({"import", csv, "--create-class"});  // both spellings are accepted
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("read 4 rows: 2 relabelled, 2 unchanged, 0 dropped, 0 undropped, "
                         "1 new class (mushroom_haed)"),
            std::string::npos)
      << run.Describe();
  const std::string after = Export();
  EXPECT_NE(after.find(BlobOf(0) + ",class1,"), std::string::npos) << after;
  EXPECT_NE(after.find(BlobOf(5) + ",class1,http://fixture.test/img/5.gif,1"), std::string::npos)
      << "the CSV had no dropped column: item 5 stays dropped\n"
      << after;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Tables line up by terminal columns, not bytes: a CJK character is 3 bytes and 2 columns.
TEST_F(LabelCli, ListAndPackTablesLineUpWithChineseNames) {
  Fill(12, 3);
  ASSERT_EQ(Label({"rename", "class0", "柴犬"}).exit_code, 0);
  ASSERT_EQ(Label({"rename", "class1", "熊本熊表情包"}).exit_code, 0);
  RunResult run = Label({"list"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::vector<std::string> list = Lines(run.out);
  ASSERT_EQ(list.size(), 4u) << run.out;
  for (const std::string& line : list) {
    EXPECT_EQ(DisplayWidth(line), DisplayWidth(list[0])) << "misaligned:\n" << run.out;
  }
  run = RunMemes({"pack", "--store", store_, "--test-fraction", "0.3"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::vector<std::string> table;
  for (const std::string& line : Lines(run.out)) {
    if (line.starts_with("class") || line.starts_with("柴犬") || line.starts_with("熊本熊") ||
        line.starts_with("class2") || line.starts_with("total")) {
      table.push_back(line);
    }
  }
  ASSERT_EQ(table.size(), 5u) << run.out;
  for (const std::string& line : table) {
    EXPECT_EQ(DisplayWidth(line), DisplayWidth(table[0])) << "misaligned:\n" << run.out;
  }
}

// preview draws a Chinese class name with the CJK font (before: "#0" in an ASCII font).
TEST_F(LabelCli, PreviewDrawsChineseClassNames) {
  if (!fs::exists("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")) {
    GTEST_SKIP() << "fonts-wqy-microhei is not installed (scripts/packages.txt installs it)";
  }
  Fill(4, 2);
  ASSERT_EQ(Label({"rename", "class0", "柴犬熊本熊蘑菇头"}).exit_code, 0);
  const std::string png = (dir_ / "preview.png").string();
  const RunResult run = RunMemes({"preview", "--store", store_, "--out", png, "--scale", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("row 0: 柴犬熊本熊蘑菇头"), std::string::npos) << run.Describe();
  const cv::Mat sheet = cv::imread(png, cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(sheet.empty());
  // Row 0 is 96 pixels high from y = 4; its name starts at x = 6. Eight CJK glyphs reach well
  // past x = 60, where "#0" ended long before.
  int ink = 0;
  for (int y = 4; y < 100; ++y) {
    for (int x = 40; x < 60; ++x) ink += sheet.at<uint8_t>(y, x) < 128;
  }
  EXPECT_GT(ink, 20) << "no glyphs where the class name should be";
}

TEST_F(LabelCli, CrawlUrlWithoutKeywordIsAUsageErrorForSeveralKeywords) {
  const fs::path keywords = dir_ / "keywords.tsv";
  fs::create_directories(dir_);
  std::ofstream(keywords) << "shiba\t柴犬\nfrog\t青蛙\n";
  const RunResult run = RunMemes({"crawl", "--keywords", keywords.string(), "--url",
                                  "http://127.0.0.1:9/search?page={page}", "--store", store_});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("--url has no {keyword}"), std::string::npos) << run.Describe();
  EXPECT_FALSE(fs::exists(dir_ / "store")) << "nothing ran";
}

TEST_F(LabelCli, PackPrintsRoundedNumbersAndAgreeingPlurals) {
  Fill(9, 3);
  const RunResult run = RunMemes({"pack", "--store", store_, "--test-fraction", "0.5"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(std::regex_search(
      run.out,
      std::regex(
          " records, [0-9]+\\.[0-9]{2} MB in [0-9]+\\.[0-9]{2} s \\([0-9]+\\.[0-9] MB/s\\)")))
      << run.Describe();
  EXPECT_EQ(run.err.find(" 1 test items"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.out.find(" 1 test records"), std::string::npos) << run.Describe();
}

// #10.8: a numeric option out of range is a usage error naming the option, before anything runs.
TEST_F(LabelCli, NumericOptionsAreRangeCheckedAtParseTime) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"crawl", "--keywords", "k.tsv", "--url", "u", "--store", "s", "--pages", "100000000"},
       "--pages"},
      {{"crawl", "--keywords", "k.tsv", "--url", "u", "--store", "s", "--page-size", "0"},
       "--page-size"},
      {{"pack", "--store", "s", "--seed", "-1"}, "--seed"},
      {{"pack", "--store", "s", "--test-fraction", "1.5"}, "--test-fraction"},
      {{"pack", "--store", "s", "--max-per-class", "-3"}, "--max-per-class"},
      {{"verify", "shards", "--max-faults", "0"}, "--max-faults"},
      {{"preview", "--store", "s", "--per-class", "0"}, "--per-class"},
      {{"preview", "--store", "s", "--scale", "1000"}, "--scale"},
      {{"inspect", "x.gif", "--size", "0"}, "--size"},
      {{"inspect", "x.gif", "--max-frames", "-1"}, "--max-frames"},
  };
  for (const auto& [args, option] : cases) {
    const RunResult run = RunMemes(args);
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_NE(run.err.find(option), std::string::npos) << run.Describe();
  }
}

TEST_F(LabelCli, PositionalsHaveHelpText) {
  RunResult run = RunMemes({"label", "rename", "--help"});
  EXPECT_NE(run.out.find("The class to rename"), std::string::npos) << run.Describe();
  run = RunMemes({"label", "merge", "--help"});
  EXPECT_NE(run.out.find("The class that receives them"), std::string::npos) << run.Describe();
}

TEST_F(LabelCli, LogShowsLocalIsoTimes) {
  Fill(2, 1);
  ASSERT_EQ(Label({"set", BlobOf(0), "renamed", "--create-class"}).exit_code, 0);
  RunOptions in_shanghai;
  in_shanghai.extra_env = {"TZ=CST-8"};  // POSIX form: no tzdata needed
  const RunResult run = RunMemes({"label", "--store", store_, "log"}, in_shanghai);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_GE(lines.size(), 2u) << run.out;
  EXPECT_TRUE(std::regex_search(lines.back(),
                                std::regex("^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}\\+08:00\t")))
      << lines.back();
}

}  // namespace
}  // namespace memes::testing
