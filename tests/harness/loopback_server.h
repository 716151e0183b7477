// A real HTTP server on 127.0.0.1 for tests and benchmarks (cpp-httplib), on a free port, with
// programmable faults: status codes, sequences (500 then 200), delays, stalls mid-body,
// truncated bodies, redirects and loops, huge bodies, and connection resets.
//
// Thread-safety: routes may be added while the server runs; handlers run on the server's own
// thread pool (128 threads, so benchmarks can keep 64+ transfers in flight).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace memes::testing {

struct CannedResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/octet-stream";
  std::multimap<std::string, std::string> headers;
};

class LoopbackServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Binds 127.0.0.1 on a free port and starts serving. Aborts the test binary if it cannot bind
  // (a broken test environment, not a test failure).
  LoopbackServer();
  ~LoopbackServer();  // stops and joins
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (path starts with '/').
  std::string Url(const std::string& path) const;

  // Content.
  void ServeBytes(const std::string& path, std::string body,
                  std::string content_type = "application/octet-stream");
  // Content type from the extension (.gif, .png, .jpg, .webp, .html, .json, .txt).
  void ServeFile(const std::string& path, const std::filesystem::path& file);
  // Responses in order, one per request; the last one repeats ("500 then 200").
  void ServeSequence(const std::string& path, std::vector<CannedResponse> responses);
  void ServeStatus(const std::string& path, int status, std::string body = {},
                   std::multimap<std::string, std::string> headers = {});
  // Full control.
  void Handle(const std::string& path, Handler handler);

  // Faults.
  void ServeDelayed(const std::string& path, std::chrono::milliseconds delay, std::string body,
                    std::string content_type = "application/octet-stream");
  // Declares Content-Length of the whole body, sends `sent` bytes, then closes the connection.
  void ServeTruncated(const std::string& path, std::string body, size_t sent);
  // Sends `head` bytes of `body`, then stalls for `stall` before sending the rest.
  void ServeStall(const std::string& path, std::string body, size_t head,
                  std::chrono::milliseconds stall);
  // 302 to `target` (a path on this server or a full URL).
  void ServeRedirect(const std::string& path, const std::string& target, int status = 302);
  // `total` bytes of generated content (never held in memory), e.g. a 1 GB "image".
  void ServeLargeBody(const std::string& path, uint64_t total,
                      std::string content_type = "image/png");
  // A URL on a second listener that accepts and resets (RST) every connection.
  std::string ResetUrl(const std::string& path) const;

  // Added latency before every response (benchmarks: "100 ms per response").
  void SetLatency(std::chrono::milliseconds latency) { latency_ms_.store(latency.count()); }

  // Requests seen for `path` (query strings ignored), and in total.
  int Hits(const std::string& path) const;
  int TotalHits() const { return total_hits_.load(); }
  // The User-Agent of the most recent request.
  std::string LastUserAgent() const;
  // Most transfers seen in flight at the same time.
  int PeakConcurrency() const { return peak_in_flight_.load(); }

 private:
  void Route(const std::string& path, Handler handler);
  void StartResetListener();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int reset_fd_ = -1;
  int reset_port_ = 0;
  std::thread reset_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> latency_ms_{0};
  std::atomic<int> total_hits_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_in_flight_{0};
  mutable std::mutex mutex_;
  std::map<std::string, Handler> routes_;   // guarded by mutex_
  std::map<std::string, int> hits_;         // guarded by mutex_
  std::string last_user_agent_;             // guarded by mutex_
};

}  // namespace memes::testing
