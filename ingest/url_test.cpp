#include "ingest/url.h"

#include <gtest/gtest.h>

namespace memes::ingest {
namespace {

TEST(Url, ParseNormalizesHostPortAndFragment) {
  auto parts = ParseHttpUrl("HTTP://Example.COM:80/a/./b/../c.png?x=1#top");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->normalized, "http://example.com/a/c.png?x=1");
  EXPECT_EQ(parts->origin, "http://example.com");
  EXPECT_EQ(parts->path_query, "/a/c.png?x=1");
  auto with_port = ParseHttpUrl("https://127.0.0.1:8443");
  ASSERT_TRUE(with_port.ok());
  EXPECT_EQ(with_port->origin, "https://127.0.0.1:8443");
  EXPECT_EQ(with_port->path_query, "/");
}

TEST(Url, ParseRefusesOtherSchemesAndGarbage) {
  for (const char* url : {"ftp://example.com/x.png", "file:///etc/passwd", "data:image/png,AA",
                          "/relative/path.png", "", "http://"}) {
    auto parts = ParseHttpUrl(url);
    EXPECT_FALSE(parts.ok()) << url;
    if (!parts.ok()) {
      EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument) << url;
    }
  }
}

TEST(Url, ResolvesRelativeReferences) {
  const std::string base = "http://example.com/search/page.html?q=1#frag";
  EXPECT_EQ(*ResolveUrl(base, "../img/x.png"), "http://example.com/img/x.png");
  EXPECT_EQ(*ResolveUrl(base, "y.gif"), "http://example.com/search/y.gif");
  EXPECT_EQ(*ResolveUrl(base, "/abs.jpg"), "http://example.com/abs.jpg");
  EXPECT_EQ(*ResolveUrl(base, "//CDN.example.com/z.webp"), "http://cdn.example.com/z.webp");
  EXPECT_EQ(*ResolveUrl(base, "https://other.org/a.png#x"), "https://other.org/a.png");
  EXPECT_EQ(*ResolveUrl(base, "  /with space.png \n"), "http://example.com/with%20space.png");
  EXPECT_EQ(*ResolveUrl(base, "?page=2"), "http://example.com/search/page.html?page=2");
}

TEST(Url, ResolveEncodesNonAsciiPaths) {
  auto url = ResolveUrl("http://example.com/", "/表情/熊.gif");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->find("表"), std::string::npos) << *url;
  EXPECT_NE(url->find("%"), std::string::npos) << *url;
}

TEST(Url, ResolveSkipsNonHttpReferences) {
  const std::string base = "http://example.com/";
  for (const char* reference : {"javascript:void(0)", "data:image/png;base64,AAAA",
                                "mailto:someone@example.com", "ftp://example.com/a.png", ""}) {
    EXPECT_FALSE(ResolveUrl(base, reference).ok()) << reference;
  }
}

TEST(Url, PercentEncodesUtf8Keywords) {
  EXPECT_EQ(PercentEncode("蘑菇头"), "%E8%98%91%E8%8F%87%E5%A4%B4");
  EXPECT_EQ(PercentEncode("shiba meme"), "shiba%20meme");
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode("a&b=c/d?"), "a%26b%3Dc%2Fd%3F");
}

TEST(Url, ExpandsSearchTemplates) {
  auto url =
      ExpandSearchUrl("http://s.example/find?q={keyword}&p={page}&o={offset}", "熊本熊", 3, 20);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, "http://s.example/find?q=%E7%86%8A%E6%9C%AC%E7%86%8A&p=3&o=40");
  EXPECT_EQ(*ExpandSearchUrl("http://s.example/{keyword}/{page}", "a b", 1, 10),
            "http://s.example/a%20b/1");
}

TEST(Url, TemplateMistakesAreReported) {
  auto unknown = ExpandSearchUrl("http://s.example/?q={kw}", "x", 1, 10);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("{kw}"), std::string::npos);
  EXPECT_FALSE(CheckSearchTemplate("http://s.example/?q={keyword").ok());
  EXPECT_FALSE(CheckSearchTemplate("ftp://s.example/{keyword}").ok());
  EXPECT_TRUE(CheckSearchTemplate("https://s.example/?q={keyword}&page={page}").ok());
}

}  // namespace
}  // namespace memes::ingest
