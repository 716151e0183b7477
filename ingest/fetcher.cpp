#include "ingest/fetcher.h"

#include <algorithm>
#include <future>

#include "core/log.h"
#include "ingest/fetch_loop.h"

namespace memes::ingest {
namespace fetch_detail {

StatusCode CodeFor(FetchError error) {
  switch (error) {
    case FetchError::kNone:
      return StatusCode::kOk;
    case FetchError::kBadUrl:
      return StatusCode::kInvalidArgument;
    case FetchError::kTooLarge:
    case FetchError::kRedirectLoop:
    case FetchError::kRobotsForbidden:
    case FetchError::kPrivateAddress:
      return StatusCode::kLimitExceeded;
    case FetchError::kHttpStatus:
      return StatusCode::kHttp;
    case FetchError::kCancelled:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kNetwork;
  }
}

void PushFront(Host& host, std::unique_ptr<Job> job) {
  auto at = host.queue.begin();
  if (at != host.queue.end() && (*at)->is_robots && !job->is_robots) ++at;
  host.queue.insert(at, std::move(job));
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->limit) {
    if (transfer->truncate_at_limit) {
      transfer->body.append(data, transfer->limit - transfer->body.size());
    }
    transfer->too_large = true;
    return 0;  // anything but `bytes` aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

}  // namespace fetch_detail

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
    // New handles ask for an immediate timeout: let libcurl start them before sleeping.
    if (curl_timer_ && *curl_timer_ <= Clock::now()) Poll(0);
    const int finished = HarvestDone();
    DeliverReady();
    if (finished > 0) continue;  // slots were freed: schedule before sleeping
    if (!delayed_.empty()) wake = std::min(wake, delayed_.begin()->first);
    if (curl_timer_) wake = std::min(wake, *curl_timer_);
    now = Clock::now();
    int wait_ms = 1000;
    if (wake < now + std::chrono::milliseconds(wait_ms)) {
      wait_ms = static_cast<int>(
          std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wake - now).count()));
    }
    // Sleeps until a socket is ready, libcurl's own timer fires, Submit wakes us, or `wake`.
    Poll(wait_ms);
  }
}

int Fetcher::Loop::OnSocket(CURL*, curl_socket_t socket, int what, void* loop_ptr, void* known) {
  auto* loop = static_cast<Loop*>(loop_ptr);
  if (what == CURL_POLL_REMOVE) {
    // The socket may already be closed; epoll forgets closed descriptors by itself.
    epoll_ctl(loop->epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    curl_multi_assign(loop->multi_.get(), socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  event.data.fd = socket;
  if (known == nullptr) {
    epoll_ctl(loop->epoll_fd_, EPOLL_CTL_ADD, socket, &event);
    // Any non-null marker: libcurl hands it back for this socket until it is removed.
    curl_multi_assign(loop->multi_.get(), socket, loop);
  } else {
    epoll_ctl(loop->epoll_fd_, EPOLL_CTL_MOD, socket, &event);
  }
  return 0;
}

int Fetcher::Loop::OnTimer(CURLM*, long timeout_ms, void* loop_ptr) {
  auto* loop = static_cast<Loop*>(loop_ptr);
  if (timeout_ms < 0) {
    loop->curl_timer_.reset();
  } else {
    loop->curl_timer_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void Fetcher::Loop::Poll(int wait_ms) {
  constexpr int kMaxEvents = 128;
  epoll_event events[kMaxEvents];
  const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
  int running = 0;
  for (int i = 0; i < ready; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t got = read(wake_fd_, &count, sizeof count);
      continue;
    }
    int flags = 0;
    if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi_.get(), fd, flags, &running);
  }
  if (curl_timer_ && *curl_timer_ <= Clock::now()) {
    curl_timer_.reset();
    curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
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
        robots->robots_for = origin;
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
        // A refused address is the host's own verdict, not a robots.txt problem: say only that.
        Fail(std::move(job), why.error,
             why.error == FetchError::kPrivateAddress
                 ? why.status.message()
                 : "robots.txt unreachable, host skipped: " + why.status.message(),
             why.http_status);
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
  transfer->truncate_at_limit = job->is_robots;
  transfer->address_guard.allow_private =
      HostIsListed(job->parts.host, settings_.allow_private_hosts);
  const std::string accept = "Accept: " + (request.accept.empty() ? "*/*" : request.accept);
  transfer->headers.reset(curl_slist_append(nullptr, accept.c_str()));

  curl_easy_setopt(easy, CURLOPT_URL, job->parts.normalized.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &fetch_detail::WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // gzip, br, zstd; limit counts decoded
  // Redirects are followed here, hop by hop (Completed), so every hop passes its host's limits,
  // rate and address check, and robots.txt for requests; robots.txt requests too (RFC 9309:
  // at least five hops), their answer going to the host that was asked.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // Every address of every hop is checked before connecting (address_policy.h).
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &OpenPublicSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &transfer->address_guard);
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
  if (!transfer->truncate_at_limit) {
    // A declared Content-Length beyond the limit fails before any byte; robots.txt instead
    // keeps what fits (WriteBody).
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(transfer->limit));
  }

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
