// The fetcher: HTTP(S) downloads on libcurl's multi interface, many transfers on ONE I/O thread
// (concurrency comes from transfers in flight, not threads), with the crawl's politeness built
// in: global and per-host transfer limits, a per-host token bucket, retries with exponential
// backoff and jitter (Retry-After honoured), and robots.txt fetched once per host and obeyed.
//
// Thread-safety: Submit/Fetch/WaitIdle/counters may be called from any thread. Callbacks run on
// the fetcher's I/O thread, one at a time: keep them short (hand the result to a flow graph's
// gateway, a queue, a promise) and never call WaitIdle or destroy the Fetcher from one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace memes::ingest {

// Mirrors pipelines::Politeness field by field (the crawl graph copies them over), plus a few
// knobs that only the fetcher needs.
struct FetchSettings {
  std::string user_agent = "memes/0.1 (sticker dataset builder)";
  int max_transfers = 64;       // transfers in flight at once, all hosts together
  int per_host_transfers = 8;   // in flight at once to one host
  double per_host_rate = 10.0;  // requests per second to one host (token bucket)
  int per_host_burst = 10;      // token bucket depth
  int retries = 3;              // for timeouts, resets, truncation, 5xx and 429; never other 4xx
  int connect_timeout_ms = 10'000;
  int total_timeout_ms = 60'000;
  int low_speed_bytes_per_s = 1024;  // slower than this for low_speed_time_s aborts
  int low_speed_time_s = 15;
  uint64_t max_body_bytes = 20'000'000;  // refused while downloading once exceeded
  int max_redirects = 5;  // followed hop by hop: each passes robots.txt and its host's limits
  bool obey_robots = true;
  // Hosts (names or IP literals, as written in URLs) that may resolve to loopback, private,
  // link-local or other non-public addresses. Every other host is connected to only at public
  // addresses (address_policy.h); the crawl adds the hosts its sources name.
  std::vector<std::string> allow_private_hosts;

  // Fetcher-only.
  int backoff_base_ms = 500;    // first retry waits ~this (with jitter), doubling each retry
  int backoff_max_ms = 60'000;  // cap of a backoff; a longer Retry-After fails the request
  // RFC 9309 asks crawlers to parse at least 500 KiB: a longer robots.txt is cut here and the
  // part that arrived is obeyed.
  uint64_t max_robots_bytes = 512 * 1024;
};

// Checks the numbers (positive limits, rate > 0…); kInvalidArgument names the field.
Status CheckFetchSettings(const FetchSettings& settings);

struct FetchRequest {
  FetchRequest() = default;
  FetchRequest(std::string url_in) : url(std::move(url_in)) {}  // NOLINT: implicit by design

  std::string url;              // absolute http(s) URL
  uint64_t max_body_bytes = 0;  // 0: FetchSettings::max_body_bytes
  std::string accept;           // Accept header; empty: "*/*"
};

// Why a fetch failed; stats count these (see ErrorLabel).
enum class FetchError {
  kNone = 0,
  kBadUrl,           // malformed, or a scheme other than http/https (also on redirect)
  kDns,              // the host name did not resolve
  kConnect,          // connection refused or unreachable
  kTimeout,          // connect/total timeout or the low-speed cut-off
  kReset,            // connection reset / closed with nothing / send or receive error
  kTruncated,        // the body ended before its declared Content-Length
  kTooLarge,         // body beyond max_body_bytes (declared or while downloading)
  kRedirectLoop,     // more than max_redirects redirects
  kHttpStatus,       // the server answered a non-2xx status (see http_status)
  kTls,              // certificate or handshake failure
  kRobotsForbidden,  // robots.txt disallows the path for our user agent
  kPrivateAddress,   // the host resolved to a non-public address and is not allowed to
  kCancelled,        // the Fetcher was destroyed first
  kOther,
};

// "timeout", "reset", "too-large", "http", "robots-forbidden"…
std::string_view FetchErrorName(FetchError error);
// Is this failure worth a later run's retry (the crawl's resume retries only these)?
bool IsRetryable(FetchError error, int http_status);

struct FetchResult {
  std::string url;           // as requested
  std::string final_url;     // after redirects (empty when nothing was received)
  int http_status = 0;       // of the last response, 0 when none
  std::string content_type;  // as the server declared it (untrusted: sniff the bytes)
  std::string body;          // complete only when ok()
  int attempts = 0;          // transfers started: retries and redirect hops (not robots.txt)
  FetchError error = FetchError::kNone;
  Status status;                               // OK, or what went wrong with where() = the URL
  std::chrono::milliseconds elapsed{0};        // Submit to callback: queueing, waits, retries
  std::chrono::milliseconds transfer_time{0};  // the last attempt's transfer alone

  bool ok() const { return status.ok(); }
};

// For stats per error kind: "http-404", "timeout", "robots-forbidden"; "ok" when ok().
std::string ErrorLabel(const FetchResult& result);

// Monotonic counters, for progress bars and reports.
struct FetchCounters {
  uint64_t submitted = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t retries = 0;         // attempts beyond the first
  uint64_t bytes = 0;           // body bytes delivered (successful requests)
  uint64_t robots_fetches = 0;  // robots.txt requests made
  uint64_t connections = 0;     // new connections opened (the others reused a cached one)
  int in_flight = 0;            // transfers running now
  int queued = 0;               // submitted, not yet delivered, not running
};

class Fetcher {
 public:
  using Callback = std::function<void(FetchResult)>;

  // Requires: CheckFetchSettings(settings).ok(). Starts the I/O thread.
  explicit Fetcher(FetchSettings settings);
  // Stops: requests not yet delivered get kCancelled callbacks (on the I/O thread) first.
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Queues a request and returns at once; `on_done` is called exactly once, on the I/O thread.
  // Submit never blocks: callers bound what they keep in flight (a limiter_node in the graph).
  void Submit(FetchRequest request, Callback on_done);

  // Blocking conveniences (tests, tools). Never call them from a callback.
  FetchResult Fetch(FetchRequest request);
  std::vector<FetchResult> FetchAll(std::vector<FetchRequest> requests);

  // Blocks until every submitted request has been delivered.
  void WaitIdle();

  FetchCounters counters() const;
  const FetchSettings& settings() const { return settings_; }

 private:
  class Loop;  // the I/O thread's state: multi handle, hosts, queues (fetcher.cpp)

  const FetchSettings settings_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace memes::ingest
