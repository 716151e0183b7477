// The fetcher's I/O loop, second half: what happens when a transfer finishes.
#include <algorithm>

#include "core/log.h"
#include "ingest/curl_errors.h"
#include "ingest/fetch_loop.h"

namespace memes::ingest {

using fetch_detail::CodeFor;
using fetch_detail::PushFront;

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
  if (error != FetchError::kNone && !transfer->address_guard.refused.empty()) {
    error = FetchError::kPrivateAddress;
    message = "refused to connect to " + job->parts.host + ": " + transfer->address_guard.refused +
              ", not a public address (list the host in [politeness] allow_private_hosts to "
              "allow it)";
  }
  // A robots.txt beyond max_robots_bytes keeps its first part (RFC 9309: parse at least 500
  // KiB); any other body only when complete.
  if (error == FetchError::kNone || (job->is_robots && error == FetchError::kTooLarge)) {
    result.body = std::move(transfer->body);
  }
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

  if (!redirect_to.empty()) {
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
    RobotsDone(hosts_.at(job->robots_for), result);
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
    if (error != FetchError::kCancelled) RobotsDone(hosts_.at(job->robots_for), result);
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

}  // namespace memes::ingest
