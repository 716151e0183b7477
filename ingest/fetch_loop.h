// The fetcher's I/O loop, shared by fetcher.cpp (scheduling: queues, limits, robots, starting
// transfers) and fetch_completion.cpp (finished transfers: classification, retries, redirects,
// robots.txt answers, callbacks). Internal to ingest/.
// Thread-safety: everything below belongs to the I/O thread, except what Fetcher::Loop's
// comments mark as shared (guarded by its mutex, or atomic).
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ingest/address_policy.h"
#include "ingest/curl_handles.h"
#include "ingest/fetcher.h"
#include "ingest/politeness.h"
#include "ingest/robots.h"
#include "ingest/url.h"

namespace memes::ingest {
namespace fetch_detail {

using Clock = SteadyClock;

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
  // Robots requests: the origin whose robots.txt this is. Redirect hops may take the request
  // to other hosts; the answer still belongs to this one.
  std::string robots_for;
};

// One attempt in flight: owns the easy handle while it is in the multi.
struct Transfer {
  std::unique_ptr<Job> job;
  CurlEasy easy;
  CurlSlist headers;
  std::string body;
  uint64_t limit = 0;
  bool too_large = false;
  bool truncate_at_limit = false;  // robots.txt: keep the first `limit` bytes, then stop
  AddressGuard address_guard;      // what OpenPublicSocket refused, if anything
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

StatusCode CodeFor(FetchError error);
// Puts a job that has waited its turn (a retry, a redirect hop) before the host's new requests,
// but never before a robots.txt request still queued there: the host waits on that one.
void PushFront(Host& host, std::unique_ptr<Job> job);
// libcurl's write callback: appends to the Transfer's body, refusing past its limit.
size_t WriteBody(char* data, size_t size, size_t count, void* user);

}  // namespace fetch_detail

using fetch_detail::Clock;
using fetch_detail::Host;
using fetch_detail::Job;
using fetch_detail::RobotsState;
using fetch_detail::Transfer;

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
    // Socket-driven: libcurl tells us which sockets to watch and when its next timeout is due,
    // and is asked about the sockets epoll says are ready, never about idle transfers.
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &Loop::OnSocket);
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &Loop::OnTimer);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert(epoll_fd_ >= 0 && wake_fd_ >= 0 && "epoll_create1/eventfd failed");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
    thread_ = std::thread([this] { Run(); });
  }

  ~Loop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    transfers_.clear();
    idle_easies_.clear();
    close(wake_fd_);
    close(epoll_fd_);
  }

  void Submit(std::unique_ptr<Job> job) {
    {
      std::lock_guard lock(mutex_);
      ++outstanding_;
      incoming_.push_back(std::move(job));
    }
    submitted_.fetch_add(1);
    Wake();
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
  // Interrupts the I/O thread's epoll_wait (any thread).
  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(wake_fd_, &one, sizeof one);
  }
  // libcurl's socket and timer callbacks (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION).
  static int OnSocket(CURL* easy, curl_socket_t socket, int what, void* loop, void* known);
  static int OnTimer(CURLM* multi, long timeout_ms, void* loop);
  // Waits up to `wait_ms` for ready sockets, a wake-up or libcurl's timer, and lets libcurl act.
  void Poll(int wait_ms);
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

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Submit and the destructor wake the I/O thread through it

  // I/O thread only.
  std::optional<Clock::time_point> curl_timer_;  // when libcurl wants CURL_SOCKET_TIMEOUT
  std::map<std::string, Host> hosts_;
  std::multimap<Clock::time_point, std::unique_ptr<Job>> delayed_;  // retries waiting
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<CurlEasy> idle_easies_;  // reused: keeps DNS and TLS session caches warm
  int active_ = 0;
  std::vector<std::pair<Callback, FetchResult>> ready_;  // callbacks to run
  std::mt19937_64 rng_;
  const std::string product_token_;
};

}  // namespace memes::ingest
