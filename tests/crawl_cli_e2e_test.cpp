// End-to-end: `memes crawl` and `memes errors` through the real binary against a loopback site:
// failures are visible (summary, -v, `memes errors`), and label indices follow the pipeline
// file's class order.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/harness/loopback_server.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// A distinct 40×40 PNG.
std::string Png(int seed) {
  cv::Mat image(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::circle(image, {8 + (seed * 7) % 24, 8 + (seed * 13) % 24}, 6 + seed % 5,
             cv::Scalar((seed * 60) % 256, (seed * 110) % 256, (seed * 170) % 256), cv::FILLED);
  std::vector<uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

class CrawlCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-crawl-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

// A search page listing one good image, three 404s, a file that is no image and an image on a
// host that does not resolve; a second source whose search host does not resolve at all.
TEST_F(CrawlCli, FailuresAreListedInTheSummaryLoggedWithVerboseAndByMemesErrors) {
  LoopbackServer server;
  const std::string bad_host_image = "http://nosuch.invalid/img/gone.png";
  server.Handle("/search", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(
        "<html><body><img src=\"/img/ok.png\"><img src=\"/img/missing1.png\">"
        "<img src=\"/img/missing2.png\"><img src=\"/img/missing3.png\">"
        "<img src=\"/img/junk.png\"><img src=\"" +
            bad_host_image + "\"></body></html>",
        "text/html");
  });
  server.ServeBytes("/img/ok.png", Png(1), "image/png");
  server.ServeBytes("/img/junk.png", "this is not an image", "image/png");
  server.ServeStatus("/img/missing1.png", 404);
  server.ServeStatus("/img/missing2.png", 404);
  server.ServeStatus("/img/missing3.png", 404);
  const fs::path pipeline = dir_ / "crawl.toml";
  std::ofstream(pipeline) << "store = \"store\"\n"
                          << "[politeness]\nobey_robots = false\nretries = 0\n"
                          << "connect_timeout_ms = 2000\ntotal_timeout_ms = 5000\n"
                          << "[classes]\nshiba = [\"柴犬\"]\n"
                          << "[[sources]]\nkind = \"search\"\nurl = \""
                          << server.Url("/search?q={keyword}") << "\"\n"
                          << "[[sources]]\nkind = \"search\"\n"
                          << "url = \"http://nosuch.invalid/search?q={keyword}\"\n";
  const std::string store = (dir_ / "store").string();

  RunResult run = RunMemes({"crawl", pipeline.string()});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  // 3 × http-404, 1 image and 1 page on an unresolvable host, 1 not decodable: 6 failures, the
  // first five listed with their URL and reason, then how to see all. Which five depends on
  // the order the crawl met them; every kind but one is among them.
  EXPECT_NE(run.out.find("  http-404  " + server.Url("/img/missing")), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.out.find("resolve host"), std::string::npos) << run.Describe();
  int listed = 0;
  for (const std::string& line : Lines(run.out)) listed += line.starts_with("    ");
  EXPECT_EQ(listed, 5) << "five reasons listed: " << run.Describe();
  EXPECT_NE(run.out.find("… 1 more: `memes errors --store " + store + "` lists them all"),
            std::string::npos)
      << run.Describe();
  EXPECT_EQ(run.err.find("failed ("), std::string::npos) << "no per-failure log without -v";

  // -v logs each failure as it happens (a second store: the first remembers its failures).
  run = RunMemes({"-v", "crawl", pipeline.string(), "--store", (dir_ / "store2").string()});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  for (const std::string path : {"/img/missing1.png", "/img/missing2.png", "/img/missing3.png"}) {
    EXPECT_NE(run.err.find("failed (http-404): " + server.Url(path)), std::string::npos)
        << run.Describe();
  }
  EXPECT_NE(run.err.find("failed (dns): " + bad_host_image), std::string::npos) << run.Describe();
  EXPECT_NE(run.err.find("failed (page: network): http://nosuch.invalid/search?q="),
            std::string::npos)
      << run.Describe();

  run = RunMemes({"errors", "--store", store});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const std::string path :
       {"/img/missing1.png", "/img/missing2.png", "/img/missing3.png", "/img/junk.png"}) {
    EXPECT_NE(run.out.find(server.Url(path)), std::string::npos) << path << run.Describe();
  }
  EXPECT_NE(run.out.find("dns  " + bad_host_image), std::string::npos) << run.Describe();
  EXPECT_NE(run.out.find("page: network  http://nosuch.invalid/search?q="), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.out.find("(keyword 柴犬)"), std::string::npos) << "decode failure: " << run.out;
  EXPECT_NE(run.out.find("6 errors: decode 1, dns 1, http-404 3, page: network 1"),
            std::string::npos)
      << run.Describe();

  run = RunMemes({"errors", "--store", store, "--kind", "http-404", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.Describe();
  for (const std::string& line : lines) {
    const auto json = nlohmann::json::parse(line);
    EXPECT_EQ(json["kind"], "http-404");
    EXPECT_EQ(json["stage"], "fetch");
    EXPECT_TRUE(json["url"].get<std::string>().starts_with(server.Url("/img/missing")));
    EXPECT_FALSE(json["reason"].get<std::string>().empty());
    EXPECT_TRUE(json["time"].get<std::string>().starts_with("20")) << "ISO 8601: " << line;
  }
  run = RunMemes({"errors", "--store", store, "--kind", "page"});
  EXPECT_NE(run.out.find("1 error of kind 'page'"), std::string::npos) << run.Describe();
}

// docs/pipeline-file.md: label indices follow the order of [classes] in the file, whatever the
// order items arrive in (here a folder source lists frog/ before kumamon/).
TEST_F(CrawlCli, LabelIndicesFollowTheClassOrderOfThePipelineFile) {
  for (const std::string label : {"frog", "kumamon"}) {
    fs::create_directories(dir_ / "stickers" / label);
    for (int i = 0; i < 2; ++i) {
      std::ofstream(dir_ / "stickers" / label / (std::to_string(i) + ".png"), std::ios::binary)
          << Png(label == "frog" ? i : 10 + i);
    }
  }
  auto write_pipeline = [&](const std::string& classes) {
    std::ofstream(dir_ / "p.toml") << "store = \"store\"\n[classes]\n"
                                   << classes << "[[sources]]\nkind = \"folder\"\n"
                                   << "path = \"stickers\"\n";
  };
  const std::string store = (dir_ / "store").string();
  write_pipeline("kumamon = []\nfrog = []\n");
  RunResult run = RunMemes({"crawl", (dir_ / "p.toml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "--store", store, "list"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_GE(lines.size(), 3u) << run.Describe();
  EXPECT_TRUE(lines[1].starts_with("1     kumamon ")) << run.out;
  EXPECT_TRUE(lines[2].starts_with("2     frog ")) << run.out;
  run = RunMemes({"pack", "--store", store, "--test-fraction", "0"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Lines(Slurp(dir_ / "store" / "shards" / "batches.meta.txt")),
            (std::vector<std::string>{"kumamon", "frog"}));

  // A class added in the middle of the file is appended; existing indices stay.
  write_pipeline("kumamon = []\ncat = []\nfrog = []\n");
  run = RunMemes({"crawl", (dir_ / "p.toml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = RunMemes({"label", "--store", store, "list"});
  lines = Lines(run.out);
  ASSERT_GE(lines.size(), 4u) << run.Describe();
  EXPECT_TRUE(lines[1].starts_with("1     kumamon ")) << run.out;
  EXPECT_TRUE(lines[2].starts_with("2     frog ")) << run.out;
  EXPECT_TRUE(lines[3].starts_with("3     cat ")) << run.out;
}

}  // namespace
}  // namespace memes::testing
