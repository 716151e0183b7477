// `memes serve`: a local curation page over a store. An HTTP server (cpp-httplib) serves one
// page (HTML/CSS/JS compiled into the binary: no CDN, works offline), a JSON API, thumbnails
// rendered from the frames cache, and runs a repack in a background thread.
//
// Safety (docs/serve.md): binds 127.0.0.1 unless told otherwise; every request's Host must name
// the address served (DNS rebinding); every mutating request (POST) needs the per-run token in
// an X-Memes-Token header, a matching Origin and a JSON body (CSRF); item ids are content
// hashes checked against the catalog; no path in a request reaches the file system.
//
// Locking: serve never holds the store's writer lock while idle. Each change opens the store
// for writing, applies one catalog transaction (logged like `memes label`) and closes it, so
// `memes label`, `memes crawl` and `memes pack` keep working while the page is open; a change
// made while another writer holds the lock is refused with that writer's PID (HTTP 409). A
// repack holds the lock for its duration.
// Thread-safety: Start, Wait and Stop may be called from different threads; handlers run on
// httplib's thread pool and serialise on the server's mutex.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"

namespace memes::pipelines::serve {

struct ServeOptions {
  std::filesystem::path store_dir;
  std::filesystem::path review_dir;  // holds suspects.csv (may not exist yet)
  std::filesystem::path pack_out;    // the repack's output (empty: STORE/shards)
  std::string host = "127.0.0.1";
  int port = 8080;    // 0: any free port
  std::string token;  // empty: 128 random bits in hex
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServeOptions& options);
  ~Server();
  // Binds and starts listening in a background thread; returns the port bound.
  Result<int> Start();
  // The URL to open (with the token).
  std::string Url() const;
  // Blocks until Stop() (from any thread) or a listen failure.
  void Wait();
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The page served at "/" (pipelines/serve/page.html, embedded at build time).
const char* ServePage();

}  // namespace memes::pipelines::serve
