#include "ingest/fetcher.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "ingest/curl_errors.h"
#include "ingest/curl_handles.h"
#include "ingest/politeness.h"
#include "ingest/robots.h"
#include "ingest/url.h"

namespace memes::ingest {

namespace {

using Clock = SteadyClock;

StatusCode CodeFor(FetchError error) {
  switch (error) {
    case FetchError::kNone:
      return StatusCode::kOk;
    case FetchError::kBadUrl:
      return StatusCode::kInvalidArgument;
    case FetchError::kTooLarge:
    case FetchError::kRedirectLoop:
    case FetchError::kRobotsForbidden:
      return StatusCode::kLimitExceeded;
    case FetchError::kHttpStatus:
      return StatusCode::kHttp;
    case FetchError::kCancelled:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kNetwork;
  }
}

// One request from Submit to its callback, across attempts.
struct Job {
  FetchRequest request;
  Fetcher::Callback on_done;  // empty for the fetcher's own robots.txt requests
  UrlParts parts;
  Clock::time_point submitted;
  int attempts = 0;      // transfers started, every hop and retry
  int hop_attempts = 0;  // transfers of the current hop: the retry budget is per hop
  int redirects = 0;     // hops followed; each hop is scheduled like a request of its own host
  bool is_robots = false;
};

// One attempt in flight: owns the easy handle while it is in the multi.
struct Transfer {
  std::unique_ptr<Job> job;
  CurlEasy easy;
  CurlSlist headers;
  std::string body;
  uint64_t limit = 0;
  bool too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

enum class RobotsState { kUnknown, kFetching, kReady, kUnreachable };

// Per origin (scheme://host:port). Invariant: active <= settings.per_host_transfers.
struct Host {
  Host(double rate, int burst) : bucket(rate, burst, Clock::now()) {}
  std::deque<std::unique_ptr<Job>> queue;
  int active = 0;
  TokenBucket bucket;
  Clock::time_point not_before{};  // set by 429/503: the whole host waits
  RobotsState robots = RobotsState::kUnknown;
  RobotsRules rules;
  FetchResult robots_failure;  // kUnreachable: what happened to robots.txt
};

// Puts a job that has waited its turn (a retry, a redirect hop) before the host's new requests,
// but never before a robots.txt request still queued there: the host waits on that one.
void PushFront(Host& host, std::unique_ptr<Job> job) {
  auto at = host.queue.begin();
  if (at != host.queue.end() && (*at)->is_robots && !job->is_robots) ++at;
  host.queue.insert(at, std::move(job));
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->limit) {
    transfer->too_large = true;
    return 0;  // anything but `bytes` aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

}  // namespace

class Fetcher::Loop {
 public:
  explicit Loop(const FetchSettings& settings)
      : settings_(settings),
        rng_(std::random_device{}()),
        product_token_(ProductToken(settings.user_agent)) {
    EnsureCurlGlobalInit();
    multi_.reset(curl_multi_init());
    assert(multi_ && "curl_multi_init failed");
    // libcurl keeps its own per-host cap too, so a miscount here can never exceed the setting.
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(settings_.per_host_transfers));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(settings_.max_transfers));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS,
                      static_cast<long>(settings_.max_transfers));
    curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    thread_ = std::thread([this] { Run(); });
  }

  ~Loop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_.get());
    thread_.join();
    transfers_.clear();
    idle_easies_.clear();
  }

  void Submit(std::unique_ptr<Job> job) {
    {
      std::lock_guard lock(mutex_);
      ++outstanding_;
      incoming_.push_back(std::move(job));
    }
    submitted_.fetch_add(1);
    curl_multi_wakeup(multi_.get());
  }

  void WaitIdle() {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [this] { return outstanding_ == 0; });
  }

  FetchCounters counters() const {
    FetchCounters c;
    c.submitted = submitted_.load();
    c.succeeded = succeeded_.load();
    c.failed = failed_.load();
    c.retries = retries_.load();
    c.bytes = bytes_.load();
    c.robots_fetches = robots_fetches_.load();
    c.connections = connections_.load();
    c.in_flight = in_flight_.load();
    std::lock_guard lock(mutex_);
    // in_flight counts robots.txt requests too, which are not outstanding requests.
    c.queued = std::max(0, static_cast<int>(outstanding_) - c.in_flight);
    return c;
  }

 private:
  void Run();
  bool TakeIncoming();
  void PromoteDelayed(Clock::time_point now);
  Clock::time_point StartEligible(Clock::time_point now);
  bool TryStartOne(const std::string& origin, Host& host, Clock::time_point now,
                   Clock::time_point* wake);
  void StartTransfer(Host& host, std::unique_ptr<Job> job);
  int HarvestDone();
  void Completed(std::unique_ptr<Transfer> transfer, CURLcode code);
  void FollowRedirect(std::unique_ptr<Job> job, const std::string& location);
  void RobotsDone(Host& host, const FetchResult& result);
  void Fail(std::unique_ptr<Job> job, FetchError error, std::string message, int http_status = 0);
  void Deliver(std::unique_ptr<Job> job, FetchResult result);
  void DeliverReady();
  void CancelAll();

  const FetchSettings& settings_;
  CurlMulti multi_;  // first member: destroyed last, after every easy handle
  std::thread thread_;

  // Shared with submitting threads.
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<Job>> incoming_;  // guarded by mutex_
  bool stopping_ = false;                       // guarded by mutex_
  uint64_t outstanding_ = 0;  // submitted, callback not yet returned; guarded by mutex_
  std::atomic<uint64_t> submitted_{0}, succeeded_{0}, failed_{0}, retries_{0}, bytes_{0},
      robots_fetches_{0}, connections_{0};
  std::atomic<int> in_flight_{0};

  // I/O thread only.
  std::map<std::string, Host> hosts_;
  std::multimap<Clock::time_point, std::unique_ptr<Job>> delayed_;  // retries waiting
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<CurlEasy> idle_easies_;  // reused: keeps DNS and TLS session caches warm
  int active_ = 0;
  std::vector<std::pair<Callback, FetchResult>> ready_;  // callbacks to run
  std::mt19937_64 rng_;
  const std::string product_token_;
};

void Fetcher::Loop::Run() {
  while (true) {
    if (TakeIncoming()) {
      CancelAll();
      DeliverReady();
      return;
    }
    Clock::time_point now = Clock::now();
    PromoteDelayed(now);
    Clock::time_point wake = StartEligible(now);
    DeliverReady();
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    const int finished = HarvestDone();
    DeliverReady();
    if (finished > 0) continue;  // slots were freed: schedule before sleeping
    if (!delayed_.empty()) wake = std::min(wake, delayed_.begin()->first);
    now = Clock::now();
    int wait_ms = 1000;
    if (wake < now + std::chrono::milliseconds(wait_ms)) {
      wait_ms = static_cast<int>(
          std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wake - now).count()));
    }
    // Sleeps until a socket is ready, libcurl's own timer fires, Submit wakes us, or `wake`.
    curl_multi_poll(multi_.get(), nullptr, 0, wait_ms, nullptr);
  }
}

bool Fetcher::Loop::TakeIncoming() {
  std::vector<std::unique_ptr<Job>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(incoming_);
    if (stopping_) {
      for (auto& job : batch) {
        Fail(std::move(job), FetchError::kCancelled, "fetcher stopped before the request ran");
      }
      return true;
    }
  }
  for (auto& job : batch) {
    auto parts = ParseHttpUrl(job->request.url);
    if (!parts.ok()) {
      Fail(std::move(job), FetchError::kBadUrl, parts.status().message());
      continue;
    }
    job->parts = std::move(parts).value();
    auto [it, inserted] =
        hosts_.try_emplace(job->parts.origin, settings_.per_host_rate, settings_.per_host_burst);
    it->second.queue.push_back(std::move(job));
  }
  return false;
}

void Fetcher::Loop::PromoteDelayed(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::unique_ptr<Job> job = std::move(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
    // A retry has waited its turn already: it goes before new requests of its host.
    Host& host = hosts_.at(job->parts.origin);  // before the move below
    PushFront(host, std::move(job));
  }
}

Clock::time_point Fetcher::Loop::StartEligible(Clock::time_point now) {
  Clock::time_point wake = Clock::time_point::max();
  // Round robin over hosts, one start per host per pass, so one busy host cannot take every
  // global slot while others wait.
  bool progress = true;
  while (progress && active_ < settings_.max_transfers) {
    progress = false;
    for (auto& [origin, host] : hosts_) {
      if (active_ >= settings_.max_transfers) break;
      if (!host.queue.empty() && TryStartOne(origin, host, now, &wake)) progress = true;
    }
  }
  return wake;
}

bool Fetcher::Loop::TryStartOne(const std::string& origin, Host& host, Clock::time_point now,
                                Clock::time_point* wake) {
  if (settings_.obey_robots && !host.queue.front()->is_robots) {
    switch (host.robots) {
      case RobotsState::kUnknown: {
        auto robots = std::make_unique<Job>();
        robots->request.url = origin + "/robots.txt";
        robots->request.max_body_bytes = settings_.max_robots_bytes;
        robots->request.accept = "text/plain, */*";
        robots->parts = ParseHttpUrl(robots->request.url).value();
        robots->submitted = now;
        robots->is_robots = true;
        host.queue.push_front(std::move(robots));
        host.robots = RobotsState::kFetching;
        break;
      }
      case RobotsState::kFetching:
        return false;  // the host's requests wait for its robots.txt
      case RobotsState::kReady:
        if (!host.rules.Allowed(host.queue.front()->parts.path_query)) {
          std::unique_ptr<Job> job = std::move(host.queue.front());
          host.queue.pop_front();
          Fail(std::move(job), FetchError::kRobotsForbidden,
               "forbidden by " + origin + "/robots.txt for user agent '" + product_token_ + "'");
          return true;
        }
        break;
      case RobotsState::kUnreachable: {
        std::unique_ptr<Job> job = std::move(host.queue.front());
        host.queue.pop_front();
        const FetchResult& why = host.robots_failure;
        Fail(std::move(job), why.error,
             "robots.txt unreachable, host skipped: " + why.status.message(), why.http_status);
        return true;
      }
    }
  }
  if (host.active >= settings_.per_host_transfers) return false;
  if (now < host.not_before) {
    *wake = std::min(*wake, host.not_before);
    return false;
  }
  if (!host.bucket.TryTake(now)) {
    *wake = std::min(*wake, host.bucket.NextTokenAt(now));
    return false;
  }
  std::unique_ptr<Job> job = std::move(host.queue.front());
  host.queue.pop_front();
  StartTransfer(host, std::move(job));
  return true;
}

void Fetcher::Loop::StartTransfer(Host& host, std::unique_ptr<Job> job) {
  auto transfer = std::make_unique<Transfer>();
  if (!idle_easies_.empty()) {
    transfer->easy = std::move(idle_easies_.back());
    idle_easies_.pop_back();
  } else {
    transfer->easy.reset(curl_easy_init());
  }
  CURL* easy = transfer->easy.get();
  if (easy == nullptr) {
    Fail(std::move(job), FetchError::kOther, "curl_easy_init failed (out of memory)");
    return;
  }
  const FetchRequest& request = job->request;
  transfer->limit = request.max_body_bytes ? request.max_body_bytes : settings_.max_body_bytes;
  const std::string accept = "Accept: " + (request.accept.empty() ? "*/*" : request.accept);
  transfer->headers.reset(curl_slist_append(nullptr, accept.c_str()));

  curl_easy_setopt(easy, CURLOPT_URL, job->parts.normalized.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // gzip, br, zstd; limit counts decoded
  // Redirects of requests are followed here, hop by hop (Completed), so every hop passes its
  // host's robots.txt, limits and rate; robots.txt itself lets libcurl follow (RFC 9309: at
  // least five hops), since its answer belongs to the host that was asked.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, job->is_robots ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, static_cast<long>(settings_.max_redirects));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  if (job->parts.origin.rfind("https:", 0) == 0) {
    // Wait for a possibly multiplexed HTTP/2 connection rather than opening another.
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(settings_.low_speed_bytes_per_s));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings_.low_speed_time_s));
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(transfer->limit));

  ++job->attempts;
  ++job->hop_attempts;
  if (job->hop_attempts > 1) retries_.fetch_add(1);
  if (job->is_robots && job->attempts == 1) robots_fetches_.fetch_add(1);
  transfer->job = std::move(job);
  if (curl_multi_add_handle(multi_.get(), easy) != CURLM_OK) {
    Fail(std::move(transfer->job), FetchError::kOther, "curl_multi_add_handle failed");
    return;
  }
  ++active_;
  ++host.active;
  in_flight_.fetch_add(1);
  transfers_.emplace(easy, std::move(transfer));
}

int Fetcher::Loop::HarvestDone() {
  int finished = 0;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    // Copy out: `message` dies with curl_multi_remove_handle.
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;
    auto it = transfers_.find(easy);
    assert(it != transfers_.end());
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_.get(), easy);
    --active_;
    in_flight_.fetch_sub(1);
    --hosts_.at(transfer->job->parts.origin).active;
    Completed(std::move(transfer), code);
    ++finished;
  }
  return finished;
}

void Fetcher::Loop::Completed(std::unique_ptr<Transfer> transfer, CURLcode code) {
  CURL* easy = transfer->easy.get();
  std::unique_ptr<Job> job = std::move(transfer->job);
  Host& host = hosts_.at(job->parts.origin);

  FetchResult result;
  long http_status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_status);
  result.http_status = static_cast<int>(http_status);
  if (char* final_url = nullptr;
      curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &final_url) == CURLE_OK && final_url) {
    result.final_url = final_url;
  }
  if (char* type = nullptr;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) {
    result.content_type = type;
  }
  curl_off_t total_us = 0;
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  result.transfer_time = std::chrono::milliseconds(total_us / 1000);
  long new_connections = 0;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &new_connections);
  connections_.fetch_add(static_cast<uint64_t>(std::max(0L, new_connections)));
  curl_off_t retry_after_s = 0;
  curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after_s);

  auto [error, message] = ClassifyTransfer(
      code, result.http_status,
      transfer->error_buffer[0] ? transfer->error_buffer : curl_easy_strerror(code),
      transfer->too_large, transfer->limit, settings_.max_redirects);
  if (error == FetchError::kNone) result.body = std::move(transfer->body);
  std::string redirect_to;
  if (code == CURLE_OK && result.http_status >= 300 && result.http_status < 400) {
    if (char* location = nullptr;
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
      redirect_to = location;  // absolute: libcurl resolved it against the request URL
    }
  }
  // Recycle the handle; its connection stays in the multi's cache for reuse.
  curl_easy_reset(easy);
  idle_easies_.push_back(std::move(transfer->easy));

  if (!redirect_to.empty() && !job->is_robots) {
    FollowRedirect(std::move(job), redirect_to);
    return;
  }

  if (error != FetchError::kNone && IsRetryable(error, result.http_status) &&
      job->hop_attempts <= settings_.retries) {
    const auto now = Clock::now();
    auto delay =
        BackoffDelay(job->hop_attempts, settings_.backoff_base_ms, settings_.backoff_max_ms, rng_);
    const bool slow_down = error == FetchError::kHttpStatus &&
                           (result.http_status == 429 || result.http_status == 503);
    if (slow_down) {
      if (retry_after_s * 1000 > settings_.backoff_max_ms) {
        Fail(std::move(job), error,
             message + " with Retry-After " + std::to_string(retry_after_s) +
                 " s, beyond backoff_max_ms",
             result.http_status);
        return;
      }
      delay = std::max(delay, std::chrono::milliseconds(retry_after_s * 1000));
      // The server asked the whole host to slow down, not just this URL.
      host.not_before = std::max(host.not_before, now + delay);
      PushFront(host, std::move(job));
    } else {
      delayed_.emplace(now + delay, std::move(job));
    }
    MEMES_LOG(kDebug) << "fetch: " << message << ", retrying in " << delay.count() << " ms";
    return;
  }
  if (error != FetchError::kNone) {
    if (job->hop_attempts > 1 && IsRetryable(error, result.http_status)) {
      message += " (after " + std::to_string(job->hop_attempts) + " attempts)";
    }
    result.error = error;
    result.status = Status(CodeFor(error), std::move(message), job->request.url);
  }
  if (job->is_robots) {
    RobotsDone(host, result);
    return;
  }
  Deliver(std::move(job), std::move(result));
}

void Fetcher::Loop::FollowRedirect(std::unique_ptr<Job> job, const std::string& location) {
  if (job->redirects >= settings_.max_redirects) {
    Fail(std::move(job), FetchError::kRedirectLoop,
         "more than " + std::to_string(settings_.max_redirects) + " redirects (last to " +
             location + ")");
    return;
  }
  auto parts = ParseHttpUrl(location);
  if (!parts.ok()) {
    Fail(std::move(job), FetchError::kBadUrl, "redirect refused: " + parts.status().message());
    return;
  }
  ++job->redirects;
  job->hop_attempts = 0;
  job->parts = std::move(parts).value();
  auto [it, inserted] =
      hosts_.try_emplace(job->parts.origin, settings_.per_host_rate, settings_.per_host_burst);
  PushFront(it->second, std::move(job));
}

void Fetcher::Loop::RobotsDone(Host& host, const FetchResult& result) {
  // RFC 9309: 2xx -> obey; 4xx (but 429) -> "unavailable", allow everything; 5xx, 429 and network
  // failures -> "unreachable", assume complete disallow. Oversized files are cut at the limit by
  // the write callback and what arrived is parsed; redirect loops count as unavailable.
  if (result.ok() || result.error == FetchError::kTooLarge) {
    host.rules = RobotsRules::Parse(result.body, product_token_);
    host.robots = RobotsState::kReady;
  } else if ((result.error == FetchError::kHttpStatus && result.http_status >= 400 &&
              result.http_status < 500 && result.http_status != 429) ||
             result.error == FetchError::kRedirectLoop || result.error == FetchError::kBadUrl) {
    host.rules = RobotsRules();
    host.robots = RobotsState::kReady;
  } else {
    host.robots_failure = result;
    host.robots = RobotsState::kUnreachable;
  }
}

void Fetcher::Loop::Fail(std::unique_ptr<Job> job, FetchError error, std::string message,
                         int http_status) {
  FetchResult result;
  result.error = error;
  result.http_status = http_status;
  result.status = Status(CodeFor(error), std::move(message), job->request.url);
  if (job->is_robots) {
    // A robots.txt request that could not even start leaves its host unreachable, so the
    // host's queue never waits on it forever. Cancellation needs no bookkeeping.
    if (error != FetchError::kCancelled) RobotsDone(hosts_.at(job->parts.origin), result);
    return;
  }
  Deliver(std::move(job), std::move(result));
}

void Fetcher::Loop::Deliver(std::unique_ptr<Job> job, FetchResult result) {
  result.url = job->request.url;
  result.attempts = job->attempts;
  result.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job->submitted);
  if (result.ok()) {
    succeeded_.fetch_add(1);
    bytes_.fetch_add(result.body.size());
  } else {
    failed_.fetch_add(1);
  }
  ready_.emplace_back(std::move(job->on_done), std::move(result));
}

void Fetcher::Loop::DeliverReady() {
  if (ready_.empty()) return;
  std::vector<std::pair<Callback, FetchResult>> batch;
  batch.swap(ready_);
  for (auto& [callback, result] : batch) {
    try {
      if (callback) callback(std::move(result));
    } catch (const std::exception& e) {
      MEMES_LOG(kError) << "fetch callback threw: " << e.what();
    } catch (...) {
      MEMES_LOG(kError) << "fetch callback threw";
    }
  }
  {
    std::lock_guard lock(mutex_);
    outstanding_ -= batch.size();
  }
  idle_cv_.notify_all();
}

void Fetcher::Loop::CancelAll() {
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(multi_.get(), easy);
    in_flight_.fetch_sub(1);
    Fail(std::move(transfer->job), FetchError::kCancelled, "fetcher stopped during the transfer");
  }
  transfers_.clear();
  active_ = 0;
  for (auto& [when, job] : delayed_) {
    Fail(std::move(job), FetchError::kCancelled, "fetcher stopped before the retry");
  }
  delayed_.clear();
  for (auto& [origin, host] : hosts_) {
    for (auto& job : host.queue) {
      Fail(std::move(job), FetchError::kCancelled, "fetcher stopped before the request ran");
    }
    host.queue.clear();
  }
}

Fetcher::Fetcher(FetchSettings settings)
    : settings_(std::move(settings)), loop_(std::make_unique<Loop>(settings_)) {}

Fetcher::~Fetcher() = default;

void Fetcher::Submit(FetchRequest request, Callback on_done) {
  auto job = std::make_unique<Job>();
  job->request = std::move(request);
  job->on_done = std::move(on_done);
  job->submitted = Clock::now();
  loop_->Submit(std::move(job));
}

FetchResult Fetcher::Fetch(FetchRequest request) {
  auto promise = std::make_shared<std::promise<FetchResult>>();
  std::future<FetchResult> future = promise->get_future();
  Submit(std::move(request),
         [promise](FetchResult result) { promise->set_value(std::move(result)); });
  return future.get();
}

std::vector<FetchResult> Fetcher::FetchAll(std::vector<FetchRequest> requests) {
  std::vector<FetchResult> results(requests.size());
  std::mutex mutex;
  std::condition_variable done;
  size_t remaining = requests.size();
  for (size_t i = 0; i < requests.size(); ++i) {
    Submit(std::move(requests[i]), [&, i](FetchResult result) {
      std::lock_guard lock(mutex);
      results[i] = std::move(result);
      if (--remaining == 0) done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return remaining == 0; });
  return results;
}

void Fetcher::WaitIdle() { loop_->WaitIdle(); }

FetchCounters Fetcher::counters() const { return loop_->counters(); }

}  // namespace memes::ingest
