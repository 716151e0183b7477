#include "store/catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace memes::store {
namespace {

namespace fs = std::filesystem;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("memes-catalog-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
    auto catalog = Catalog::Open(path_ / "catalog.sqlite");
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  }
  void TearDown() override {
    catalog_.reset();
    fs::remove_all(path_);
  }
  static std::string Hash(char c) { return std::string(64, c); }
  Result<AddResult> Add(char c, uint64_t phash, std::optional<std::string> label = "cat") {
    const FrameRecord frames[] = {{0, 0, phash}};
    const SourceRecord source{std::string("http://x/") + c, "http://x/page", "kw", "site", 1, 200};
    return catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, &source, frames, label);
  }

  fs::path path_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, OpensAtTheCurrentSchemaAndRefusesANewerOne) {
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  catalog_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((path_ / "catalog.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto reopened = Catalog::Open(path_ / "catalog.sqlite");
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.status().message().find("newer"), std::string::npos);
}

TEST_F(CatalogTest, ExactDuplicateOnlyGainsASource) {
  auto first = Add('a', 0x1111);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->new_item);
  const SourceRecord other{"http://y/a", "", "kw2", "site2", 2, 200};
  const FrameRecord frames[] = {{0, 0, 0x1111}};
  auto second =
      catalog_->AddItem({Hash('a'), 1, "png", 8, 8, 1, kItemOk, ""}, &other, frames, "dog");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->new_item);
  EXPECT_EQ(second->group, first->group);
  auto url = catalog_->LookupUrl("http://y/a");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, UrlState::kFetched);
  auto labels = catalog_->Labels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 1u) << "the first label stays; 'dog' was not applied";
  EXPECT_EQ((*labels)[0].name, "cat");
}

TEST_F(CatalogTest, NearDuplicatePhashesShareAGroup) {
  auto a = Add('a', 0xF0F0F0F0F0F0F0F0ULL);
  auto b = Add('b', 0xF0F0F0F0F0F0F0F1ULL);  // 1 bit away
  auto c = Add('c', 0x0F0F0F0F0F0F0F0FULL);  // far
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->group, b->group);
  EXPECT_NE(a->group, c->group);
  auto index = catalog_->PackIndex();
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->size(), 3u);
  EXPECT_EQ((*index)[1].group_key, Hash('a')) << "a group is keyed by its founding blob";
}

// AddItem says where its time went (bench/dedupe_bench times the transaction alone with it):
// a commit always takes some time, and the lookup of an item without frames none.
TEST_F(CatalogTest, AddItemReportsItsLookupAndTransactionTimes) {
  auto a = Add('a', 1);
  ASSERT_TRUE(a.ok());
  EXPECT_GT(a->transaction_seconds, 0);
  EXPECT_GE(a->lookup_seconds, 0);
  auto no_frames =
      catalog_->AddItem({Hash('n'), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr, {}, std::nullopt);
  ASSERT_TRUE(no_frames.ok());
  EXPECT_GT(no_frames->transaction_seconds, 0);
  EXPECT_LT(no_frames->lookup_seconds, 0.01);
}

TEST_F(CatalogTest, LabelsSetRenameMergeDropAreLogged) {
  ASSERT_TRUE(Add('a', 1).ok());
  ASSERT_TRUE(Add('b', 1ULL << 40, "dog").ok());
  const std::string a[] = {Hash('a')};
  ASSERT_TRUE(catalog_->SetLabel(a, "dog").ok());
  ASSERT_TRUE(catalog_->RenameLabel("dog", "shiba").ok());
  EXPECT_FALSE(catalog_->RenameLabel("nope", "x").ok());
  ASSERT_TRUE(catalog_->MergeLabels("shiba", "cat").ok());
  auto labels = catalog_->Labels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].name, "cat");
  EXPECT_EQ((*labels)[0].id, 1) << "ids never shuffle";
  EXPECT_EQ((*labels)[0].items, 2);
  EXPECT_TRUE((*labels)[1].retired);
  ASSERT_TRUE(catalog_->SetDropped(a, true).ok());
  labels = catalog_->Labels();
  EXPECT_EQ((*labels)[0].items, 1);
  EXPECT_EQ((*labels)[0].dropped, 1);
  auto log = catalog_->LabelLog();
  ASSERT_TRUE(log.ok());
  ASSERT_GE(log->size(), 6u);
  EXPECT_NE(log->back().find("drop"), std::string::npos);
  auto resolved = catalog_->ResolvePrefix("bbb");
  ASSERT_TRUE(resolved.ok());
  ASSERT_EQ(resolved->size(), 1u);
  EXPECT_FALSE(catalog_->ResolvePrefix("XYZ").ok());
}

TEST_F(CatalogTest, EnsureLabelsCreatesMissingLabelsInTheGivenOrder) {
  const std::string first[] = {"zebra", "ant"};
  ASSERT_TRUE(catalog_->EnsureLabels(first).ok());
  const std::string second[] = {"bee", "ant", "zebra"};
  ASSERT_TRUE(catalog_->EnsureLabels(second).ok());
  auto labels = catalog_->Labels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 3u);
  EXPECT_EQ((*labels)[0].name, "zebra");
  EXPECT_EQ((*labels)[1].name, "ant");
  EXPECT_EQ((*labels)[2].name, "bee");
  const std::string bad[] = {"tab\there"};
  EXPECT_FALSE(catalog_->EnsureLabels(bad).ok());
}

TEST_F(CatalogTest, ResumeLookups) {
  auto state = catalog_->LookupUrl("http://gone/404");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, UrlState::kUnknown);
  // A failure worth a retry (timeout, full disk…) leaves the URL to the next run.
  ASSERT_TRUE(
      catalog_->RecordFailure("http://gone/404", "fetch", "timeout", "timed out", false).ok());
  ASSERT_TRUE(catalog_->RecordError("http://gone/404", "store", "disk full").ok());
  state = catalog_->LookupUrl("http://gone/404");
  EXPECT_EQ(*state, UrlState::kUnknown);
  // A final one (the server's last word) is remembered: a rerun does not fetch it again.
  ASSERT_TRUE(
      catalog_->RecordFailure("http://gone/404", "fetch", "http-404", "HTTP 404", true).ok());
  state = catalog_->LookupUrl("http://gone/404");
  EXPECT_EQ(*state, UrlState::kFailed);
  auto read = catalog_->PageRead("http://search?q=a&page=1");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(*read);
  ASSERT_TRUE(catalog_->MarkPageRead("http://search?q=a&page=1", 200).ok());
  read = catalog_->PageRead("http://search?q=a&page=1");
  EXPECT_TRUE(*read);
  EXPECT_TRUE(catalog_->CheckIntegrity().ok());
}

}  // namespace
}  // namespace memes::store
