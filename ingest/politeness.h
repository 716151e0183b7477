// Politeness arithmetic of the fetcher: a per-host token bucket and the retry backoff delay.
// Thread-safety: TokenBucket is a plain value owned by one thread (the fetcher's I/O thread);
// BackoffDelay is a pure function of its arguments and the random generator passed in.
#pragma once

#include <chrono>
#include <random>

namespace memes::ingest {

using SteadyClock = std::chrono::steady_clock;

// `rate` tokens a second, at most `burst` stored; a request takes one.
// Invariant: 0 <= tokens_ <= burst_.
class TokenBucket {
 public:
  // Requires: rate > 0, burst >= 1. Starts full.
  TokenBucket(double rate, int burst, SteadyClock::time_point now);

  // Takes a token if one is available at `now`.
  bool TryTake(SteadyClock::time_point now);
  // When the next token will be available (now when one is).
  SteadyClock::time_point NextTokenAt(SteadyClock::time_point now);

 private:
  void Refill(SteadyClock::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  SteadyClock::time_point last_;
};

// Exponential backoff with "equal jitter": before retry number `retry` (1-based) wait
// d/2 + uniform[0, d/2) where d = min(max_ms, base_ms * 2^(retry-1)).
std::chrono::milliseconds BackoffDelay(int retry, int base_ms, int max_ms, std::mt19937_64& rng);

}  // namespace memes::ingest
