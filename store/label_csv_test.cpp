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

TEST_F(LabelCsvTest, GroupCsvMergesGroupsByUrlOrHashAndSkipsUnknownRows) {
  Catalog& catalog = store_->catalog();
  // Four items with frames far apart in phash: four groups of their own.
  const uint64_t phashes[] = {0, ~0ULL, 0xFFFFFFFFULL, 0xFFFFFFFF00000000ULL};
  std::vector<std::string> blobs;
  for (int i = 0; i < 4; ++i) {
    const std::string blob(64, static_cast<char>('1' + i));
    const SourceRecord source{"http://site/img/" + std::to_string(i) + ".png", "", "", "", 0, 200};
    const FrameRecord frame{0, 0, phashes[i]};
    auto added = catalog.AddItem({blob, 1, "png", 1, 1, 1, kItemOk, ""}, &source,
                                 std::span<const FrameRecord>(&frame, 1), "smileys");
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    blobs.push_back(blob);
  }
  auto group_key = [&](const std::string& blob) {
    auto entries = catalog.PackIndex();
    for (const PackEntry& entry : *entries) {
      if (entry.blob == blob) return entry.group_key;
    }
    return std::string();
  };
  ASSERT_NE(group_key(blobs[0]), group_key(blobs[1]));

  // A malformed row changes nothing and names its line.
  Write(dir_ / "bad.csv", "url,group\nhttp://site/img/0.png,1f600\n" + blobs[1] + ",1f600,x\n");
  auto bad = ApplyGroupCsv(catalog, dir_ / "bad.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where(), (dir_ / "bad.csv").string() + ":3");
  EXPECT_NE(group_key(blobs[0]), group_key(blobs[1]));

  // No header here; one unknown URL is reported and skipped, the rest applied.
  Write(dir_ / "groups.csv", "http://site/img/0.png,1f600\n" + blobs[1] +
                                 ",1f600\nhttp://site/img/missing.png,1f600\n" + blobs[2] +
                                 ",1f601\nhttp://site/img/3.png,1f601\n");
  auto report = ApplyGroupCsv(catalog, dir_ / "groups.csv");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows, 5);
  EXPECT_EQ(report->groups, 2);
  EXPECT_EQ(report->moved, 2);
  ASSERT_EQ(report->unknown.size(), 1u);
  EXPECT_NE(report->unknown[0].find("groups.csv:3"), std::string::npos) << report->unknown[0];
  EXPECT_EQ(group_key(blobs[0]), blobs[0]) << "the lowest group keeps its key";
  EXPECT_EQ(group_key(blobs[1]), blobs[0]);
  EXPECT_EQ(group_key(blobs[2]), blobs[2]);
  EXPECT_EQ(group_key(blobs[3]), blobs[2]);
  auto log = catalog.LabelLog();
  ASSERT_TRUE(log.ok());
  int logged = 0;
  for (const std::string& row : *log) logged += row.find("\tgroup 1f60") != std::string::npos;
  EXPECT_EQ(logged, 2);

  // Applying the same file again moves nothing.
  auto again = ApplyGroupCsv(catalog, dir_ / "groups.csv");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->moved, 0);
}

}  // namespace
}  // namespace memes::store
