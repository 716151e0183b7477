// The demo's sticker site: a real HTTP server on 127.0.0.1 (cpp-httplib) serving drawn stickers
// of the six demo classes as PNG, JPEG, animated GIF and animated WebP, behind search pages in
// HTML and JSON with pagination — plus the trouble real sites have: the same picture under two
// URLs, re-encoded near-duplicates, broken files, a dead link and a slow second host.
//
// Thread-safety: built once, then read-only; the servers answer on their own threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "pipelines/pipeline_file.h"

namespace httplib {
class Server;
}

namespace memes::pipelines::demo {

struct DemoSiteOptions {
  // The classes and keywords of the pipeline file the demo runs: every keyword gets its own
  // search results, class i is drawn in style i (demo_stickers.h).
  std::vector<ClassSpec> classes;
  int stickers_per_class = 30;
  int sticker_size = 96;  // pixels; stickers are drawn larger than the 32×32 frames
  int pages = 3;          // search pages per keyword (page_size is chosen so every result fits)
  uint64_t seed = 1;
  int slow_host_latency_ms = 150;
  // Preferred ports, so a second demo run sees the same URLs and resumes; any free port is used
  // when one is taken.
  int preferred_port = 47811;
  int preferred_slow_port = 47812;
};

struct DemoSiteCounts {
  int stills = 0, gifs = 0, webps = 0, jpeg_near_duplicates = 0, exact_duplicates = 0, broken = 0,
      on_slow_host = 0;
};

class DemoSite {
 public:
  // Draws and encodes every file, then starts both servers.
  static Result<std::unique_ptr<DemoSite>> Start(const DemoSiteOptions& options);
  ~DemoSite();
  DemoSite(const DemoSite&) = delete;
  DemoSite& operator=(const DemoSite&) = delete;

  // "127.0.0.1:PORT" of the main host; the slow host is only reached through links.
  std::string Host() const;
  // Search templates for the pipeline file: HTML results and JSON results (key "thumb").
  std::string HtmlSearchTemplate() const;
  std::string JsonSearchTemplate() const;
  // A file of the site, by path ("/img/…"); empty when there is none. For `predict` in the demo.
  std::string FileBytes(const std::string& path) const;
  // The path of one animated GIF of `class_index`.
  std::string SomeGifPath(int class_index) const;
  const DemoSiteCounts& counts() const { return counts_; }
  int page_size() const { return page_size_; }

 private:
  struct File {
    std::string bytes;
    std::string content_type;
  };
  struct Listing {
    std::string url;  // absolute or relative to the main host
  };
  DemoSite() = default;
  void Generate(const DemoSiteOptions& options);
  std::string RenderHtml(const std::string& keyword, int page) const;
  std::string RenderJson(const std::string& keyword, int page) const;

  DemoSiteOptions options_;
  DemoSiteCounts counts_;
  std::map<std::string, File> files_;                    // path → file (both hosts)
  std::map<std::string, std::vector<Listing>> results_;  // keyword → results in order
  std::map<int, std::string> gif_paths_;
  std::unique_ptr<httplib::Server> server_, slow_server_;
  std::vector<std::thread> threads_;
  int port_ = 0, slow_port_ = 0;
  int page_size_ = 8;
};

}  // namespace memes::pipelines::demo
