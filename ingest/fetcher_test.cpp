// The fetcher against the real loopback server: every fault a crawl meets, each ending in a
// per-request result that names the URL and the kind of error.
#include "ingest/fetcher.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <ctime>

#include "tests/harness/loopback_server.h"

namespace memes::ingest {
namespace {

using memes::testing::CannedResponse;
using memes::testing::LoopbackServer;
using std::chrono::milliseconds;

// Small timeouts and backoffs so faults resolve in well under a second each.
FetchSettings TestSettings() {
  FetchSettings settings;
  settings.user_agent = "memes-test/1.0 (+https://example.invalid/bot)";
  settings.per_host_rate = 1000;
  settings.per_host_burst = 100;
  settings.retries = 2;
  settings.connect_timeout_ms = 2000;
  settings.total_timeout_ms = 5000;
  settings.low_speed_bytes_per_s = 1000;
  settings.low_speed_time_s = 1;
  settings.max_body_bytes = 1 << 20;
  settings.max_redirects = 3;
  settings.backoff_base_ms = 20;
  settings.backoff_max_ms = 3000;
  settings.allow_private_hosts = {"127.0.0.1", "localhost"};  // the loopback server
  return settings;
}

TEST(Fetcher, FetchesBodyTypeStatusAndUserAgent) {
  LoopbackServer server;
  server.ServeBytes("/a.png", "PNGDATA", "image/png");
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/a.png")});
  ASSERT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_EQ(result.body, "PNGDATA");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.content_type, "image/png");
  EXPECT_EQ(result.final_url, server.Url("/a.png"));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(result.error, FetchError::kNone);
  EXPECT_EQ(ErrorLabel(result), "ok");
  EXPECT_EQ(server.LastUserAgent(), "memes-test/1.0 (+https://example.invalid/bot)");
}

TEST(Fetcher, NotFoundIsNotRetried) {
  LoopbackServer server;
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/missing.png")});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, FetchError::kHttpStatus);
  EXPECT_EQ(result.http_status, 404);
  EXPECT_EQ(ErrorLabel(result), "http-404");
  EXPECT_EQ(result.status.code(), StatusCode::kHttp);
  EXPECT_EQ(result.status.where(), server.Url("/missing.png"));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(server.Hits("/missing.png"), 1);
  EXPECT_TRUE(result.body.empty());
}

TEST(Fetcher, ServerErrorThenSuccessIsRetried) {
  LoopbackServer server;
  server.ServeSequence("/flaky.gif", {CannedResponse{500, "oops", "text/plain", {}},
                                      CannedResponse{200, "GIF89a", "image/gif", {}}});
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/flaky.gif")});
  ASSERT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_EQ(result.body, "GIF89a");
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(server.Hits("/flaky.gif"), 2);
  EXPECT_EQ(fetcher.counters().retries, 1u);
}

TEST(Fetcher, PersistentServerErrorStopsAfterTheRetryBudget) {
  LoopbackServer server;
  server.ServeStatus("/down.png", 502, "bad gateway");
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/down.png")});
  EXPECT_EQ(ErrorLabel(result), "http-502");
  EXPECT_EQ(result.attempts, 3);  // 1 + retries
  EXPECT_EQ(server.Hits("/down.png"), 3);
  EXPECT_NE(result.status.message().find("after 3 attempts"), std::string::npos)
      << result.status.ToString();
}

TEST(Fetcher, TooManyRequestsHonoursRetryAfterSeconds) {
  LoopbackServer server;
  server.ServeSequence("/busy.png",
                       {CannedResponse{429, "slow down", "text/plain", {{"Retry-After", "1"}}},
                        CannedResponse{200, "OK", "image/png", {}}});
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/busy.png")});
  ASSERT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_EQ(result.attempts, 2);
  EXPECT_GE(result.elapsed, milliseconds(950));  // waited what the server asked, not 20 ms
}

TEST(Fetcher, TooManyRequestsHonoursRetryAfterAsAnHttpDate) {
  LoopbackServer server;
  std::atomic<int> calls{0};
  server.Handle("/dated.png", [&calls](const httplib::Request&, httplib::Response& response) {
    if (calls++ > 0) {
      response.set_content("OK", "image/png");
      return;
    }
    // Two seconds ahead; HTTP dates have whole seconds, so the wait is between 1 and 2 s.
    const std::time_t when = std::time(nullptr) + 2;
    std::tm utc{};
    gmtime_r(&when, &utc);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    response.status = 503;
    response.set_header("Retry-After", date);
  });
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/dated.png")});
  ASSERT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_EQ(result.attempts, 2);
  EXPECT_GE(result.elapsed, milliseconds(900));
}

TEST(Fetcher, RetryAfterBeyondTheCapFailsInsteadOfHammering) {
  LoopbackServer server;
  server.ServeStatus("/later.png", 503, "maintenance", {{"Retry-After", "3600"}});
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/later.png")});
  EXPECT_EQ(ErrorLabel(result), "http-503");
  EXPECT_EQ(server.Hits("/later.png"), 1);
  EXPECT_NE(result.status.message().find("Retry-After 3600"), std::string::npos);
}

TEST(Fetcher, StallMidBodyHitsTheLowSpeedCutOff) {
  LoopbackServer server;
  server.ServeStall("/stall.png", std::string(100'000, 's'), 1000, milliseconds(20'000));
  FetchSettings settings = TestSettings();
  settings.retries = 0;
  settings.total_timeout_ms = 30'000;  // so the low-speed cut-off, not the total, ends it
  Fetcher fetcher(settings);
  const FetchResult result = fetcher.Fetch({server.Url("/stall.png")});
  EXPECT_EQ(result.error, FetchError::kTimeout) << result.status.ToString();
  EXPECT_EQ(result.status.code(), StatusCode::kNetwork);
  EXPECT_LT(result.elapsed, milliseconds(15'000));  // cut long before the 20 s stall ends
}

TEST(Fetcher, TotalTimeoutEndsASlowServer) {
  LoopbackServer server;
  server.ServeDelayed("/slow.png", milliseconds(5000), "late");
  FetchSettings settings = TestSettings();
  settings.retries = 1;
  settings.total_timeout_ms = 300;
  Fetcher fetcher(settings);
  const FetchResult result = fetcher.Fetch({server.Url("/slow.png")});
  EXPECT_EQ(result.error, FetchError::kTimeout) << result.status.ToString();
  EXPECT_EQ(result.attempts, 2);  // timeouts are retried
}

TEST(Fetcher, ConnectionResetIsRetriedThenReported) {
  LoopbackServer server;
  FetchSettings settings = TestSettings();
  settings.obey_robots = false;
  Fetcher fetcher(settings);
  const FetchResult result = fetcher.Fetch({server.ResetUrl("/reset.png")});
  EXPECT_EQ(result.error, FetchError::kReset) << result.status.ToString();
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.status.where(), server.ResetUrl("/reset.png"));
}

TEST(Fetcher, UnreachableRobotsTxtFailsTheHostsRequestsWithItsError) {
  LoopbackServer server;
  Fetcher fetcher(TestSettings());  // obeys robots: robots.txt itself is reset
  const FetchResult result = fetcher.Fetch({server.ResetUrl("/reset.png")});
  EXPECT_EQ(result.error, FetchError::kReset) << result.status.ToString();
  EXPECT_NE(result.status.message().find("robots.txt unreachable"), std::string::npos);
}

TEST(Fetcher, TruncatedBodyIsAnError) {
  LoopbackServer server;
  server.ServeTruncated("/short.png", std::string(10'000, 't'), 4000);
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/short.png")});
  EXPECT_EQ(result.error, FetchError::kTruncated) << result.status.ToString();
  EXPECT_TRUE(result.body.empty());
  EXPECT_EQ(result.attempts, 3);
}

TEST(Fetcher, RedirectsAreFollowedAndLoopsCut) {
  LoopbackServer server;
  server.ServeBytes("/final.png", "PNG", "image/png");
  server.ServeRedirect("/moved.png", "/final.png", 301);
  server.ServeRedirect("/loop-a", "/loop-b");
  server.ServeRedirect("/loop-b", "/loop-a");
  Fetcher fetcher(TestSettings());
  const FetchResult moved = fetcher.Fetch({server.Url("/moved.png")});
  ASSERT_TRUE(moved.ok()) << moved.status.ToString();
  EXPECT_EQ(moved.final_url, server.Url("/final.png"));
  EXPECT_EQ(moved.body, "PNG");
  EXPECT_EQ(moved.attempts, 2);
  const FetchResult loop = fetcher.Fetch({server.Url("/loop-a")});
  EXPECT_EQ(loop.error, FetchError::kRedirectLoop) << loop.status.ToString();
  EXPECT_EQ(loop.attempts, 4);  // the request and 3 hops; a redirect is no retry
  EXPECT_LE(server.Hits("/loop-a") + server.Hits("/loop-b"), 4);  // 1 + max_redirects
}

TEST(Fetcher, RedirectToAnotherSchemeIsRefused) {
  LoopbackServer server;
  server.ServeRedirect("/to-file", "file:///etc/passwd");
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/to-file")});
  EXPECT_EQ(result.error, FetchError::kBadUrl) << result.status.ToString();
}

TEST(Fetcher, GigabyteBodyIsCutAtMaxBodyBytes) {
  LoopbackServer server;
  server.ServeLargeBody("/huge.png", uint64_t{1} << 30);
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/huge.png")});
  EXPECT_EQ(result.error, FetchError::kTooLarge) << result.status.ToString();
  EXPECT_EQ(result.status.code(), StatusCode::kLimitExceeded);
  EXPECT_TRUE(result.body.empty());
  EXPECT_EQ(result.attempts, 1);
}

TEST(Fetcher, UndeclaredLengthIsCutWhileDownloading) {
  LoopbackServer server;
  // Chunked: no Content-Length, so only the write callback can stop it.
  server.Handle("/chunked.png", [](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider(
        "image/png", [sent = size_t{0}](size_t, httplib::DataSink& sink) mutable {
          static const std::string kChunk(64 * 1024, 'c');
          if (sent >= (size_t{1} << 30)) return false;
          sent += kChunk.size();
          return sink.write(kChunk.data(), kChunk.size());
        });
  });
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/chunked.png")});
  EXPECT_EQ(result.error, FetchError::kTooLarge) << result.status.ToString();
  // A per-request limit overrides the setting.
  server.ServeBytes("/small.png", std::string(5000, 'x'), "image/png");
  FetchRequest request{server.Url("/small.png")};
  request.max_body_bytes = 4999;
  EXPECT_EQ(fetcher.Fetch(request).error, FetchError::kTooLarge);
}

TEST(Fetcher, HtmlServedAsPngIsDeliveredAsIs) {
  LoopbackServer server;
  server.ServeBytes("/fake.png", "<html><body>not an image</body></html>", "image/png");
  Fetcher fetcher(TestSettings());
  const FetchResult result = fetcher.Fetch({server.Url("/fake.png")});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.content_type, "image/png");  // sniffing the bytes is transform's job
  EXPECT_EQ(result.body.rfind("<html>", 0), 0u);
}

TEST(Fetcher, BadUrlsFailWithoutANetworkRequest) {
  Fetcher fetcher(TestSettings());
  for (const char* url : {"not a url", "ftp://127.0.0.1/x.png", "file:///etc/passwd", ""}) {
    const FetchResult result = fetcher.Fetch({url});
    EXPECT_EQ(result.error, FetchError::kBadUrl) << url;
    EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(result.attempts, 0) << url;
  }
}

TEST(Fetcher, DestroyingTheFetcherCancelsWhatIsPending) {
  LoopbackServer server;
  server.ServeDelayed("/slow.png", milliseconds(3000), "late");
  std::atomic<int> cancelled{0};
  {
    FetchSettings settings = TestSettings();
    settings.max_transfers = 1;
    Fetcher fetcher(settings);
    for (int i = 0; i < 5; ++i) {
      fetcher.Submit({server.Url("/slow.png")}, [&](FetchResult result) {
        if (result.error == FetchError::kCancelled) ++cancelled;
      });
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(cancelled.load(), 5);
}

}  // namespace
}  // namespace memes::ingest
