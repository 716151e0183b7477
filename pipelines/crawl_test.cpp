// The crawl graph against a loopback test site: HTML and JSON search pages with pagination,
// Chinese keywords, relative URLs, an exact duplicate under another URL, and faults; then a
// rerun that must skip what is done.
#include "pipelines/crawl.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/regroup.h"
#include "store/store.h"
#include "tests/harness/loopback_server.h"

namespace memes::pipelines {
namespace {

namespace fs = std::filesystem;
using memes::testing::CannedResponse;
using memes::testing::LoopbackServer;

// A distinct 48×48 PNG: a disc of a colour on white, at a position.
std::string Png(int seed) {
  cv::Mat image(48, 48, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::circle(image, {10 + (seed * 7) % 28, 10 + (seed * 13) % 28}, 8 + seed % 6,
             cv::Scalar((seed * 60) % 256, (seed * 110) % 256, (seed * 170) % 256), cv::FILLED);
  cv::rectangle(image, {seed % 40, 40 - seed % 30}, {seed % 40 + 6, 46 - seed % 30},
                cv::Scalar(0, 0, 0), cv::FILLED);
  std::vector<uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

fs::path TempDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes_crawl_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class CrawlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // HTML search for "猫" (percent-encoded), 2 pages, relative URLs.
    server_.Handle("/search", [this](const httplib::Request& request, httplib::Response& response) {
      const std::string q = request.get_param_value("q");
      const std::string page = request.get_param_value("page");
      seen_queries_.push_back(q);
      std::string html = "<html><body>";
      if (q == "猫" && page == "1") {
        html += R"(<img src="img/a.png"><img src="/img/b.png"><a href="img/a.png">again</a>)";
        html += R"(<img src="/img/missing.png"><img src="/img/fake.png">)";
      } else if (q == "猫" && page == "2") {
        html +=
            R"(<picture><source srcset="img/c.png 1x"></picture><img src="/img/flaky.png"><img src="img/a.png">)";
      } else if (q == "cat meme" && page == "1") {
        html += R"(<img src="/img/huge.png"><img src="/img/e.png">)";
        html += "<img src=\"" + server_.ResetUrl("/img/reset.png") + "\">";
      }
      response.set_content(html + "<p>unclosed <div></body>", "text/html; charset=utf-8");
    });
    // JSON search for "dog": an exact duplicate of a.png under another URL.
    server_.Handle("/api", [](const httplib::Request& request, httplib::Response& response) {
      const std::string q = request.get_param_value("q");
      if (q == "dog" && request.get_param_value("page") == "1") {
        response.set_content(R"({"items":[{"thumb":"/img/d.png"},{"thumb":"/img/a-copy.png"}]})",
                             "application/json");
      } else {
        response.set_content(R"({"items":[]})", "application/json");
      }
    });
    server_.ServeBytes("/img/a.png", Png(1), "image/png");
    server_.ServeBytes("/img/a-copy.png", Png(1), "image/png");
    server_.ServeBytes("/img/b.png", Png(2), "image/png");
    server_.ServeBytes("/img/c.png", Png(3), "image/png");
    server_.ServeBytes("/img/d.png", Png(4), "image/png");
    server_.ServeBytes("/img/e.png", Png(5), "image/png");
    server_.ServeSequence("/img/flaky.png", {CannedResponse{500, "", "text/plain", {}},
                                             CannedResponse{200, Png(6), "image/png", {}}});
    server_.ServeBytes("/img/fake.png", "<html>not an image</html>", "image/png");
    server_.ServeLargeBody("/img/huge.png", uint64_t{1} << 30);
  }

  PipelineConfig Config(const fs::path& store) {
    PipelineConfig config;
    config.file = "crawl_test.toml";
    config.store = store;
    config.politeness.user_agent = "memes-test/1";
    config.politeness.per_host_rate = 1000;
    config.politeness.per_host_burst = 100;
    config.politeness.retries = 1;
    config.politeness.total_timeout_ms = 5000;
    config.politeness.max_body_bytes = 1 << 20;
    config.classes = {{"cat", {"猫", "cat meme"}}, {"dog", {"dog"}}};
    Source html;
    html.name = "html";
    html.url_template = server_.Url("/search?q={keyword}&page={page}");
    html.pages = 2;
    Source json;
    json.name = "json";
    json.url_template = server_.Url("/api?q={keyword}&page={page}");
    json.pages = 1;
    json.extract = "json:thumb";
    config.sources = {html, json};
    return config;
  }

  LoopbackServer server_;
  std::vector<std::string> seen_queries_;
};

TEST_F(CrawlTest, CrawlsTheSiteThenResumesWithoutRefetching) {
  const fs::path dir = TempDir("site");
  CrawlOptions options;
  options.progress = false;
  auto first = RunCrawl(Config(dir / "store"), options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // 3 keywords × (2 html + 1 json) pages at most; "dog" has an empty first html page, so its
  // paging stops there and its page 2 is not read (the reset's page is read, left unmarked).
  EXPECT_EQ(first->pages_read, 8);
  EXPECT_EQ(first->pages_failed, 0);
  EXPECT_EQ(first->items_new, 6) << first->ToJson();        // a b c d e flaky
  EXPECT_EQ(first->items_duplicate, 1) << first->ToJson();  // a-copy
  EXPECT_EQ(first->items_unusable, 1) << first->ToJson();   // HTML served as PNG
  EXPECT_EQ(first->images_failed, 3) << first->ToJson();    // 404, 1 GB, reset
  EXPECT_EQ(first->errors_per_kind.at("http-404"), 1);
  EXPECT_EQ(first->errors_per_kind.at("too-large"), 1);
  EXPECT_EQ(first->errors_per_kind.at("reset"), 1);
  EXPECT_EQ(first->urls_skipped, 1);  // a.png on two pages (twice on one page is one URL)
  EXPECT_EQ(first->kept_per_class.at("cat"), 5);
  EXPECT_EQ(first->kept_per_class.at("dog"), 1);
  EXPECT_EQ(first->kept_per_keyword.at("猫"), 4);
  EXPECT_TRUE(fs::exists(dir / "store" / "stats.json"));
  {
    // stats.json's dedupe section: the store's groups as `memes dedupe --report` counts them
    // (store::SummarizeGroups) and the rule the crawl used.
    std::ifstream in(dir / "store" / "stats.json");
    const auto stats = nlohmann::json::parse(in, nullptr, false);
    ASSERT_TRUE(stats.contains("dedupe")) << stats.dump(2);
    const auto& dedupe = stats["dedupe"];
    EXPECT_EQ(dedupe["items"], 6) << dedupe.dump(2);
    EXPECT_EQ(dedupe["rule"]["method"], "verified");
    EXPECT_EQ(dedupe["rule"]["threshold"], store::kDefaultNearDuplicateDistance);
    EXPECT_EQ(dedupe["exact_duplicate_sources"], 1) << "a-copy";
    int64_t in_groups = 0, groups = 0;
    for (const auto& [size, count] : dedupe["group_sizes"].items()) {
      in_groups += std::stoll(size) * count.get<int64_t>();
      groups += count.get<int64_t>();
    }
    EXPECT_EQ(in_groups, 6);
    EXPECT_EQ(dedupe["groups"], groups);
    auto store = store::Store::Open(dir / "store", {store::StoreAccess::kRead, {}, {}});
    ASSERT_TRUE(store.ok());
    auto summary = store::SummarizeGroups((*store)->catalog());
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(dedupe["groups"], summary->groups);
    EXPECT_EQ(dedupe["largest_group"], summary->largest.at(0).second);
  }
  EXPECT_EQ(server_.Hits("/img/a.png"), 1);
  EXPECT_NE(std::find(seen_queries_.begin(), seen_queries_.end(), "猫"), seen_queries_.end());

  {
    auto store = store::Store::Open(dir / "store");
    ASSERT_TRUE(store.ok());
    auto items = (*store)->catalog().CountItems();
    ASSERT_TRUE(items.ok());
    EXPECT_EQ(*items, 7);  // 6 images with frames + the unusable one
    auto labels = (*store)->catalog().Labels();
    ASSERT_TRUE(labels.ok());
    EXPECT_EQ(labels->size(), 2u);
  }

  const int search_hits = server_.Hits("/search") + server_.Hits("/api");
  auto second = RunCrawl(Config(dir / "store"), options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // The page with the reset (a retryable failure) is read again; its fetched image is not.
  // "dog"'s page 2, past its end, was recorded as read and is skipped.
  EXPECT_EQ(second->pages_skipped, 8);
  EXPECT_EQ(second->pages_read, 1);
  EXPECT_EQ(second->items_new, 0);
  EXPECT_EQ(second->errors_per_kind.at("reset"), 1);
  EXPECT_EQ(server_.Hits("/search") + server_.Hits("/api"), search_hits + 1);
  EXPECT_EQ(server_.Hits("/img/a.png"), 1);
  EXPECT_EQ(server_.Hits("/img/e.png"), 1);
  fs::remove_all(dir);
}

TEST_F(CrawlTest, UrlListsAndFoldersAreCrawledInOrder) {
  const fs::path dir = TempDir("lists");
  fs::create_directories(dir / "folder" / "dog");
  for (int i = 0; i < 3; ++i) {
    std::ofstream(dir / "folder" / "dog" / ("f" + std::to_string(i) + ".png"), std::ios::binary)
        << Png(20 + i);
  }
  std::ofstream(dir / "folder" / "dog" / "notes.txt") << "not an image";
  {
    std::ofstream list(dir / "urls.csv");
    list << "label,url\n# comment\n\n";
    list << "cat," << server_.Url("/img/a.png") << "\n";
    list << "dog\t" << server_.Url("/img/d.png") << "\n";
    list << "cat," << server_.Url("/img/missing.png") << "\n";
  }
  PipelineConfig config = Config(dir / "store");
  Source urls;
  urls.kind = SourceKind::kUrls;
  urls.name = "list";
  urls.path = dir / "urls.csv";
  Source folder;
  folder.kind = SourceKind::kFolder;
  folder.name = "local";
  folder.path = dir / "folder";
  config.sources = {urls, folder};
  CrawlOptions options;
  options.progress = false;
  auto report = RunCrawl(config, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, 5) << report->ToJson();       // a, d and three folder PNGs
  EXPECT_EQ(report->items_unusable, 1) << report->ToJson();  // notes.txt
  EXPECT_EQ(report->images_failed, 1) << report->ToJson();   // missing.png
  EXPECT_EQ(report->kept_per_class.at("dog"), 4);
  EXPECT_EQ(report->pages_read, 0);

  // A label that is not a class is a mistake named with its file and line.
  std::ofstream(dir / "urls.csv", std::ios::app) << "horse," << server_.Url("/img/b.png") << "\n";
  auto bad = RunCrawl(config, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("urls.csv:7"), std::string::npos)
      << bad.status().ToString();
  fs::remove_all(dir);
}

// #10 item 6: a folder source read every file whole, however large, and stored it as a blob.
TEST_F(CrawlTest, FolderFilesAboveMaxFileBytesAreNeitherReadNorStored) {
  const fs::path dir = TempDir("big_file");
  fs::create_directories(dir / "folder" / "dog");
  const std::string small = Png(30);
  std::ofstream(dir / "folder" / "dog" / "small.png", std::ios::binary) << small;
  std::ofstream(dir / "folder" / "dog" / "big.png", std::ios::binary)
      << Png(31) << std::string(small.size() * 4, '\0');
  PipelineConfig config = Config(dir / "store");
  config.image.max_file_bytes = small.size() * 2;
  Source folder;
  folder.kind = SourceKind::kFolder;
  folder.name = "local";
  folder.path = dir / "folder";
  config.sources = {folder};
  CrawlOptions options;
  options.progress = false;
  auto report = RunCrawl(config, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, 1) << report->ToJson();
  EXPECT_EQ(report->items_unusable, 0) << report->ToJson();
  EXPECT_EQ(report->images_failed, 1) << report->ToJson();
  EXPECT_EQ(report->errors_per_kind["too-large"], 1) << report->ToJson();
  // Only the small file became a blob.
  int blobs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "store" / "blobs")) {
    blobs += entry.is_regular_file();
  }
  EXPECT_EQ(blobs, 1);
  fs::remove_all(dir);
}

// #10 item 5: a page on a host the pipeline names may link anything; only public addresses are
// fetched from it, checked on the address connected to. 127.0.0.2 is a loopback address the
// pipeline file does not name, served by a real server so that a fetch would succeed.
TEST_F(CrawlTest, LinksToPrivateAddressesAreRefusedAndRecorded) {
  httplib::Server other;
  std::atomic<int> other_hits{0};
  other.Get(".*", [&](const httplib::Request&, httplib::Response& response) {
    ++other_hits;
    response.set_content(Png(40), "image/png");
  });
  const int other_port = other.bind_to_any_port("127.0.0.2");
  if (other_port <= 0) GTEST_SKIP() << "cannot bind 127.0.0.2 here";
  std::thread thread([&] { other.listen_after_bind(); });
  const std::string private_image = "http://127.0.0.2:" + std::to_string(other_port) + "/x.png";
  server_.Handle("/hostile", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content("<img src=\"/img/a.png\"><img src=\"" + private_image +
                             "\"><img src=\"http://169.254.169.254/latest/meta-data/k.png\">"
                             "<img src=\"/img/to-private.png\">",
                         "text/html");
  });
  server_.ServeRedirect("/img/to-private.png", private_image + "?redirected");

  const fs::path dir = TempDir("private");
  PipelineConfig config = Config(dir / "store");
  config.sources.resize(1);
  config.sources[0].url_template = server_.Url("/hostile?q={keyword}");
  config.sources[0].pages = 1;
  config.classes = {{"cat", {"猫"}}};
  CrawlOptions options;
  options.progress = false;
  auto report = RunCrawl(config, options);
  other.stop();
  thread.join();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, 1) << report->ToJson();  // a.png, on the named host
  EXPECT_EQ(report->images_failed, 3) << report->ToJson();
  EXPECT_EQ(report->errors_per_kind["private-address"], 3) << report->ToJson();
  EXPECT_EQ(other_hits.load(), 0);
  auto store = store::Store::Open(dir / "store");
  ASSERT_TRUE(store.ok());
  auto state = (*store)->catalog().LookupUrl(private_image);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, store::UrlState::kFailed);  // recorded with its reason
  fs::remove_all(dir);
}

TEST_F(CrawlTest, BadExtractRuleIsReportedBeforeAnythingRuns) {
  const fs::path dir = TempDir("bad");
  PipelineConfig config = Config(dir / "store");
  config.sources[1].extract = "regex:(unclosed";
  config.sources[1].line = 12;
  auto report = RunCrawl(config, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().ToString().find("crawl_test.toml:12"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(server_.TotalHits(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::pipelines
