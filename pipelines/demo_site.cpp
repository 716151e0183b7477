#include "pipelines/demo_site.h"

#include <random>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "pipelines/demo_encode.h"
#include "pipelines/demo_stickers.h"

namespace memes::pipelines::demo {
namespace {

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Binds `preferred` on 127.0.0.1, or any free port when it is taken. Returns the port or -1.
int BindPreferred(httplib::Server& server, int preferred) {
  if (preferred > 0 && server.bind_to_port("127.0.0.1", preferred)) return preferred;
  return server.bind_to_any_port("127.0.0.1");
}

}  // namespace

Result<std::unique_ptr<DemoSite>> DemoSite::Start(const DemoSiteOptions& options) {
  std::unique_ptr<DemoSite> site(new DemoSite());
  site->options_ = options;
  if (options.classes.empty()) return InvalidArgument("the demo site needs at least one class");
  for (const auto& spec : options.classes) {
    if (spec.keywords.empty()) return InvalidArgument("class " + spec.name + " has no keyword");
  }
  site->Generate(options);

  auto serve = [raw = site.get()](bool slow) {
    return [raw, slow](const httplib::Request& request, httplib::Response& response) {
      if (request.path == "/search" || request.path == "/api/search") {
        const std::string keyword = request.get_param_value("q");
        int page = 1;
        try {
          page = std::stoi(request.get_param_value("page"));
        } catch (...) {
          page = 1;
        }
        if (request.path == "/search") {
          response.set_content(raw->RenderHtml(keyword, page), "text/html; charset=utf-8");
        } else {
          response.set_content(raw->RenderJson(keyword, page), "application/json");
        }
        return;
      }
      if (request.path == "/robots.txt") {
        response.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
        return;
      }
      auto it = raw->files_.find((slow ? "slow:" : "") + request.path);
      if (it == raw->files_.end()) {
        response.status = 404;
        response.set_content("no such sticker", "text/plain");
        return;
      }
      response.set_content(it->second.bytes, it->second.content_type.c_str());
    };
  };
  site->server_ = std::make_unique<httplib::Server>();
  site->slow_server_ = std::make_unique<httplib::Server>();
  site->server_->Get(".*", serve(false));
  const int latency = options.slow_host_latency_ms;
  site->slow_server_->Get(".*", [handler = serve(true), latency](const httplib::Request& request,
                                                                 httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(latency));
    handler(request, response);
  });
  site->port_ = BindPreferred(*site->server_, options.preferred_port);
  site->slow_port_ = BindPreferred(*site->slow_server_, options.preferred_slow_port);
  if (site->port_ <= 0 || site->slow_port_ <= 0) return IoError("cannot bind 127.0.0.1");
  site->threads_.emplace_back([raw = site.get()] { raw->server_->listen_after_bind(); });
  site->threads_.emplace_back([raw = site.get()] { raw->slow_server_->listen_after_bind(); });
  for (int i = 0; i < 500 && !(site->server_->is_running() && site->slow_server_->is_running());
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Links to the slow host were written with a placeholder port: fix them now it is known.
  for (auto& [keyword, listings] : site->results_) {
    for (auto& listing : listings) {
      const std::string placeholder = "http://SLOWHOST";
      if (listing.url.rfind(placeholder, 0) == 0) {
        listing.url = "http://127.0.0.1:" + std::to_string(site->slow_port_) +
                      listing.url.substr(placeholder.size());
      }
    }
  }
  return site;
}

DemoSite::~DemoSite() {
  if (server_) server_->stop();
  if (slow_server_) slow_server_->stop();
  for (auto& thread : threads_) thread.join();
}

void DemoSite::Generate(const DemoSiteOptions& options) {
  std::mt19937_64 rng(options.seed);
  const auto& classes = options.classes;
  for (int c = 0; c < static_cast<int>(classes.size()); ++c) {
    const ClassSpec& demo_class = classes[c];
    std::vector<std::string> class_urls;
    for (int i = 0; i < options.stickers_per_class; ++i) {
      const uint64_t seed = rng();
      // A fixed mix per class: every 4th an animated GIF, every 7th an animated WebP,
      // the rest stills (PNG with alpha, or JPEG on a solid background).
      const bool gif = i % 4 == 1;
      const bool webp = !gif && i % 7 == 3;
      const bool jpeg = !gif && !webp && i % 5 == 2;
      StickerSpec spec{c % kStyles, seed, gif ? 6 : (webp ? 5 : 1), !jpeg && (seed & 1)};
      const auto frames = DrawSticker(spec, options.sticker_size);
      const std::string stem = demo_class.name + "_" + std::to_string(i);
      std::string path;
      Result<std::string> bytes = std::string();
      if (gif) {
        path = "/img/" + stem + ".gif";
        bytes = EncodeGif(frames, 120);
        files_[path] = {bytes.ok() ? *bytes : "", "image/gif"};
        gif_paths_.emplace(c, path);
        ++counts_.gifs;
      } else if (webp) {
        path = "/img/" + stem + ".webp";
        bytes = EncodeAnimatedWebp(frames, 150);
        files_[path] = {bytes.ok() ? *bytes : "", "image/webp"};
        ++counts_.webps;
      } else if (jpeg) {
        path = "/img/" + stem + ".jpg";
        bytes = EncodeJpeg(frames[0], 90);
        files_[path] = {bytes.ok() ? *bytes : "", "image/jpeg"};
        ++counts_.stills;
      } else {
        path = "/img/" + stem + ".png";
        bytes = EncodePng(frames[0]);
        files_[path] = {bytes.ok() ? *bytes : "", "image/png"};
        ++counts_.stills;
        if (i % 6 == 0) {
          // A re-encoded near-duplicate: the same drawing as a lower-quality JPEG.
          auto jpeg_copy = EncodeJpeg(frames[0], 70);
          if (jpeg_copy.ok()) {
            files_["/img/" + stem + "_reup.jpg"] = {*jpeg_copy, "image/jpeg"};
            class_urls.push_back("/img/" + stem + "_reup.jpg");
            ++counts_.jpeg_near_duplicates;
          }
        }
      }
      if (!bytes.ok()) {
        files_.erase(path);
        continue;
      }
      if (i % 6 == 5) {
        // Served from the slow host instead of the main one.
        files_["slow:" + path] = files_[path];
        files_.erase(path);
        class_urls.push_back("http://SLOWHOST" + path);
        ++counts_.on_slow_host;
      } else {
        class_urls.push_back(path);
      }
      if (i % 9 == 4) {
        // The exact same bytes under a second URL, as mirrors and re-posts do.
        const std::string mirror = "/mirror/" + stem + path.substr(path.rfind('.'));
        files_[mirror] = files_[path];
        class_urls.push_back(mirror);
        ++counts_.exact_duplicates;
      }
    }
    // Trouble every real crawl meets: a GIF cut short, bytes that are no image, an HTML error
    // page served as image/png, and a dead link.
    const std::string broken = "/img/" + demo_class.name + "_broken";
    const std::string some_gif = gif_paths_.count(c) ? files_[gif_paths_[c]].bytes : "";
    files_[broken + ".gif"] = {some_gif.substr(0, some_gif.size() / 3), "image/gif"};
    files_[broken + ".png"] = {"\x89PNG\r\n\x1a\n but then nothing an image needs", "image/png"};
    files_[broken + "_html.png"] = {"<html><body>403 Forbidden</body></html>", "image/png"};
    for (const char* suffix : {".gif", ".png", "_html.png"}) class_urls.push_back(broken + suffix);
    class_urls.push_back("/img/" + demo_class.name + "_gone.png");
    counts_.broken += 4;

    // Each keyword of the class lists a share of the class's files.
    const size_t keyword_count = demo_class.keywords.size();
    for (size_t k = 0; k < class_urls.size(); ++k) {
      results_[demo_class.keywords[k % keyword_count]].push_back({class_urls[k]});
    }
  }
  size_t most = 0;
  for (const auto& [keyword, listings] : results_) most = std::max(most, listings.size());
  const size_t pages = static_cast<size_t>(std::max(1, options.pages));
  page_size_ = static_cast<int>(std::max<size_t>(1, (most + pages - 1) / pages));
}

std::string DemoSite::RenderHtml(const std::string& keyword, int page) const {
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset=\"utf-8\"><title>" << HtmlEscape(keyword)
       << " - 表情包搜索</title></head><body><h1>" << HtmlEscape(keyword) << "</h1><ul>";
  auto it = results_.find(keyword);
  if (it != results_.end()) {
    const auto& listings = it->second;
    const size_t begin = static_cast<size_t>(std::max(0, page - 1)) * page_size_;
    for (size_t i = begin; i < std::min(listings.size(), begin + page_size_); ++i) {
      // Relative links for the main host ("img/…" resolves against /search), absolute for the
      // slow host; every other result as a plain link, the rest as an <img>.
      std::string url = listings[i].url;
      if (url[0] == '/') url = url.substr(1);
      if (i % 2 == 0) {
        html << "<li><img src=\"" << HtmlEscape(url) << "\" alt=\"" << HtmlEscape(keyword)
             << "\"></li>";
      } else {
        html << "<li><a href=\"" << HtmlEscape(url) << "\">" << HtmlEscape(keyword) << " " << i
             << "</a></li>";
      }
    }
  }
  html << "</ul><a href=\"/search?q=" << HtmlEscape(keyword) << "&amp;page=" << page + 1
       << "\">next</a></body></html>";
  return html.str();
}

std::string DemoSite::RenderJson(const std::string& keyword, int page) const {
  nlohmann::json results = nlohmann::json::array();
  auto it = results_.find(keyword);
  if (it != results_.end()) {
    const auto& listings = it->second;
    const size_t begin = static_cast<size_t>(std::max(0, page - 1)) * page_size_;
    for (size_t i = begin; i < std::min(listings.size(), begin + page_size_); ++i) {
      std::string url = listings[i].url;
      if (url[0] == '/') url = "http://" + Host() + url;
      results.push_back({{"title", keyword}, {"thumb", url}});
    }
  }
  return nlohmann::json{{"query", keyword}, {"page", page}, {"results", results}}.dump();
}

std::string DemoSite::Host() const { return "127.0.0.1:" + std::to_string(port_); }

std::string DemoSite::HtmlSearchTemplate() const {
  return "http://" + Host() + "/search?q={keyword}&page={page}";
}

std::string DemoSite::JsonSearchTemplate() const {
  return "http://" + Host() + "/api/search?q={keyword}&page={page}";
}

std::string DemoSite::FileBytes(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) it = files_.find("slow:" + path);
  return it == files_.end() ? std::string() : it->second.bytes;
}

std::string DemoSite::SomeGifPath(int class_index) const {
  auto it = gif_paths_.find(class_index);
  return it == gif_paths_.end() ? std::string() : it->second;
}

}  // namespace memes::pipelines::demo
