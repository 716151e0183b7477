// Catalog::Errors (what `memes errors` lists) and Catalog::EnsureLabels (label order).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "store/catalog.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

class CatalogErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("memes-catalog-errors-" + std::to_string(::getpid()) + "-" +
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

  fs::path path_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogErrorsTest, ErrorsSplitKindAndReasonAndIncludeUndecodableItems) {
  ASSERT_TRUE(
      catalog_->RecordError("http://h/a.png", "fetch", "http-404: http 404 Not Found").ok());
  ASSERT_TRUE(catalog_
                  ->RecordError("http://nosuch.invalid/s?q=x", "page",
                                "page: network: http://nosuch.invalid/s?q=x: cannot resolve host")
                  .ok());
  // A page row as older versions wrote it: the message starts with the URL.
  ASSERT_TRUE(
      catalog_->RecordError("http://h/old", "page", "http://h/old: connection refused").ok());
  const SourceRecord source{"http://h/junk.png", "http://h/search?q=柴犬", "柴犬", "s", 1, 200};
  ASSERT_TRUE(catalog_
                  ->AddItem({std::string(64, 'f'), 5, "", 0, 0, 0, kItemFailed,
                             "http://h/junk.png: not an image"},
                            &source, {}, "shiba")
                  .ok());
  auto errors = catalog_->Errors();
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  ASSERT_EQ(errors->size(), 4u);
  std::map<std::string, ErrorRecord> by_url;
  for (const ErrorRecord& error : *errors) by_url[error.url] = error;
  EXPECT_EQ(by_url["http://h/a.png"].kind, "http-404");
  EXPECT_EQ(by_url["http://h/a.png"].reason, "http 404 Not Found");
  EXPECT_EQ(by_url["http://nosuch.invalid/s?q=x"].kind, "page: network");
  EXPECT_EQ(by_url["http://nosuch.invalid/s?q=x"].reason,
            "http://nosuch.invalid/s?q=x: cannot resolve host");
  EXPECT_EQ(by_url["http://h/old"].kind, "page");
  EXPECT_EQ(by_url["http://h/old"].reason, "http://h/old: connection refused");
  const ErrorRecord& junk = by_url["http://h/junk.png"];
  EXPECT_EQ(junk.kind, "decode");
  EXPECT_EQ(junk.keyword, "柴犬");
  EXPECT_EQ(junk.page_url, "http://h/search?q=柴犬");
  EXPECT_EQ(junk.reason, "http://h/junk.png: not an image");
}

TEST_F(CatalogErrorsTest, EnsureLabelsAppendsNewNamesInOrderAndKeepsKnownIds) {
  const std::vector<std::string> first = {"kumamon", "frog"};
  ASSERT_TRUE(catalog_->EnsureLabels(first).ok());
  const std::vector<std::string> second = {"kumamon", "cat", "frog"};
  ASSERT_TRUE(catalog_->EnsureLabels(second).ok());
  auto labels = catalog_->Labels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 3u);
  EXPECT_EQ((*labels)[0].name, "kumamon");
  EXPECT_EQ((*labels)[1].name, "frog");
  EXPECT_EQ((*labels)[2].name, "cat");
  EXPECT_LT((*labels)[0].id, (*labels)[1].id);
}

}  // namespace
}  // namespace memes::store
