#include "store/label_csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

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
        {std::string(64, 'd'), "padded"}};
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
  ImportOptions create;
  create.create_classes = true;
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "a.csv", create);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows, 4);
  EXPECT_EQ(report->relabelled, 1);
  EXPECT_EQ(report->unchanged, 3);
  EXPECT_EQ(report->new_classes, std::vector<std::string>{"new class"});
  auto labels = store_->catalog().Labels();
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->back().name, "new class");
  auto log = store_->catalog().LabelLog();
  EXPECT_NE(log->back().find("import"), std::string::npos);
}

TEST_F(LabelCsvTest, UnknownClassIsAnErrorNamingItsLineAndTheClosestClass) {
  const std::string a(64, 'a'), c(64, 'c');
  Write(dir_ / "typo.csv", "hash,label,url\n" + a + ",蘑菇头,\n" + c + ",paded,\n");
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "typo.csv");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
  const std::string message = report.status().ToString();
  EXPECT_NE(message.find("'paded' (line 3, did you mean 'padded'?)"), std::string::npos) << message;
  EXPECT_NE(message.find("known classes: 蘑菇头, "), std::string::npos) << message;
  EXPECT_NE(message.find("--create-classes"), std::string::npos) << message;
  auto labels = store_->catalog().Labels();
  for (const LabelInfo& label : *labels) EXPECT_NE(label.name, "paded");
}

TEST_F(LabelCsvTest, DryRunReportsTheDiffAndChangesNothing) {
  const std::string a(64, 'a'), c(64, 'c'), d(64, 'd');
  Write(dir_ / "edit.csv",
        "hash,label,url,dropped\n" + a + ",padded,,1\n" + c + ",蘑菇头,,0\n" + d + ",padded,,0\n");
  auto log_before = store_->catalog().LabelLog();
  ImportOptions dry;
  dry.dry_run = true;
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "edit.csv", dry);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->relabelled, 2);
  EXPECT_EQ(report->dropped, 1);
  EXPECT_EQ(report->undropped, 1);
  EXPECT_EQ(report->unchanged, 0);
  EXPECT_EQ(report->diff,
            (std::vector<std::string>{
                a.substr(0, 12) + "  蘑菇头 -> padded", a.substr(0, 12) + "  drop",
                c.substr(0, 12) + "  (none) -> 蘑菇头", d.substr(0, 12) + "  undrop"}));
  EXPECT_EQ(store_->catalog().LabelLog()->size(), log_before->size()) << "a dry run writes nothing";
  report = ImportLabelCsv(store_->catalog(), dir_ / "edit.csv");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(store_->catalog().LabelLog()->size(), log_before->size() + 4);
}

TEST_F(LabelCsvTest, WithoutADroppedColumnTheDroppedFlagStays) {
  const std::string d(64, 'd');
  // d is dropped (SetUp); a CSV without the column, or with an empty cell, must not undrop it.
  for (const std::string& csv :
       {"hash,label,url\n" + d + ",padded,\n", "hash,label,url,dropped\n" + d + ",padded,,\n"}) {
    Write(dir_ / "nodrop.csv", csv);
    auto report = ImportLabelCsv(store_->catalog(), dir_ / "nodrop.csv");
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->undropped, 0) << csv;
    EXPECT_EQ(report->unchanged, 1) << csv;
    bool dropped = false;
    ASSERT_TRUE(store_->catalog()
                    .ForEachLabelRow([&](const LabelRow& row) {
                      if (row.blob == d) dropped = row.dropped;
                      return Status::Ok();
                    })
                    .ok());
    EXPECT_TRUE(dropped) << csv;
  }
}

TEST_F(LabelCsvTest, CellsAreTrimmedOfSpacesCrAndBoms) {
  const std::string c(64, 'c');
  Write(dir_ / "spaces.csv",
        "\xEF\xBB\xBFhash , label ,url,dropped\r\n " + c + " ,\" \xEF\xBB\xBF蘑菇头 \",, 0 \r\n");
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "spaces.csv");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->relabelled, 1);
  EXPECT_TRUE(report->new_classes.empty()) << "' 蘑菇头 ' is the known class 蘑菇头";
}

TEST(LabelClasses, ClosestClassSuggestsOnlyLikelyTypos) {
  const std::vector<std::string> known = {"mushroom_head", "kumamon", "柴犬", "frog"};
  EXPECT_EQ(ClosestClass("mushroom_haed", known), "mushroom_head");
  EXPECT_EQ(ClosestClass("kumamn", known), "kumamon");
  EXPECT_EQ(ClosestClass("柴大", known), std::nullopt) << "one of two characters is not a typo";
  EXPECT_EQ(ClosestClass("brand_new_class", known), std::nullopt);
  EXPECT_TRUE(CheckKnownClass("frog", known, "--create-class").ok());
  const Status unknown = CheckKnownClass("frgo", known, "--create-class");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(),
            "no class 'frgo' (did you mean 'frog'?); known classes: mushroom_head, kumamon, 柴犬, "
            "frog; add --create-class to create it");
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

// Labels and dropped flags now, by blob.
std::map<std::string, std::pair<std::string, bool>> LabelsNow(Catalog& catalog) {
  std::map<std::string, std::pair<std::string, bool>> now;
  EXPECT_TRUE(catalog
                  .ForEachLabelRow([&](const LabelRow& row) -> Status {
                    now[row.blob] = {row.label, row.dropped};
                    return Status::Ok();
                  })
                  .ok());
  return now;
}

constexpr const char* kReviewHeader = "hash,label,suggested,score,url,action,margin\n";

TEST_F(LabelCsvTest, ReviewCsvAppliesKeepRelabelAndDrop) {
  const std::string a(64, 'a'), b(64, 'b'), d(64, 'd');
  Write(dir_ / "suspects.csv", std::string(kReviewHeader) +
                                   // relabel with the label cell untouched: takes suggested
                                   a + ",蘑菇头,padded,0.01,http://x/a,relabel,-0.9\n" +
                                   // drop: the label stays
                                   b + ",\"with, comma \"\"and quotes\"\"\",蘑菇头,0.2,,Drop,0\n" +
                                   // empty action, and a row without the action cell at all
                                   d + ",padded,蘑菇头,0.3,,,0.1\n");
  auto before = store_->catalog().LabelLog();
  ImportOptions dry;
  dry.dry_run = true;
  auto planned = ImportLabelCsv(store_->catalog(), dir_ / "suspects.csv", dry);
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  EXPECT_TRUE(planned->review);
  EXPECT_EQ(planned->relabelled, 1);
  EXPECT_EQ(planned->dropped, 1);
  EXPECT_EQ(planned->unchanged, 1);
  EXPECT_EQ(store_->catalog().LabelLog()->size(), before->size()) << "a dry run changes nothing";

  auto report = ImportLabelCsv(store_->catalog(), dir_ / "suspects.csv");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto now = LabelsNow(store_->catalog());
  EXPECT_EQ(now[a].first, "padded");
  EXPECT_FALSE(now[a].second);
  EXPECT_EQ(now[b].first, "with, comma \"and quotes\"");
  EXPECT_TRUE(now[b].second);
  EXPECT_EQ(now[d].first, "padded");
  EXPECT_TRUE(now[d].second) << "keep leaves the dropped flag alone";
  auto log = store_->catalog().LabelLog();
  ASSERT_EQ(log->size(), before->size() + 2);
  const std::string& relabel_entry = (*log)[log->size() - 2];  // rows apply in file order
  EXPECT_NE(relabel_entry.find(a), std::string::npos) << relabel_entry;
  EXPECT_NE(relabel_entry.find("import review"), std::string::npos) << relabel_entry;
}

TEST_F(LabelCsvTest, ReviewCsvRelabelPrefersAnEditedLabelCell) {
  const std::string a(64, 'a');
  Write(dir_ / "suspects.csv", std::string(kReviewHeader) + a + ",padded,蘑菇头,0.01,,relabel\n");
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "suspects.csv");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(LabelsNow(store_->catalog())[a].first, "padded");
}

TEST_F(LabelCsvTest, ReviewCsvRejectsAnEditWithoutRelabelAndUnknownActionsAtomically) {
  const std::string a(64, 'a'), b(64, 'b');
  const std::string ok_row = a + ",蘑菇头,padded,0.01,,relabel\n";
  Write(dir_ / "edit.csv", std::string(kReviewHeader) + ok_row + b + ",padded,蘑菇头,0.2,,keep\n");
  auto report = ImportLabelCsv(store_->catalog(), dir_ / "edit.csv");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().ToString().find("edit.csv:3"), std::string::npos)
      << report.status().ToString();
  EXPECT_NE(report.status().ToString().find("write relabel"), std::string::npos);

  Write(dir_ / "word.csv", std::string(kReviewHeader) + ok_row + b + ",x,y,0.2,,delete\n");
  report = ImportLabelCsv(store_->catalog(), dir_ / "word.csv");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().ToString().find("not 'delete'"), std::string::npos)
      << report.status().ToString();

  Write(dir_ / "typo.csv", std::string(kReviewHeader) + a + ",蘑菇头,paded,0.01,,relabel\n");
  report = ImportLabelCsv(store_->catalog(), dir_ / "typo.csv");
  ASSERT_FALSE(report.ok()) << "a suggested class that does not exist needs --create-classes";
  EXPECT_EQ(LabelsNow(store_->catalog())[a].first, "蘑菇头") << "all or nothing";
}

}  // namespace
}  // namespace memes::store
