// Politeness observed from the server's side: robots.txt, concurrency caps, the per-host rate.
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>

#include "ingest/fetcher.h"
#include "tests/harness/loopback_server.h"

namespace memes::ingest {
namespace {

using memes::testing::LoopbackServer;
using std::chrono::milliseconds;

FetchSettings PoliteSettings() {
  FetchSettings settings;
  settings.user_agent = "memes/0.1 (test)";
  settings.per_host_rate = 1000;
  settings.per_host_burst = 100;
  settings.retries = 1;
  settings.connect_timeout_ms = 2000;
  settings.total_timeout_ms = 5000;
  settings.backoff_base_ms = 20;
  settings.allow_private_hosts = {"127.0.0.1", "localhost"};  // the loopback server
  return settings;
}

std::vector<FetchRequest> Requests(const LoopbackServer& server, const std::string& prefix,
                                   int count) {
  std::vector<FetchRequest> requests;
  for (int i = 0; i < count; ++i) {
    requests.push_back({server.Url(prefix + std::to_string(i) + ".png")});
  }
  return requests;
}

TEST(FetcherRobots, ForbiddenPathsAreRefusedAndRobotsIsFetchedOnce) {
  LoopbackServer server;
  server.ServeBytes("/robots.txt",
                    "User-agent: *\nDisallow: /private/\n\nUser-agent: otherbot\nDisallow: /\n",
                    "text/plain");
  server.ServeBytes("/private/a.png", "secret", "image/png");
  for (int i = 0; i < 10; ++i) server.ServeBytes("/public/" + std::to_string(i) + ".png", "ok");
  Fetcher fetcher(PoliteSettings());
  std::vector<FetchRequest> requests = Requests(server, "/public/", 10);
  requests.push_back({server.Url("/private/a.png")});
  const std::vector<FetchResult> results = fetcher.FetchAll(requests);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(results[i].ok()) << results[i].status.ToString();
  const FetchResult& forbidden = results.back();
  EXPECT_EQ(forbidden.error, FetchError::kRobotsForbidden);
  EXPECT_EQ(ErrorLabel(forbidden), "robots-forbidden");
  EXPECT_EQ(forbidden.status.where(), server.Url("/private/a.png"));
  EXPECT_EQ(forbidden.attempts, 0);
  EXPECT_EQ(server.Hits("/private/a.png"), 0);
  EXPECT_EQ(server.Hits("/robots.txt"), 1);
  EXPECT_EQ(fetcher.counters().robots_fetches, 1u);
}

TEST(FetcherRobots, RedirectsArePoliteHopByHop) {
  LoopbackServer server;
  server.ServeBytes("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain");
  server.ServeBytes("/private/x.png", "secret", "image/png");
  server.ServeRedirect("/public/go.png", "/private/x.png");
  // Another origin (same server): its robots.txt is fetched for the hop that lands there.
  const std::string other = "http://localhost:" + std::to_string(server.port());
  server.ServeRedirect("/public/away.png", other + "/public/ok.png");
  server.ServeBytes("/public/ok.png", "fine", "image/png");
  Fetcher fetcher(PoliteSettings());
  const FetchResult forbidden = fetcher.Fetch({server.Url("/public/go.png")});
  EXPECT_EQ(forbidden.error, FetchError::kRobotsForbidden) << forbidden.status.ToString();
  EXPECT_EQ(server.Hits("/private/x.png"), 0);
  const FetchResult away = fetcher.Fetch({server.Url("/public/away.png")});
  ASSERT_TRUE(away.ok()) << away.status.ToString();
  EXPECT_EQ(away.final_url, other + "/public/ok.png");
  EXPECT_EQ(fetcher.counters().robots_fetches, 2u);  // 127.0.0.1 and localhost
}

TEST(FetcherRobots, MissingRobotsAllowsEverything) {
  LoopbackServer server;  // /robots.txt answers 404
  server.ServeBytes("/private/a.png", "fine");
  Fetcher fetcher(PoliteSettings());
  EXPECT_TRUE(fetcher.Fetch({server.Url("/private/a.png")}).ok());
  EXPECT_TRUE(fetcher.Fetch({server.Url("/private/a.png")}).ok());
  EXPECT_EQ(server.Hits("/robots.txt"), 1);
}

TEST(FetcherRobots, ObeyRobotsFalseSkipsIt) {
  LoopbackServer server;
  server.ServeBytes("/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain");
  server.ServeBytes("/a.png", "fine");
  FetchSettings settings = PoliteSettings();
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  EXPECT_TRUE(fetcher.Fetch({server.Url("/a.png")}).ok());
  EXPECT_EQ(server.Hits("/robots.txt"), 0);
}

TEST(FetcherRobots, RobotsForOurAgentAndOverServerErrors) {
  LoopbackServer server;
  server.ServeSequence("/robots.txt",
                       {{500, "", "text/plain", {}},
                        {200, "User-agent: memes\nDisallow: /no/\n", "text/plain", {}}});
  server.ServeBytes("/no/a.png", "x");
  server.ServeBytes("/yes/a.png", "x");
  Fetcher fetcher(PoliteSettings());
  const auto results = fetcher.FetchAll({{server.Url("/no/a.png")}, {server.Url("/yes/a.png")}});
  EXPECT_EQ(results[0].error, FetchError::kRobotsForbidden) << results[0].status.ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].status.ToString();
  EXPECT_EQ(server.Hits("/robots.txt"), 2);  // the 500 was retried
}

TEST(FetcherLimits, PerHostConcurrencyIsCapped) {
  LoopbackServer server;
  for (int i = 0; i < 12; ++i) {
    server.ServeDelayed("/slow/" + std::to_string(i) + ".png", milliseconds(150), "x");
  }
  FetchSettings settings = PoliteSettings();
  settings.per_host_transfers = 3;
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  const auto results = fetcher.FetchAll(Requests(server, "/slow/", 12));
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_LE(server.PeakConcurrency(), 3);
  EXPECT_GE(server.PeakConcurrency(), 2);  // and it does run transfers side by side
}

TEST(FetcherLimits, GlobalConcurrencyIsCappedAcrossHosts) {
  LoopbackServer server;
  for (int i = 0; i < 8; ++i) {
    server.ServeDelayed("/slow/" + std::to_string(i) + ".png", milliseconds(150), "x");
  }
  FetchSettings settings = PoliteSettings();
  settings.max_transfers = 4;
  settings.per_host_transfers = 4;
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  // Two origins, one server: "127.0.0.1" and "localhost" are different hosts to the fetcher.
  std::vector<FetchRequest> requests;
  for (int i = 0; i < 8; ++i) {
    const std::string path = "/slow/" + std::to_string(i) + ".png";
    requests.push_back({server.Url(path)});
    requests.push_back({"http://localhost:" + std::to_string(server.port()) + path});
  }
  const auto results = fetcher.FetchAll(requests);
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_LE(server.PeakConcurrency(), 4);
  EXPECT_GE(server.PeakConcurrency(), 3);
}

TEST(FetcherLimits, PerHostRateIsATokenBucket) {
  LoopbackServer server;
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> hits;
  for (int i = 0; i < 10; ++i) {
    server.Handle("/r/" + std::to_string(i) + ".png",
                  [&](const httplib::Request&, httplib::Response& response) {
                    {
                      std::lock_guard lock(mutex);
                      hits.push_back(std::chrono::steady_clock::now());
                    }
                    response.set_content("x", "image/png");
                  });
  }
  FetchSettings settings = PoliteSettings();
  settings.per_host_rate = 20;  // one request every 50 ms after the burst
  settings.per_host_burst = 2;
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  const auto start = std::chrono::steady_clock::now();
  const auto results = fetcher.FetchAll(Requests(server, "/r/", 10));
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.status.ToString();
  std::lock_guard lock(mutex);
  ASSERT_EQ(hits.size(), 10u);
  std::sort(hits.begin(), hits.end());
  // 2 at once, then 8 more at 20/s: the 10th cannot reach the server before 8 × 50 ms.
  // Measured from the start, since delays (a slow first connection) only push hits later; an
  // upper bound per window would measure the scheduler's jitter as much as the bucket, and
  // TokenBucket's own test checks that exactly.
  EXPECT_GE(hits.back() - start, milliseconds(395));
  EXPECT_GE(hits[5] - start, milliseconds(195));  // the 6th: 4 tokens after the burst
}

TEST(FetcherLimits, TooManyRequestsSlowsTheWholeHost) {
  LoopbackServer server;
  server.ServeSequence(
      "/busy.png", {{429, "", "text/plain", {{"Retry-After", "1"}}}, {200, "ok", "image/png", {}}});
  std::mutex mutex;
  std::chrono::steady_clock::time_point other_hit{};
  server.Handle("/other.png", [&](const httplib::Request&, httplib::Response& response) {
    std::lock_guard lock(mutex);
    other_hit = std::chrono::steady_clock::now();
    response.set_content("ok", "image/png");
  });
  FetchSettings settings = PoliteSettings();
  settings.obey_robots = false;
  settings.per_host_transfers = 1;
  Fetcher fetcher(settings);
  const auto start = std::chrono::steady_clock::now();
  FetchResult busy;
  fetcher.Submit({server.Url("/busy.png")}, [&](FetchResult r) { busy = std::move(r); });
  // Queued behind the 429: it must wait out the host's Retry-After too.
  fetcher.Submit({server.Url("/other.png")}, [](FetchResult) {});
  fetcher.WaitIdle();
  EXPECT_TRUE(busy.ok()) << busy.status.ToString();
  std::lock_guard lock(mutex);
  EXPECT_GE(other_hit - start, milliseconds(950));
}

TEST(FetcherLimits, ManyRequestsCallbacksAndCounters) {
  LoopbackServer server;
  for (int i = 0; i < 200; ++i) server.ServeBytes("/m/" + std::to_string(i) + ".png", "abcd");
  FetchSettings settings = PoliteSettings();
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  std::atomic<int> ok{0};
  for (const auto& request : Requests(server, "/m/", 200)) {
    fetcher.Submit(request, [&](FetchResult result) { ok += result.ok() ? 1 : 0; });
  }
  fetcher.WaitIdle();
  EXPECT_EQ(ok.load(), 200);
  const FetchCounters counters = fetcher.counters();
  EXPECT_EQ(counters.submitted, 200u);
  EXPECT_EQ(counters.succeeded, 200u);
  EXPECT_EQ(counters.bytes, 800u);
  EXPECT_EQ(counters.in_flight, 0);
  EXPECT_EQ(counters.queued, 0);
}

}  // namespace
}  // namespace memes::ingest
