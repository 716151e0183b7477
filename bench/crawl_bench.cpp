// crawl_bench: does a whole crawl (fetch + decode + store + commit) keep up with the network?
//
// A loopback search site in a child process: `keywords` × `pages` search pages of `per_page`
// results (+`page_latency` each), sticker-sized images (PNG, JPEG, animated GIF, 64–160 px,
// each distinct; +`latency` each), and a handful of faulty URLs on the first page (stalls, slow
// drips, resets, 429, a redirect loop, a 1 GB body). In the same run, on the same site:
//   - memes: RunCrawl end to end into a fresh store (what `memes crawl` runs);
//   - the peer: `curl -Z --parallel-max T` over the same image URLs (fetch only, to /dev/null).
// Each rate is good images / seconds until the last good image was done: committed (memes, on
// its commit hook) or served (curl; the server's clock, CLOCK_MONOTONIC like ours). The tail of
// the faulty URLs' timeouts is left out of both, since both wait it out the same way.
//
//   crawl_bench [--keywords K] [--pages P] [--per-page N] [--latency-ms L] [--page-latency-ms L]
//               [--transfers T] [--no-faults] [--skip-curl] [--no-fsync] [--commit-batch B]
// --commit-batch: images per catalog transaction (CrawlOptions::commit_batch_items; default 64,
// 1 is the old one-transaction-per-image commit).
// --no-fsync runs memes without fsync (store::SetDurableWrites(false)): to see what the
// durable commit costs, not a setting for real crawls.
// Exit status 1 when memes reaches less than 80 % of curl's rate.
#include <httplib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pipelines/crawl.h"
#include "pipelines/demo_encode.h"
#include "store/file_util.h"
#include "tests/harness/loopback_server.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int keywords = 10;
  int pages = 13;
  int per_page = 40;
  int latency_ms = 100;
  int page_latency_ms = 50;
  int transfers = 64;
  bool faults = true;
  bool curl = true;
  bool fsync = true;
  int commit_batch = 64;
  int images() const { return keywords * pages * per_page; }
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Image `i`: a disc and a bar on a tinted background, 64–160 px; PNG, JPEG or a 3-frame GIF.
std::string EncodeImage(int i) {
  const int side = 64 + (i * 37) % 97;
  auto frame = [&](int shift) {
    cv::Mat bgra(side, side, CV_8UC4, cv::Scalar(200 + i % 50, 255 - i % 60, 230, 255));
    cv::circle(bgra, {side / 4 + (i * 7 + shift) % (side / 2), side / 3 + (i * 13) % (side / 3)},
               side / 6 + i % 9, cv::Scalar((i * 37) % 256, (i * 91) % 256, (i * 151) % 256, 255),
               cv::FILLED);
    cv::rectangle(bgra, {(i * 5) % side, (i * 11) % side},
                  {(i * 5) % side + 8, (i * 11) % side + 20}, cv::Scalar(0, 0, 0, 255), cv::FILLED);
    return bgra;
  };
  memes::Result<std::string> bytes = std::string();
  switch (i % 3) {
    case 0:
      bytes = memes::pipelines::demo::EncodePng(frame(0));
      break;
    case 1:
      bytes = memes::pipelines::demo::EncodeJpeg(frame(0), 85);
      break;
    default:
      bytes = memes::pipelines::demo::EncodeGif({frame(0), frame(9), frame(18)}, 100);
  }
  if (!bytes.ok()) {
    std::fprintf(stderr, "crawl_bench: %s\n", bytes.status().ToString().c_str());
    std::exit(2);
  }
  return *bytes;
}

std::vector<std::string> FaultPaths() {
  return {"/fault/stall1", "/fault/stall2", "/fault/stall3", "/fault/slow1",
          "/fault/slow2",  "/fault/429",    "/fault/loop",   "/fault/huge"};
}

// The site, in this (child) process until `stop_fd` closes. Writes its port to `port_fd`.
void ServeSite(const Options& options, int port_fd, int stop_fd) {
  std::vector<std::string> images(options.images());
  for (int i = 0; i < options.images(); ++i) images[i] = EncodeImage(i);
  memes::testing::LoopbackServer server;
  std::atomic<int64_t> last_good_ns{0};
  std::atomic<int> good{0};
  server.Handle("/img", [&](const httplib::Request& request, httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.latency_ms));
    const int i = std::atoi(request.get_param_value("i").c_str());
    if (i < 0 || i >= static_cast<int>(images.size())) {
      response.status = 404;
      return;
    }
    response.set_content(images[i], i % 3 == 0   ? "image/png"
                                    : i % 3 == 1 ? "image/jpeg"
                                                 : "image/gif");
    good.fetch_add(1);
    last_good_ns.store(NowNs());
  });
  server.Handle("/search", [&](const httplib::Request& request, httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.page_latency_ms));
    const int k = std::atoi(request.get_param_value("q").substr(1).c_str());
    const int page = std::atoi(request.get_param_value("page").c_str());
    std::string html = "<html><body>";
    if (k >= 0 && k < options.keywords && page >= 1 && page <= options.pages) {
      if (options.faults && k == 0 && page == 1) {
        for (const std::string& path : FaultPaths()) html += "<img src=\"" + path + "\">";
        html += "<img src=\"" + server.ResetUrl("/fault/reset") + "\">";
      }
      for (int j = 0; j < options.per_page; ++j) {
        const int i = (k * options.pages + page - 1) * options.per_page + j;
        html += "<img src=\"/img?i=" + std::to_string(i) + "\">";
      }
    }
    response.set_content(html + "</body></html>", "text/html");
  });
  server.ServeStall("/fault/stall1", images[0], 100, std::chrono::seconds(30));
  server.ServeStall("/fault/stall2", images[1], 100, std::chrono::seconds(30));
  server.ServeStall("/fault/stall3", images[2], 10, std::chrono::seconds(30));
  server.ServeDelayed("/fault/slow1", std::chrono::seconds(3), images[3], "image/png");
  server.ServeDelayed("/fault/slow2", std::chrono::seconds(3), images[4], "image/jpeg");
  server.ServeStatus("/fault/429", 429, "", {{"Retry-After", "1"}});
  server.ServeRedirect("/fault/loop", "/fault/loop");
  server.ServeLargeBody("/fault/huge", uint64_t{1} << 30);
  // The bench's own questions: how many good images, and when the last one was sent.
  server.Handle("/bench/stats", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::to_string(good.load()) + " " + std::to_string(last_good_ns.load()),
                         "text/plain");
  });
  server.Handle("/bench/reset", [&](const httplib::Request&, httplib::Response& response) {
    good = 0;
    last_good_ns = 0;
    response.set_content("ok", "text/plain");
  });
  const int port = server.port();
  if (write(port_fd, &port, sizeof port) != sizeof port) _exit(2);
  char byte;
  while (read(stop_fd, &byte, 1) > 0) {
  }
}

struct Site {
  pid_t child = 0;
  int stop_fd = -1;
  int port = 0;
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  // (good images served, CLOCK_MONOTONIC ns of the last one) since the last reset.
  std::pair<int, int64_t> Stats() const {
    httplib::Client client("127.0.0.1", port);
    auto response = client.Get("/bench/stats");
    if (!response) return {0, 0};
    long long count = 0, ns = 0;
    std::sscanf(response->body.c_str(), "%lld %lld", &count, &ns);
    return {static_cast<int>(count), ns};
  }
  void Reset() const { httplib::Client("127.0.0.1", port).Get("/bench/reset"); }
};

Site StartSite(const Options& options) {
  int port_pipe[2], stop_pipe[2];
  if (pipe(port_pipe) != 0 || pipe(stop_pipe) != 0) std::exit(2);
  Site site;
  site.child = fork();
  if (site.child == 0) {
    close(port_pipe[0]);
    close(stop_pipe[1]);
    ServeSite(options, port_pipe[1], stop_pipe[0]);
    _exit(0);
  }
  close(port_pipe[1]);
  close(stop_pipe[0]);
  if (read(port_pipe[0], &site.port, sizeof site.port) != sizeof site.port) {
    std::fprintf(stderr, "crawl_bench: the site did not start\n");
    std::exit(2);
  }
  site.stop_fd = stop_pipe[1];
  return site;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Measure {
  int good = 0;
  double seconds = 0;  // until the last good image was done
  double wall = 0;     // until the whole run returned (includes the faulty URLs' timeouts)
  double cpu = 0;      // this process's CPU seconds (memes only: curl is another process)
  double rate() const { return seconds > 0 ? good / seconds : 0; }
};

// Timeouts shared by both sides, so that neither waits out a stall longer than the other.
constexpr int kTimeoutS = 5;
constexpr int kRetries = 1;

Measure RunMemes(const Options& options, const Site& site, const fs::path& store) {
  memes::pipelines::PipelineConfig config;
  config.file = "crawl_bench.toml";
  config.store = store;
  config.politeness.max_transfers = options.transfers;
  config.politeness.per_host_transfers = options.transfers;  // one host: let every slot use it
  // The harness server's listen backlog is 5: a burst of 64 SYNs overflows it into SYN
  // retransmits (1 s, 3 s…), so connections ramp up as in fetch_bench.
  config.politeness.per_host_rate = 5000;
  config.politeness.per_host_burst = 4;
  config.politeness.retries = kRetries;
  config.politeness.total_timeout_ms = kTimeoutS * 1000;
  config.politeness.obey_robots = false;
  for (int k = 0; k < options.keywords; ++k) {
    config.classes.push_back({"class" + std::to_string(k), {"k" + std::to_string(k)}});
  }
  memes::pipelines::Source source;
  source.name = "site";
  source.url_template = site.Url("/search?q={keyword}&page={page}");
  source.pages = options.pages + 2;  // a maximum: paging stops at the end by itself
  config.sources = {source};
  memes::pipelines::CrawlOptions crawl;
  crawl.progress = false;
  crawl.commit_batch_items = options.commit_batch;
  std::mutex mutex;
  Clock::time_point last_good{};
  int good = 0;
  crawl.on_commit = [&](const std::string& url) {
    if (url.find("/img?") == std::string::npos) return;
    std::lock_guard lock(mutex);
    ++good;
    last_good = Clock::now();
  };
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  auto report = memes::pipelines::RunCrawl(config, crawl);
  Measure measure;
  measure.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  measure.cpu = CpuSeconds() - cpu0;
  if (!report.ok()) {
    std::fprintf(stderr, "crawl_bench: %s\n", report.status().ToString().c_str());
    std::exit(2);
  }
  measure.good = static_cast<int>(report->items_new);
  measure.seconds = std::chrono::duration<double>(last_good - t0).count();
  std::fprintf(stderr, "memes: %s\n", report->Summary().c_str());
  return measure;
}

Measure RunCurl(const Options& options, const Site& site, const fs::path& dir) {
  const fs::path config = dir / "curl.config";
  {
    std::ofstream out(config);
    std::vector<std::string> urls;
    if (options.faults) {
      for (const std::string& path : FaultPaths()) urls.push_back(site.Url(path));
    }
    for (int i = 0; i < options.images(); ++i)
      urls.push_back(site.Url("/img?i=" + std::to_string(i)));
    for (const std::string& url : urls) out << "url = \"" << url << "\"\noutput = \"/dev/null\"\n";
  }
  site.Reset();
  const std::string command = "curl -s -Z --parallel-max " + std::to_string(options.transfers) +
                              " --max-time " + std::to_string(kTimeoutS) + " --retry " +
                              std::to_string(kRetries) + " -K " + config.string() +
                              " >/dev/null 2>&1";
  const int64_t t0 = NowNs();
  const int status = std::system(command.c_str());
  Measure measure;
  measure.wall = (NowNs() - t0) / 1e9;
  if (status == -1) std::exit(2);
  const auto [good, last_ns] = site.Stats();
  measure.good = good;
  measure.seconds = (last_ns - t0) / 1e9;
  return measure;
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "crawl_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--keywords")
      options.keywords = next();
    else if (arg == "--pages")
      options.pages = next();
    else if (arg == "--per-page")
      options.per_page = next();
    else if (arg == "--latency-ms")
      options.latency_ms = next();
    else if (arg == "--page-latency-ms")
      options.page_latency_ms = next();
    else if (arg == "--transfers")
      options.transfers = next();
    else if (arg == "--commit-batch")
      options.commit_batch = next();
    else if (arg == "--no-faults")
      options.faults = false;
    else if (arg == "--skip-curl")
      options.curl = false;
    else if (arg == "--no-fsync")
      options.fsync = false;
    else {
      std::fprintf(
          stderr,
          "usage: crawl_bench [--keywords K] [--pages P] [--per-page N] [--latency-ms L] "
          "[--page-latency-ms L] [--transfers T] [--no-faults] [--skip-curl] [--no-fsync]\n");
      return 2;
    }
  }
  if (options.keywords < 1 || options.pages < 1 || options.per_page < 1 || options.transfers < 1) {
    std::fprintf(stderr, "crawl_bench: counts must be >= 1\n");
    return 2;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("memes_crawl_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  if (!options.fsync) memes::store::SetDurableWrites(false);
  const Site site = StartSite(options);
  std::printf(
      "site: %d keywords x %d pages x %d images = %d images (+%d ms), pages +%d ms, "
      "faults %s, %d transfers\n",
      options.keywords, options.pages, options.per_page, options.images(), options.latency_ms,
      options.page_latency_ms, options.faults ? "on" : "off", options.transfers);
  Measure curl;
  if (options.curl) {
    curl = RunCurl(options, site, dir);
    std::printf("curl -Z:  %5d images in %6.2f s = %7.1f images/s (wall %.2f s)\n", curl.good,
                curl.seconds, curl.rate(), curl.wall);
  }
  const Measure memes = RunMemes(options, site, dir / "store");
  std::printf(
      "memes:    %5d images in %6.2f s = %7.1f images/s (wall %.2f s, %.1f CPU s = %.2f "
      "ms/image, peak RSS %ld MB)\n",
      memes.good, memes.seconds, memes.rate(), memes.wall, memes.cpu,
      memes.good > 0 ? 1000 * memes.cpu / memes.good : 0.0, PeakRssKb() / 1024);
  close(site.stop_fd);
  waitpid(site.child, nullptr, 0);
  fs::remove_all(dir);
  if (!options.curl) return 0;
  const double ratio = curl.rate() > 0 ? memes.rate() / curl.rate() : 0;
  std::printf("ratio memes / curl: %.2f (target >= 0.80)\n", ratio);
  return ratio >= 0.8 ? 0 : 1;
}
