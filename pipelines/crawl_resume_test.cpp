// Kill and resume: a crawl SIGKILLed at random moments (in a child process, 10 times) and then
// run to the end must leave the same catalog as one uninterrupted crawl, and a store that checks
// clean. Slow-ish (≈15 s): label it `slow` in CMake.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <tuple>

#include "pipelines/crawl.h"
#include "store/store.h"
#include "tests/harness/loopback_server.h"

namespace memes::pipelines {
namespace {

namespace fs = std::filesystem;
using memes::testing::LoopbackServer;

constexpr int kPages = 4;
constexpr int kPerPage = 8;
constexpr int kImagesPerKeyword = kPages * kPerPage;

std::string Png(int seed) {
  cv::Mat image(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::circle(image, {8 + (seed * 7) % 24, 8 + (seed * 13) % 24}, 6 + seed % 5,
             cv::Scalar((seed * 37) % 256, (seed * 91) % 256, (seed * 151) % 256), cv::FILLED);
  cv::line(image, {seed % 40, 0}, {0, seed % 40}, cv::Scalar(0, 0, 0), 2);
  std::vector<uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

// Runs a crawl in a child process; returns its pid (the parent keeps the server).
pid_t ForkCrawl(const PipelineConfig& config) {
  const pid_t pid = fork();
  if (pid == 0) {
    CrawlOptions options;
    options.progress = false;
    auto report = RunCrawl(config, options);
    _exit(report.ok() ? 0 : 3);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// (blob, label, url, near-duplicate group) of every item: what two stores must agree on.
using Row = std::tuple<std::string, std::string, std::string, std::string>;
std::set<Row> CatalogRows(const fs::path& dir) {
  std::set<Row> rows;
  auto store = store::Store::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return rows;
  auto packable = (*store)->catalog().PackIndex();
  EXPECT_TRUE(packable.ok()) << packable.status().ToString();
  std::map<std::string, std::string> group_of;
  if (packable.ok()) {
    for (const store::PackEntry& entry : *packable) group_of[entry.blob] = entry.group_key;
  }
  Status s = (*store)->catalog().ForEachLabelRow([&](const store::LabelRow& row) {
    rows.emplace(row.blob, row.label, row.url, group_of[row.blob]);
    return Status();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto check = (*store)->Check();
  EXPECT_TRUE(check.ok());
  if (check.ok()) {
    EXPECT_EQ(check->blobs_missing, 0);
    EXPECT_EQ(check->frames_missing, 0);
    for (const std::string& fault : check->faults) ADD_FAILURE() << fault;
  }
  return rows;
}

TEST(CrawlResume, KilledCrawlsThenARerunEqualAnUninterruptedCrawl) {
  LoopbackServer server;
  server.SetLatency(std::chrono::milliseconds(25));
  const std::vector<std::string> keywords = {"熊猫头", "shiba", "frog"};
  server.Handle("/search", [&](const httplib::Request& request, httplib::Response& response) {
    const std::string q = request.get_param_value("q");
    const int page = std::atoi(request.get_param_value("page").c_str());
    int k = 0;
    while (k < 3 && keywords[k] != q) ++k;
    std::string html = "<html><body>";
    for (int i = 0; k < 3 && i < kPerPage; ++i) {
      html += "<img src=\"/img/" + std::to_string(k) + "_" +
              std::to_string((page - 1) * kPerPage + i) + ".png\">";
    }
    response.set_content(html + "</body></html>", "text/html");
  });
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < kImagesPerKeyword; ++i) {
      server.ServeBytes("/img/" + std::to_string(k) + "_" + std::to_string(i) + ".png",
                        Png(k * 100 + i), "image/png");
    }
  }
  const fs::path dir =
      fs::temp_directory_path() / ("memes_crawl_resume_" + std::to_string(::getpid()));
  fs::remove_all(dir);

  auto config_for = [&](const fs::path& store) {
    PipelineConfig config;
    config.file = "resume.toml";
    config.store = store;
    config.politeness.per_host_rate = 1000;
    config.politeness.per_host_burst = 100;
    config.politeness.per_host_transfers = 2;
    config.classes = {{"panda", {keywords[0]}}, {"shiba", {keywords[1]}}, {"frog", {keywords[2]}}};
    Source source;
    source.name = "html";
    source.url_template = server.Url("/search?q={keyword}&page={page}");
    source.pages = kPages;
    config.sources = {source};
    return config;
  };

  ASSERT_EQ(WaitExit(ForkCrawl(config_for(dir / "reference"))), 0);
  const auto reference = CatalogRows(dir / "reference");
  ASSERT_EQ(reference.size(), 3u * kImagesPerKeyword);

  std::mt19937 rng(20261129);
  std::uniform_int_distribution<int> delay_ms(5, 250);
  int killed = 0;
  for (int round = 0; round < 10; ++round) {
    const pid_t pid = ForkCrawl(config_for(dir / "killed"));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    if (WaitExit(pid) == -SIGKILL) ++killed;
  }
  EXPECT_GE(killed, 8) << "the crawl finished before most kills: make the site slower";
  ASSERT_EQ(WaitExit(ForkCrawl(config_for(dir / "killed"))), 0);
  EXPECT_EQ(CatalogRows(dir / "killed"), reference);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::pipelines
