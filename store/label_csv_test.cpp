#include "store/label_csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "store/file_util.h"
#include "store/store.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

class LabelCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-label-csv-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = Store::Open(dir_ / "store");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    const std::vector<std::pair<std::string, std::optional<std::string>>> items = {
        {std::string(64, 'a'), "蘑菇头"},
        {std::string(64, 'b'), "with, comma \"and quotes\""},
        {std::string(64, 'c'), std::nullopt},
        {std::string(64, 'd'), " padded "}};
    for (const auto& [blob, label] : items) {
      const SourceRecord source{
          "http://x/" + blob.substr(0, 3) + "?a=1,b=\"2\"", "", "", "", 0, 200};
      ASSERT_TRUE(store_->AddItem({blob, 1, "png", 1, 1, 1, kItemOk, ""}, &source, {}, label).ok());
    }
    const std::string dropped[] = {std::string(64, 'd')};
    ASSERT_TRUE(store_->catalog().SetDropped(dropped, true).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string Slurp(const fs::path& path) {
    auto bytes = ReadWholeFile(path);
    return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "";
  }
  void Write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(LabelCsvTest, ExportImportRoundTripIsLossless) {
  auto rows = ExportLabelCsv(store_->catalog(), dir_ / "a.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 4);
  auto log_before = store_->catalog().LabelLog();
  auto imported = ImportLabelCsv(store_->catalog(), dir_ / "a.csv");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto log_after = store_->catalog().LabelLog();
  EXPECT_EQ(log_before->size(), log_after->size()) << "an unchanged import changes nothing";
  ASSERT_TRUE(ExportLabelCsv(store_->catalog(), dir_ / "b.csv").ok());
  EXPECT_EQ(Slurp(dir_ / "a.csv"), Slurp(dir_ / "b.csv"));
  EXPECT_NE(Slurp(dir_ / "a.csv").find("\"with, comma \"\"and quotes\"\"\""), std::string::npos);
}

TEST_F(LabelCsvTest, ImportAppliesEditsAndLogsThem) {
  ASSERT_TRUE(ExportLabelCsv(store_->catalog(), dir_ / "a.csv").ok());
  std::string csv = Slurp(dir_ / "a.csv");
  const std::string c_row = std::string(64, 'c') + ",";
  csv.replace(csv.find(c_row), c_row.size(), c_row + "new class");
  Write(dir_ / "a.csv", csv);
  ASSERT_TRUE(ImportLabelCsv(store_->catalog(), dir_ / "a.csv").ok());
  auto labels = store_->catalog().Labels();
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->back().name, "new class");
  auto log = store_->catalog().LabelLog();
  EXPECT_NE(log->back().find("import"), std::string::npos);
}

TEST_F(LabelCsvTest, ErrorsNameTheLineAndChangeNothing) {
  const std::string a(64, 'a'), e(64, 'e');
  const std::string header = "hash,label,url,dropped\n";
  struct Case {
    std::string csv;
    std::string where;
    std::string what;
  } cases[] = {
      {header + a + ",x,,0\nnot-a-hash,y,,0\n", ":3", "not a blob hash"},
      {header + a + ",x,,0\n" + e + ",y,,0\n", ":3", "no item"},
      {header + a + ",x,,maybe\n", ":2", "dropped must be 0 or 1"},
      {header + a + ",\"x,,0\n", ":2", "unterminated"},
      {header + a + ",x,\"multi\nline url\",0\n" + a + ",y,,0\n", ":4", "twice"},
      {header + a + ",\"two\nlines\",,0\n", ":2", "line breaks"},
      {"hash;label\n", ":1", "header"},
  };
  for (const Case& c : cases) {
    Write(dir_ / "bad.csv", c.csv);
    auto imported = ImportLabelCsv(store_->catalog(), dir_ / "bad.csv");
    ASSERT_FALSE(imported.ok()) << c.csv;
    EXPECT_EQ(imported.status().where(), (dir_ / "bad.csv").string() + c.where)
        << imported.status().ToString();
    EXPECT_NE(imported.status().message().find(c.what), std::string::npos)
        << imported.status().ToString();
  }
  auto labels = store_->catalog().Labels();
  for (const LabelInfo& label : *labels) EXPECT_NE(label.name, "x");
}

}  // namespace
}  // namespace memes::store
