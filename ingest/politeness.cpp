#include "ingest/politeness.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace memes::ingest {

TokenBucket::TokenBucket(double rate, int burst, SteadyClock::time_point now)
    : rate_(rate), burst_(std::max(1, burst)), tokens_(burst_), last_(now) {
  assert(rate > 0);
}

void TokenBucket::Refill(SteadyClock::time_point now) {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * rate_);
  last_ = now;
}

bool TokenBucket::TryTake(SteadyClock::time_point now) {
  Refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

SteadyClock::time_point TokenBucket::NextTokenAt(SteadyClock::time_point now) {
  Refill(now);
  if (tokens_ >= 1.0) return now;
  const double wait_s = (1.0 - tokens_) / rate_;
  return now +
         std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(wait_s)) +
         std::chrono::microseconds(1);
}

std::chrono::milliseconds BackoffDelay(int retry, int base_ms, int max_ms, std::mt19937_64& rng) {
  const int shift = std::clamp(retry - 1, 0, 30);
  const double full = std::min<double>(max_ms, std::ldexp(static_cast<double>(base_ms), shift));
  std::uniform_real_distribution<double> jitter(0.0, full / 2);
  return std::chrono::milliseconds(static_cast<int64_t>(full / 2 + jitter(rng)));
}

}  // namespace memes::ingest
