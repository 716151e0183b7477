// The loopback server serves real HTTP: checked here with libcurl as the client.
#include "tests/harness/loopback_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>

namespace memes::testing {
namespace {

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string content_type;
  double seconds = 0;
};

struct FetchOptions {
  long timeout_ms = 5000;
  bool follow = false;
  long max_redirects = 5;
  size_t abort_after = 0;  // 0: never
};

Fetched Fetch(const std::string& url, FetchOptions options = {}) {
  Fetched result;
  CURL* curl = curl_easy_init();
  struct Sink {
    std::string* body;
    size_t abort_after;
  } sink{&result.body, options.abort_after};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, options.follow ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, options.max_redirects);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "harness-test/1");
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* data, size_t size, size_t count, void* user) -> size_t {
                     auto* s = static_cast<Sink*>(user);
                     s->body->append(data, size * count);
                     if (s->abort_after && s->body->size() >= s->abort_after) return 0;
                     return size * count;
                   });
  const auto start = std::chrono::steady_clock::now();
  result.code = curl_easy_perform(curl);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type) result.content_type = type;
  curl_easy_cleanup(curl);
  return result;
}

TEST(LoopbackServer, ServesAFileWithItsContentType) {
  LoopbackServer server;
  const auto path = std::filesystem::path(::testing::TempDir()) / "harness_sticker.gif";
  std::ofstream(path, std::ios::binary) << "GIF89a-not-really";
  server.ServeFile("/img/a.gif", path);
  const Fetched got = Fetch(server.Url("/img/a.gif?x=1"));
  EXPECT_EQ(got.code, CURLE_OK);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "GIF89a-not-really");
  EXPECT_EQ(got.content_type, "image/gif");
  EXPECT_EQ(server.Hits("/img/a.gif"), 1);
  EXPECT_EQ(server.LastUserAgent(), "harness-test/1");
  EXPECT_EQ(Fetch(server.Url("/missing")).status, 404);
}

TEST(LoopbackServer, StatusCodesAndSequences) {
  LoopbackServer server;
  server.ServeStatus("/gone", 404, "no");
  server.ServeStatus("/busy", 429, "slow down", {{"Retry-After", "2"}});
  server.ServeSequence("/flaky", {{500, "oops", "text/plain", {}}, {200, "fine", "text/plain", {}}});
  EXPECT_EQ(Fetch(server.Url("/gone")).status, 404);
  EXPECT_EQ(Fetch(server.Url("/busy")).status, 429);
  EXPECT_EQ(Fetch(server.Url("/flaky")).status, 500);
  const Fetched second = Fetch(server.Url("/flaky"));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "fine");
  EXPECT_EQ(Fetch(server.Url("/flaky")).status, 200);  // the last response repeats
}

TEST(LoopbackServer, DelayAndLatency) {
  LoopbackServer server;
  server.ServeDelayed("/slow", std::chrono::milliseconds(300), "late");
  const Fetched slow = Fetch(server.Url("/slow"));
  EXPECT_EQ(slow.body, "late");
  EXPECT_GE(slow.seconds, 0.29);
  server.ServeBytes("/fast", "x");
  server.SetLatency(std::chrono::milliseconds(150));
  EXPECT_GE(Fetch(server.Url("/fast")).seconds, 0.14);
}

TEST(LoopbackServer, TruncatedBody) {
  LoopbackServer server;
  server.ServeTruncated("/cut", std::string(10000, 'a'), 1000);
  const Fetched got = Fetch(server.Url("/cut"));
  EXPECT_EQ(got.code, CURLE_PARTIAL_FILE) << curl_easy_strerror(got.code);
  EXPECT_EQ(got.body.size(), 1000u);
}

TEST(LoopbackServer, StallMidBody) {
  LoopbackServer server;
  server.ServeStall("/stall", std::string(5000, 'b'), 100, std::chrono::seconds(5));
  const Fetched got = Fetch(server.Url("/stall"), {.timeout_ms = 300});
  EXPECT_EQ(got.code, CURLE_OPERATION_TIMEDOUT) << curl_easy_strerror(got.code);
  EXPECT_EQ(got.body.size(), 100u);
  EXPECT_LT(got.seconds, 2.0);
}

TEST(LoopbackServer, RedirectsAndLoops) {
  LoopbackServer server;
  server.ServeBytes("/final", "here");
  server.ServeRedirect("/hop", "/final");
  server.ServeRedirect("/loop-a", "/loop-b");
  server.ServeRedirect("/loop-b", "/loop-a");
  const Fetched hop = Fetch(server.Url("/hop"), {.follow = true});
  EXPECT_EQ(hop.body, "here");
  const Fetched loop = Fetch(server.Url("/loop-a"), {.follow = true, .max_redirects = 5});
  EXPECT_EQ(loop.code, CURLE_TOO_MANY_REDIRECTS);
}

TEST(LoopbackServer, LargeBodyIsStreamedNotHeld) {
  LoopbackServer server;
  server.ServeLargeBody("/huge.png", uint64_t{1} << 30);
  const Fetched got = Fetch(server.Url("/huge.png"), {.abort_after = 1 << 20});
  EXPECT_EQ(got.code, CURLE_WRITE_ERROR);
  EXPECT_GE(got.body.size(), 1u << 20);
  EXPECT_LT(got.body.size(), 2u << 20);
}

TEST(LoopbackServer, ConnectionReset) {
  LoopbackServer server;
  const Fetched got = Fetch(server.ResetUrl("/anything"));
  EXPECT_TRUE(got.code == CURLE_RECV_ERROR || got.code == CURLE_GOT_NOTHING)
      << curl_easy_strerror(got.code);
  EXPECT_TRUE(got.body.empty());
}

}  // namespace
}  // namespace memes::testing
