#include "pipelines/serve/server.h"

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "pipelines/serve/review_queue.h"
#include "pipelines/serve/store_view.h"
#include "store/pack.h"
#include "store/store.h"

namespace memes::pipelines::serve {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxPageSize = 500;
constexpr size_t kMaxItemsPerChange = 10000;
constexpr size_t kMaxBodyBytes = 4 << 20;
constexpr const char* kHashPattern = "([0-9a-f]{64})";

std::string RandomToken() {
  std::random_device device;  // getrandom(2) on Linux
  std::ostringstream hex;
  for (int i = 0; i < 4; ++i) {
    hex << std::hex;
    hex.width(8);
    hex.fill('0');
    hex << device();
  }
  return hex.str();
}

// Compares without an early exit, so the time taken says nothing about the token.
bool SameSecret(const std::string& given, const std::string& secret) {
  if (given.size() != secret.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < given.size(); ++i) differ |= given[i] ^ secret[i];
  return differ == 0;
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

void SendJson(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  // Text from the catalog (URLs, keywords) may hold invalid UTF-8: replace, never throw.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, json{{"error", message}}, status);
}

void SendError(httplib::Response& res, const Status& status) {
  SendError(res, HttpStatusOf(status), status.ToString());
}

json ToJson(const ItemSummary& item, const ReviewQueue& review) {
  json out = {{"hash", item.hash},       {"label", item.label},   {"label_id", item.label_id},
              {"dropped", item.dropped}, {"frames", item.frames}, {"group_size", item.group_size}};
  if (const Suspect* suspect = review.Find(item.hash)) {
    out["score"] = suspect->score;
    out["suggested"] = suspect->suggested;
  }
  return out;
}

struct PackJob {
  std::mutex mutex;
  std::string state = "idle";  // idle, running, done, failed
  int64_t done = 0, total = 0;
  json result;  // the per-class/split table once done
  std::string message;
  std::thread thread;
};

}  // namespace

struct Server::Impl {
  ServeOptions options;
  std::unique_ptr<StoreView> view;
  ReviewQueue review;
  std::mutex mutex;  // guards view and review: SQLite connections belong to one thread at a time
  httplib::Server http;
  std::thread listener;
  int port = 0;
  std::set<std::string> hosts;    // Host header values this server answers to
  std::set<std::string> origins;  // Origin values allowed on mutating requests
  PackJob pack;
  std::mutex wait_mutex;
  std::condition_variable stopped_cv;
  bool stopped = false;
  bool stopped_flag() {
    std::lock_guard lock(wait_mutex);
    return stopped;
  }

  explicit Impl(ServeOptions opts, std::unique_ptr<StoreView> store_view)
      : options(std::move(opts)), view(std::move(store_view)), review(options.review_dir) {}

  void Routes();
  bool Allowed(const httplib::Request& req, httplib::Response& res) const;
  Result<std::string> CheckedHash(const std::string& hash);
  Result<std::vector<std::string>> CheckedItems(const json& items);
  void Change(const httplib::Request& req, httplib::Response& res, bool undo);
  void StartPack(httplib::Response& res);
  json PackState();
};

bool Server::Impl::Allowed(const httplib::Request& req, httplib::Response& res) const {
  // DNS rebinding: a hostile name resolving to 127.0.0.1 arrives with its own Host.
  if (!hosts.count(req.get_header_value("Host"))) {
    SendError(res, 403, "unexpected Host header");
    return false;
  }
  if (req.method == "GET" || req.method == "HEAD") return true;
  // CSRF: another site's page cannot send our token (it never sees it), cannot set a custom
  // header without a CORS preflight we never answer, and its Origin differs.
  if (!origins.count(req.get_header_value("Origin"))) {
    SendError(res, 403, "missing or foreign Origin");
    return false;
  }
  if (!SameSecret(req.get_header_value("X-Memes-Token"), options.token)) {
    SendError(res, 403, "missing or wrong token (use the URL memes serve printed)");
    return false;
  }
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    SendError(res, 415, "send JSON (Content-Type: application/json)");
    return false;
  }
  return true;
}

Result<std::string> Server::Impl::CheckedHash(const std::string& hash) {
  if (!store::IsBlobHash(hash)) return InvalidArgument("not a content hash", hash);
  MEMES_ASSIGN_OR_RETURN(ItemSummary item, view->Summary(hash));
  return item.hash;
}

Result<std::vector<std::string>> Server::Impl::CheckedItems(const json& items) {
  if (!items.is_array() || items.empty() || items.size() > kMaxItemsPerChange) {
    return InvalidArgument("\"items\" must be a list of 1 to " +
                           std::to_string(kMaxItemsPerChange) + " content hashes");
  }
  std::vector<std::string> hashes;
  for (const json& item : items) {
    if (!item.is_string()) return InvalidArgument("\"items\" holds something not a string");
    MEMES_ASSIGN_OR_RETURN(std::string hash, CheckedHash(item.get<std::string>()));
    hashes.push_back(std::move(hash));
  }
  return hashes;
}

// POST /api/change {"items": [...], "label": "name" | "", "dropped": bool} (either or both):
// the same catalog call as `memes label import`, logged with action "serve". Answers the
// items' previous state, which the page keeps for undo.
// POST /api/undo {"restore": [{"hash", "label", "dropped"}...]}: puts those states back
// (action "serve undo").
void Server::Impl::Change(const httplib::Request& req, httplib::Response& res, bool undo) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "the body is not JSON");
  std::vector<store::LabelRow> rows;
  json previous = json::array();
  {
    std::lock_guard lock(mutex);
    auto classes = view->Classes();
    if (!classes.ok()) return SendError(res, classes.status());
    auto known = [&](const std::string& name) {
      if (name.empty()) return true;  // unlabelled
      for (const store::LabelInfo& label : *classes) {
        if (label.name == name && !label.retired) return true;
      }
      return false;
    };
    json items = json::array();
    if (undo) {
      const json& restore = body.value("restore", json());
      if (!restore.is_array()) return SendError(res, 400, "\"restore\" must be a list");
      for (const json& row : restore) {
        if (!row.is_object()) return SendError(res, 400, "\"restore\" holds a non-object");
        items.push_back(row.value("hash", json()));
      }
    } else {
      items = body.value("items", json());
    }
    auto hashes = CheckedItems(items);
    if (!hashes.ok()) return SendError(res, hashes.status());
    for (size_t i = 0; i < hashes->size(); ++i) {
      auto before = view->Summary((*hashes)[i]);
      if (!before.ok()) return SendError(res, before.status());
      previous.push_back(
          {{"hash", before->hash}, {"label", before->label}, {"dropped", before->dropped}});
      store::LabelRow row;
      row.blob = before->hash;
      const json& source = undo ? body["restore"][i] : body;
      const json label = source.value("label", json());
      const json dropped = source.value("dropped", json());
      if (label.is_null()) {
        row.label = before->label;
      } else if (!label.is_string()) {
        return SendError(res, 400, "\"label\" must be a class name");
      } else {
        row.label = label.get<std::string>();
        if (!known(row.label)) return SendError(res, 400, "no class named '" + row.label + "'");
      }
      if (dropped.is_null()) {
        row.dropped_given = false;
      } else if (!dropped.is_boolean()) {
        return SendError(res, 400, "\"dropped\" must be true or false");
      } else {
        row.dropped = dropped.get<bool>();
      }
      rows.push_back(std::move(row));
    }
  }
  // Per request: take the writer lock, apply one transaction, release. Another writer holding
  // the lock (a crawl, `memes label`, our own repack) refuses the change with its PID.
  store::StoreOptions write;
  write.access = store::StoreAccess::kWrite;
  auto store = store::Store::Open(options.store_dir, write);
  if (!store.ok()) return SendError(res, 409, store.status().ToString());
  const Status applied = (*store)->catalog().ImportLabels(rows, undo ? "serve undo" : "serve");
  if (!applied.ok()) return SendError(res, applied);
  SendJson(res, {{"changed", rows.size()}, {"previous", previous}});
}

json Server::Impl::PackState() {
  std::lock_guard lock(pack.mutex);
  return {{"state", pack.state},
          {"done", pack.done},
          {"total", pack.total},
          {"result", pack.result},
          {"message", pack.message}};
}

void Server::Impl::StartPack(httplib::Response& res) {
  std::lock_guard lock(pack.mutex);
  if (pack.state == "running") return SendError(res, 409, "a repack is already running");
  if (pack.thread.joinable()) pack.thread.join();
  store::StoreOptions write;
  write.access = store::StoreAccess::kWrite;
  // Taken here, not in the thread, so a busy store is refused in this response.
  auto opened = store::Store::Open(options.store_dir, write);
  if (!opened.ok()) return SendError(res, 409, opened.status().ToString());
  pack.state = "running";
  pack.done = pack.total = 0;
  pack.result = json();
  pack.message.clear();
  std::shared_ptr<store::Store> held(std::move(*opened));
  pack.thread = std::thread([this, held] {
    store::PackOptions pack_options;
    pack_options.out = options.pack_out.empty() ? options.store_dir / "shards" : options.pack_out;
    pack_options.progress = false;
    pack_options.on_progress = [this](int64_t done, int64_t total) {
      std::lock_guard progress_lock(pack.mutex);
      pack.done = done;
      pack.total = total;
    };
    Result<store::PackReport> report = store::Pack(*held, pack_options);
    std::lock_guard done_lock(pack.mutex);
    if (!report.ok()) {
      pack.state = "failed";
      pack.message = report.status().ToString();
      return;
    }
    json classes = json::array();
    for (const store::ClassReport& c : report->classes) {
      classes.push_back({{"name", c.name},
                         {"train_items", c.train_items},
                         {"train_records", c.train_records},
                         {"test_items", c.test_items},
                         {"test_records", c.test_records}});
    }
    pack.result = {{"classes", classes},
                   {"train_records", report->train_records},
                   {"test_records", report->test_records},
                   {"replaced", report->replaced},
                   {"warnings", report->warnings},
                   {"failures", report->failures},
                   {"out", pack_options.out.filename().string()},
                   {"table", report->Table()}};
    pack.state = report->replaced ? "done" : "failed";
    if (!report->replaced) pack.message = "some items could not be read; previous shards kept";
  });
  SendJson(res, {{"state", "running"}});
}

void Server::Impl::Routes() {
  http.set_payload_max_length(kMaxBodyBytes);
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The page has a token in its URL: no Referer may carry it away, no other site may frame it.
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
                   "'unsafe-inline'; img-src 'self'; frame-ancestors 'none'");
    res.set_header("Cache-Control", "no-store");
    return Allowed(req, res) ? httplib::Server::HandlerResponse::Unhandled
                             : httplib::Server::HandlerResponse::Handled;
  });
  // Handlers must not throw (httplib would answer 500 and carry on, but a throw means a bug).
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr) { SendError(res, 500, "internal error"); });

  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(ServePage(), "text/html; charset=utf-8");
  });

  http.Get("/api/classes", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    auto classes = view->Classes();
    if (!classes.ok()) return SendError(res, classes.status());
    auto version = view->Version();
    json out = json::array();
    for (const store::LabelInfo& label : *classes) {
      out.push_back({{"id", label.id},
                     {"name", label.name},
                     {"items", label.items},
                     {"dropped", label.dropped},
                     {"retired", label.retired}});
    }
    SendJson(res, {{"classes", out}, {"version", version.ok() ? *version : 0}});
  });

  http.Get("/api/version", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    auto version = view->Version();
    if (!version.ok()) return SendError(res, version.status());
    const Status review_status = review.Refresh();
    SendJson(res, {{"version", *version},
                   {"review_rows", review.rows().size()},
                   {"review_error", review_status.ok() ? "" : review_status.ToString()}});
  });

  http.Get("/api/items", [this](const httplib::Request& req, httplib::Response& res) {
    ItemFilter filter;
    int64_t offset = 0, limit = 60;
    double max_score = 2;
    try {
      if (req.has_param("class") && req.get_param_value("class") != "all") {
        filter.label_id = std::stoll(req.get_param_value("class"));
      }
      const std::string dropped = req.get_param_value("dropped");
      if (dropped == "yes") filter.dropped = true;
      if (dropped == "no") filter.dropped = false;
      filter.keyword = req.get_param_value("keyword");
      if (req.has_param("min_group"))
        filter.min_group_size = std::stoll(req.get_param_value("min_group"));
      if (req.has_param("max_score")) max_score = std::stod(req.get_param_value("max_score"));
      if (req.has_param("offset")) offset = std::stoll(req.get_param_value("offset"));
      if (req.has_param("limit")) limit = std::stoll(req.get_param_value("limit"));
    } catch (const std::exception&) {
      return SendError(res, 400, "a query parameter is not a number");
    }
    if (offset < 0 || limit < 1 || limit > kMaxPageSize) {
      return SendError(res, 400, "offset must be >= 0 and limit in [1, 500]");
    }
    std::lock_guard lock(mutex);
    (void)review.Refresh();
    auto items = view->Items(filter);
    if (!items.ok()) return SendError(res, items.status());
    if (max_score <= 1) {
      std::erase_if(*items, [&](const ItemSummary& item) {
        const Suspect* suspect = review.Find(item.hash);
        return !suspect || suspect->score > max_score;
      });
    }
    json page = json::array();
    for (int64_t i = offset; i < int64_t(items->size()) && i < offset + limit; ++i) {
      page.push_back(ToJson((*items)[i], review));
    }
    SendJson(res, {{"total", items->size()}, {"offset", offset}, {"items", page}});
  });

  http.Get(std::string("/api/item/") + kHashPattern, [this](const httplib::Request& req,
                                                            httplib::Response& res) {
    std::lock_guard lock(mutex);
    (void)review.Refresh();
    auto detail = view->Detail(req.matches[1]);
    if (!detail.ok()) return SendError(res, detail.status());
    json out = ToJson(detail->summary, review);
    out["format"] = detail->format;
    out["width"] = detail->width;
    out["height"] = detail->height;
    out["frame_count"] = detail->frame_count;
    json frames = json::array();
    for (const store::FrameRecord& f : detail->frames) {
      char phash[17];
      std::snprintf(phash, sizeof phash, "%016llx", static_cast<unsigned long long>(f.phash));
      frames.push_back({{"index", f.index}, {"ms", f.timestamp_ms}, {"phash", phash}});
    }
    out["kept_frames"] = frames;
    json sources = json::array();
    for (const SourceInfo& s : detail->sources) {
      sources.push_back({{"url", s.url},
                         {"page_url", s.page_url},
                         {"keyword", s.keyword},
                         {"source", s.source_name},
                         {"fetched_at", s.fetched_at}});
    }
    out["sources"] = sources;
    out["group_members"] = detail->group_members;
    json history = json::array();
    for (const HistoryRow& h : detail->history) {
      history.push_back(
          {{"time", h.time}, {"old", h.old_label}, {"new", h.new_label}, {"action", h.action}});
    }
    out["history"] = history;
    SendJson(res, out);
  });

  http.Get(std::string("/api/similar/") + kHashPattern,
           [this](const httplib::Request& req, httplib::Response& res) {
             std::lock_guard lock(mutex);
             auto neighbours = view->Similar(req.matches[1], 48);
             if (!neighbours.ok()) return SendError(res, neighbours.status());
             json items = json::array();
             for (const Neighbour& n : *neighbours) {
               json item = ToJson(n.item, review);
               item["distance"] = n.distance;
               items.push_back(item);
             }
             SendJson(res, {{"total", items.size()}, {"offset", 0}, {"items", items}});
           });

  http.Get(std::string("/api/group/") + kHashPattern,
           [this](const httplib::Request& req, httplib::Response& res) {
             std::lock_guard lock(mutex);
             auto members = view->SameGroup(req.matches[1]);
             if (!members.ok()) return SendError(res, members.status());
             json items = json::array();
             for (const ItemSummary& item : *members) items.push_back(ToJson(item, review));
             SendJson(res, {{"total", items.size()}, {"offset", 0}, {"items", items}});
           });

  http.Get(std::string("/api/thumb/") + kHashPattern + "/([0-9]{1,4})\\.png",
           [this](const httplib::Request& req, httplib::Response& res) {
             int scale = 3;
             if (req.has_param("scale")) {
               const std::string text = req.get_param_value("scale");
               if (text.size() != 1 || text[0] < '1' || text[0] > '8') {
                 return SendError(res, 400, "scale must be 1 to 8");
               }
               scale = text[0] - '0';
             }
             std::lock_guard lock(mutex);
             auto hash = CheckedHash(req.matches[1]);
             if (!hash.ok()) return SendError(res, hash.status());
             auto png = view->Thumbnail(*hash, std::stoi(req.matches[2]), scale);
             if (!png.ok()) return SendError(res, png.status());
             // Thumbnails may be cached briefly (a frames-cache rebuild can change them): no-store
             // is for the API's answers, which change with every relabel.
             res.headers.erase("Cache-Control");
             res.set_header("Cache-Control", "private, max-age=300");
             res.set_content(reinterpret_cast<const char*>(png->data()), png->size(), "image/png");
           });

  http.Get("/api/review", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t offset = 0, limit = 60;
    try {
      if (req.has_param("offset")) offset = std::stoll(req.get_param_value("offset"));
      if (req.has_param("limit")) limit = std::stoll(req.get_param_value("limit"));
    } catch (const std::exception&) {
      return SendError(res, 400, "a query parameter is not a number");
    }
    if (offset < 0 || limit < 1 || limit > kMaxPageSize) {
      return SendError(res, 400, "offset must be >= 0 and limit in [1, 500]");
    }
    std::lock_guard lock(mutex);
    const Status refreshed = review.Refresh();
    json out = {{"file", review.file().string()}, {"available", review.available()}};
    if (!refreshed.ok()) out["error"] = refreshed.ToString();
    if (!review.available()) {
      out["hint"] = "no review yet: run `memes review --store " + options.store_dir.string() +
                    " --out " + options.review_dir.string() + "`, then reload";
    }
    json items = json::array();
    int64_t listed = 0;
    for (const Suspect& suspect : review.rows()) {
      auto item = view->Summary(suspect.hash);
      if (!item.ok()) continue;  // no longer in the catalog: nothing to curate
      if (listed++ < offset || int64_t(items.size()) >= limit) continue;
      json row = ToJson(*item, review);
      row["reviewed_label"] = suspect.label;
      items.push_back(row);
    }
    out["total"] = listed;
    out["offset"] = offset;
    out["items"] = items;
    SendJson(res, out);
  });

  http.Post("/api/change", [this](const httplib::Request& req, httplib::Response& res) {
    Change(req, res, false);
  });
  http.Post("/api/undo", [this](const httplib::Request& req, httplib::Response& res) {
    Change(req, res, true);
  });
  http.Post("/api/pack",
            [this](const httplib::Request&, httplib::Response& res) { StartPack(res); });
  http.Get("/api/pack",
           [this](const httplib::Request&, httplib::Response& res) { SendJson(res, PackState()); });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
  if (impl_->listener.joinable()) impl_->listener.join();
  std::thread pack;
  {
    std::lock_guard lock(impl_->pack.mutex);
    pack = std::move(impl_->pack.thread);
  }
  // A repack in flight finishes (its shards are swapped in atomically or not at all).
  if (pack.joinable()) pack.join();
}

Result<std::unique_ptr<Server>> Server::Create(const ServeOptions& options) {
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<StoreView> view, StoreView::Open(options.store_dir));
  ServeOptions resolved = options;
  if (resolved.token.empty()) resolved.token = RandomToken();
  auto impl = std::make_unique<Impl>(std::move(resolved), std::move(view));
  impl->Routes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::Start() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
  } else {
    s.port = s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  }
  if (s.port <= 0) {
    return IoError("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                   " (in use, or not an address of this machine)");
  }
  const std::string port = ":" + std::to_string(s.port);
  std::vector<std::string> names = {"127.0.0.1", "localhost", "[::1]"};
  const std::string& host = s.options.host;
  if (host != "0.0.0.0" && host != "::" && host != "127.0.0.1") {
    names.push_back(host.find(':') != std::string::npos ? "[" + host + "]" : host);
  }
  for (const std::string& name : names) {
    s.hosts.insert(name + port);
    s.origins.insert("http://" + name + port);
  }
  s.listener = std::thread([&s] {
    s.http.listen_after_bind();
    std::lock_guard lock(s.wait_mutex);
    s.stopped = true;
    s.stopped_cv.notify_all();
  });
  // Stop() is a no-op until listen_after_bind runs; wait for it so a Ctrl-C right after the URL
  // is printed still stops the server. The socket already listens (connections queue).
  while (!s.http.is_running() && !s.stopped_flag()) std::this_thread::yield();
  return s.port;
}

std::string Server::Url() const {
  const std::string& host = impl_->options.host;
  const std::string shown = host == "0.0.0.0" || host == "::"     ? "127.0.0.1"
                            : host.find(':') != std::string::npos ? "[" + host + "]"
                                                                  : host;
  return "http://" + shown + ":" + std::to_string(impl_->port) + "/?token=" + impl_->options.token;
}

void Server::Wait() {
  std::unique_lock lock(impl_->wait_mutex);
  impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

void Server::Stop() { impl_->http.stop(); }

}  // namespace memes::pipelines::serve
