// The crawl graph's flow against loopback sites: a stalled URL does not hold back the others,
// the catalog and the pack come out the same under different timings, paging stops at a
// keyword's last page, a local failure (disk full) leaves its page for the rerun, and tracking
// pixels are refused.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "pipelines/crawl.h"
#include "store/pack.h"
#include "store/store.h"
#include "tests/harness/loopback_server.h"

namespace memes::pipelines {
namespace {

namespace fs = std::filesystem;
using memes::testing::LoopbackServer;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

cv::Mat Picture(int seed) {
  cv::Mat image(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::circle(image, {8 + (seed * 7) % 24, 8 + (seed * 13) % 24}, 6 + seed % 5,
             cv::Scalar((seed * 37) % 256, (seed * 91) % 256, (seed * 151) % 256), cv::FILLED);
  cv::line(image, {seed % 40, 0}, {0, seed % 40}, cv::Scalar(0, 0, 0), 2);
  return image;
}

// `compression` changes the bytes, not the pixels: a near-duplicate with another blob hash.
std::string Png(int seed, int compression = 3) {
  std::vector<uint8_t> bytes;
  cv::imencode(".png", Picture(seed), bytes, {cv::IMWRITE_PNG_COMPRESSION, compression});
  return std::string(bytes.begin(), bytes.end());
}

fs::path TempDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes_crawl_flow_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

PipelineConfig SiteConfig(const LoopbackServer& server, const fs::path& store,
                          std::vector<ClassSpec> classes, int pages) {
  PipelineConfig config;
  config.file = "flow.toml";
  config.store = store;
  // Connections ramp up 0.5 ms apart: the harness server's listen backlog is 5, and a burst of
  // SYNs beyond it comes back as 1 s SYN retransmits (late responses, out of the tests' hands).
  config.politeness.per_host_rate = 2000;
  config.politeness.per_host_burst = 4;
  config.politeness.per_host_transfers = 32;
  config.politeness.retries = 0;
  config.classes = std::move(classes);
  Source source;
  source.name = "html";
  source.url_template = server.Url("/search?q={keyword}&page={page}");
  source.pages = pages;
  config.sources = {source};
  return config;
}

std::string ImgTags(const std::vector<std::string>& paths) {
  std::string html = "<html><body>";
  for (const std::string& path : paths) html += "<img src=\"" + path + "\">";
  return html + "</body></html>";
}

TEST(CrawlFlow, AStalledImageDoesNotHoldBackTheOtherCommits) {
  LoopbackServer server;
  constexpr int kImages = 24;
  std::vector<std::string> paths = {"/img/stall.png"};
  for (int i = 0; i < kImages; ++i) paths.push_back("/img/" + std::to_string(i) + ".png");
  server.Handle("/search", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(ImgTags(paths), "text/html");
  });
  // The first image of the first page sends 20 bytes and then nothing until its timeout.
  server.ServeStall("/img/stall.png", Png(999), 20, 4s);
  std::mutex mutex;
  std::map<std::string, Clock::time_point> served, committed;
  for (int i = 0; i < kImages; ++i) {
    const std::string body = Png(i);
    server.Handle(paths[i + 1],
                  [&, body](const httplib::Request& request, httplib::Response& response) {
                    {
                      std::lock_guard lock(mutex);
                      served[request.path] = Clock::now();
                    }
                    response.set_content(body, "image/png");
                  });
  }
  const fs::path dir = TempDir("stall");
  PipelineConfig config = SiteConfig(server, dir / "store", {{"cat", {"k"}}}, 1);
  config.politeness.total_timeout_ms = 2000;
  CrawlOptions options;
  options.progress = false;
  options.on_commit = [&](const std::string& url) {
    std::lock_guard lock(mutex);
    committed[url.substr(url.find("/img/"))] = Clock::now();
  };
  auto report = RunCrawl(config, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, kImages) << report->ToJson();
  EXPECT_EQ(report->errors_per_kind["timeout"], 1) << report->ToJson();
  ASSERT_EQ(served.size(), static_cast<size_t>(kImages));
  for (const auto& [path, when] : served) {
    ASSERT_TRUE(committed.count(path)) << path;
    const auto delay =
        std::chrono::duration_cast<std::chrono::milliseconds>(committed[path] - when);
    // The reorder deadline (250 ms) plus decoding on a loaded machine; the 2 s stall must not
    // show here.
    EXPECT_LT(delay.count(), 900) << path << " was committed " << delay.count()
                                  << " ms after the server sent it";
  }
  fs::remove_all(dir);
}

// (blob, label, group key) of every item, and the first URL of each.
using Row = std::tuple<std::string, std::string, std::string>;
std::set<Row> CatalogRows(store::Store& store) {
  std::set<Row> rows;
  auto packable = store.catalog().PackIndex();
  EXPECT_TRUE(packable.ok());
  std::map<std::string, std::string> group_of;
  for (const store::PackEntry& entry : *packable) group_of[entry.blob] = entry.group_key;
  EXPECT_TRUE(store.catalog()
                  .ForEachLabelRow([&](const store::LabelRow& row) {
                    rows.emplace(row.blob, row.label, group_of[row.blob]);
                    return Status();
                  })
                  .ok());
  return rows;
}

std::map<std::string, std::string> FilesIn(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return files;
}

TEST(CrawlFlow, DifferentTimingsGiveTheSameCatalogAndTheSamePack) {
  // Two classes, two pages each. Order matters for: an exact duplicate listed by both classes
  // (its label is the first commit's), near-duplicates (same pixels, other bytes) on pages of
  // both classes (the first commit founds the group), and the label ids.
  LoopbackServer server;
  std::map<std::string, std::string> bodies;
  std::map<std::string, std::vector<std::string>> pages;  // "q/page" -> image paths
  for (int k = 0; k < 2; ++k) {
    for (int page = 1; page <= 2; ++page) {
      auto& list = pages[std::to_string(k) + "/" + std::to_string(page)];
      for (int i = 0; i < 10; ++i) {
        const int seed = k * 100 + page * 10 + i;
        const std::string path = "/img/" + std::to_string(seed) + ".png";
        bodies[path] = Png(seed);
        list.push_back(path);
      }
    }
  }
  for (int n = 0; n < 4; ++n) {  // near-duplicates of class 0's images on class 1's pages
    const std::string path = "/img/near" + std::to_string(n) + ".png";
    bodies[path] = Png(10 + n, 9);
    pages["1/" + std::to_string(1 + n % 2)].push_back(path);
  }
  bodies["/img/copy.png"] = bodies["/img/13.png"];  // exact duplicate, on class 1's first page
  pages["1/1"].insert(pages["1/1"].begin(), "/img/copy.png");

  std::atomic<uint64_t> seed{0};
  std::mutex mutex;
  server.Handle("/search", [&](const httplib::Request& request, httplib::Response& response) {
    const std::string key = request.get_param_value("q") + "/" + request.get_param_value("page");
    response.set_content(ImgTags(pages.count(key) ? pages[key] : std::vector<std::string>{}),
                         "text/html");
  });
  for (const auto& [path, body] : bodies) {
    server.Handle(path, [&, path = path, body = body](const httplib::Request&,
                                                      httplib::Response& response) {
      // A delay drawn from the run's seed and the path: each run reorders the responses.
      const uint64_t draw = std::hash<std::string>{}(path) ^ (seed.load() * 0x9e3779b97f4a7c15ULL);
      std::this_thread::sleep_for(std::chrono::milliseconds(draw % 60));
      response.set_content(body, "image/png");
    });
  }

  const fs::path dir = TempDir("timings");
  std::vector<std::set<Row>> catalogs;
  std::vector<std::map<std::string, std::string>> packs;
  for (uint64_t run = 1; run <= 2; ++run) {
    seed = run;
    const fs::path store_dir = dir / ("store" + std::to_string(run));
    PipelineConfig config = SiteConfig(server, store_dir, {{"a", {"0"}}, {"b", {"1"}}}, 2);
    CrawlOptions options;
    options.progress = false;
    // What is tested here is that the windows restore the order whatever the timings within
    // the deadline; on a machine loaded by parallel builds a thread can sleep for longer than
    // the default 250 ms, so the deadline is raised out of the way (the stall test above checks
    // what the deadline costs).
    options.reorder_deadline = std::chrono::seconds(3);
    auto report = RunCrawl(config, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->items_new, 44) << report->ToJson();
    EXPECT_EQ(report->items_duplicate, 1) << report->ToJson();
    EXPECT_EQ(report->late_images, 0) << "a response came later than the reorder deadline";
    auto store = store::Store::Open(store_dir);
    ASSERT_TRUE(store.ok());
    catalogs.push_back(CatalogRows(**store));
    // The exact duplicate has the label of the page listed first, whatever arrived first.
    auto copy = (*store)->catalog().ItemByUrl(server.Url("/img/copy.png"));
    ASSERT_TRUE(copy.ok() && copy->has_value());
    for (const Row& row : catalogs.back()) {
      if (std::get<0>(row) == **copy) EXPECT_EQ(std::get<1>(row), "a");
    }
    store::PackOptions pack;
    pack.out = dir / ("shards" + std::to_string(run));
    pack.progress = false;
    pack.rot4 = false;
    ASSERT_TRUE(store::Pack(**store, pack).ok());
    packs.push_back(FilesIn(pack.out));
  }
  EXPECT_EQ(catalogs[0], catalogs[1]);
  ASSERT_EQ(packs[0].size(), packs[1].size());
  for (const auto& [name, bytes] : packs[0]) {
    EXPECT_TRUE(packs[1][name] == bytes) << name << " differs between the two runs";
  }
  fs::remove_all(dir);
}

TEST(CrawlFlow, PagingStopsAtTheFirstPageWithNothingNew) {
  LoopbackServer server;
  // Keyword "long": pages 1-3 have 4 images each, page 4 and later repeat page 3 (as many sites
  // do). Keyword "none": nothing at all.
  server.Handle("/search", [&](const httplib::Request& request, httplib::Response& response) {
    std::vector<std::string> paths;
    if (request.get_param_value("q") == "long") {
      const int page = std::min(3, std::atoi(request.get_param_value("page").c_str()));
      for (int i = 0; i < 4; ++i) paths.push_back("/img/" + std::to_string(page * 10 + i) + ".png");
    }
    response.set_content(ImgTags(paths), "text/html");
  });
  for (int page = 1; page <= 3; ++page) {
    for (int i = 0; i < 4; ++i) {
      server.ServeBytes("/img/" + std::to_string(page * 10 + i) + ".png", Png(page * 10 + i),
                        "image/png");
    }
  }
  const fs::path dir = TempDir("paging");
  PipelineConfig config = SiteConfig(server, dir / "store", {{"a", {"long"}}, {"b", {"none"}}}, 20);
  CrawlOptions options;
  options.progress = false;
  options.pages_in_flight = 2;
  auto report = RunCrawl(config, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, 12);
  EXPECT_EQ(report->pages_read, 5) << report->ToJson();  // long: 1-4, none: 1
  // At most pages_in_flight pages past each end were requested before the end was known.
  EXPECT_LE(server.Hits("/search"), 5 + 2 * 2);
  // A rerun asks for nothing: the pages past the ends were recorded as read too.
  const int hits = server.Hits("/search");
  auto again = RunCrawl(config, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pages_read, 0) << again->ToJson();
  EXPECT_EQ(server.Hits("/search"), hits);
  fs::remove_all(dir);
}

TEST(CrawlFlow, ADiskFullFailureLeavesThePageForTheRerunAnd404sAreNotRefetched) {
  LoopbackServer server;
  std::vector<std::string> paths = {"/img/missing.png"};
  for (int i = 0; i < 6; ++i) {
    paths.push_back("/img/" + std::to_string(i) + ".png");
    server.ServeBytes(paths.back(), Png(i), "image/png");
  }
  server.Handle("/search", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(ImgTags(paths), "text/html");
  });
  const fs::path dir = TempDir("diskfull");
  PipelineConfig config = SiteConfig(server, dir / "store", {{"a", {"k"}}}, 1);
  CrawlOptions options;
  options.progress = false;
  store::FailBlobWritesForTesting(2, ENOSPC);
  auto first = RunCrawl(config, options);
  store::FailBlobWritesForTesting(0, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->items_new, 4) << first->ToJson();
  EXPECT_EQ(first->errors_per_kind["store"], 2) << first->ToJson();
  EXPECT_EQ(first->errors_per_kind["http-404"], 1) << first->ToJson();

  auto second = RunCrawl(config, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->pages_read, 1) << "the page was marked read despite the full disk";
  EXPECT_EQ(second->items_new, 2) << second->ToJson();
  EXPECT_EQ(second->urls_skipped, 5) << second->ToJson();  // 4 stored + the 404
  EXPECT_EQ(server.Hits("/img/missing.png"), 1);
  int image_hits = 0;
  for (int i = 0; i < 6; ++i) image_hits += server.Hits("/img/" + std::to_string(i) + ".png");
  EXPECT_EQ(image_hits, 6 + 2);

  auto third = RunCrawl(config, options);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->pages_skipped, 1);
  EXPECT_EQ(server.Hits("/search"), 2);
  auto store = store::Store::Open(dir / "store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->catalog().CountItems(), 6);
  fs::remove_all(dir);
}

// A batch of commits whose frames cannot be made durable (an fsync error) commits nothing, and
// loses nothing: its images count as commit failures, the page stays unread, and the rerun
// stores them all.
TEST(CrawlFlow, AFailedCommitBatchLeavesItsImagesAndPageForTheRerun) {
  LoopbackServer server;
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) {
    paths.push_back("/img/" + std::to_string(i) + ".png");
    server.ServeBytes(paths.back(), Png(i), "image/png");
  }
  server.Handle("/search", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(ImgTags(paths), "text/html");
  });
  const fs::path dir = TempDir("batchfail");
  PipelineConfig config = SiteConfig(server, dir / "store", {{"a", {"k"}}}, 1);
  CrawlOptions options;
  options.progress = false;
  // One batch for the whole page: it closes at the end of the crawl, not on a timer.
  options.commit_batch_items = 64;
  options.commit_batch_wait = std::chrono::hours(1);
  store::FailFrameSyncsForTesting(1);
  auto first = RunCrawl(config, options);
  store::FailFrameSyncsForTesting(0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->items_new, 0) << first->ToJson();
  EXPECT_EQ(first->pages_read, 0) << first->ToJson();
  EXPECT_EQ(first->errors_per_kind["commit"], 6) << first->ToJson();
  {
    auto store = store::Store::Open(dir / "store");
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(*(*store)->catalog().CountItems(), 0);
    EXPECT_FALSE(*(*store)->catalog().PageRead(server.Url("/search?q=k&page=1")));
  }
  auto second = RunCrawl(config, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->items_new, 6) << second->ToJson();
  EXPECT_EQ(second->pages_read, 1) << second->ToJson();
  auto store = store::Store::Open(dir / "store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->catalog().CountItems(), 6);
  auto check = (*store)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->faults.empty()) << check->faults[0];
  fs::remove_all(dir);
}

TEST(CrawlFlow, TrackingPixelsAndSpacersAreRefusedAndRecorded) {
  LoopbackServer server;
  static const unsigned char kPixelGif[] = {
      'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
      0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
      0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
  server.ServeBytes("/img/pixel.gif", std::string(std::begin(kPixelGif), std::end(kPixelGif)),
                    "image/gif");
  std::vector<uint8_t> spacer;
  cv::imencode(".png", cv::Mat(4, 200, CV_8UC3, cv::Scalar(255, 255, 255)), spacer);
  server.ServeBytes("/img/spacer.png", std::string(spacer.begin(), spacer.end()), "image/png");
  server.ServeBytes("/img/sticker.png", Png(1), "image/png");
  server.Handle("/search", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(ImgTags({"/img/pixel.gif", "/img/spacer.png", "/img/sticker.png"}),
                         "text/html");
  });
  const fs::path dir = TempDir("pixels");
  PipelineConfig config = SiteConfig(server, dir / "store", {{"a", {"k"}}}, 1);
  CrawlOptions options;
  options.progress = false;
  auto report = RunCrawl(config, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items_new, 1) << report->ToJson();
  EXPECT_EQ(report->items_refused, 2) << report->ToJson();
  EXPECT_EQ(report->errors_per_kind["too-small"], 2) << report->ToJson();
  EXPECT_EQ(report->failures(), 0);
  auto store = store::Store::Open(dir / "store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->catalog().CountItems(), 1);
  EXPECT_EQ(*(*store)->catalog().LookupUrl(server.Url("/img/pixel.gif")), store::UrlState::kFailed);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::pipelines
