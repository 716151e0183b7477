#include "ingest/politeness.h"

#include <gtest/gtest.h>

namespace memes::ingest {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, StartsFullThenRefillsAtTheRate) {
  const auto t0 = SteadyClock::time_point{} + std::chrono::hours(1);
  TokenBucket bucket(10.0, 3, t0);
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0));
  const auto next = bucket.NextTokenAt(t0);
  EXPECT_GE(next - t0, milliseconds(99));
  EXPECT_LE(next - t0, milliseconds(101));
  EXPECT_FALSE(bucket.TryTake(t0 + milliseconds(50)));
  EXPECT_TRUE(bucket.TryTake(t0 + milliseconds(101)));
  // A long pause refills only up to the burst.
  const auto later = t0 + std::chrono::seconds(100);
  int taken = 0;
  while (bucket.TryTake(later)) ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(Backoff, GrowsExponentiallyWithJitterAndIsCapped) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 100; ++trial) {
    const auto first = BackoffDelay(1, 100, 10'000, rng);
    EXPECT_GE(first, milliseconds(50));
    EXPECT_LT(first, milliseconds(100));
    const auto third = BackoffDelay(3, 100, 10'000, rng);
    EXPECT_GE(third, milliseconds(200));
    EXPECT_LT(third, milliseconds(400));
    const auto capped = BackoffDelay(30, 100, 10'000, rng);
    EXPECT_GE(capped, milliseconds(5000));
    EXPECT_LE(capped, milliseconds(10'000));
  }
}

}  // namespace
}  // namespace memes::ingest
