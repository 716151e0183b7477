#include "ingest/extract.h"

#include <gtest/gtest.h>

namespace memes::ingest {
namespace {

using Urls = std::vector<std::string>;

Urls ExtractOrDie(std::string_view rule, std::string_view body, std::string_view page) {
  auto extractor = UrlExtractor::Create(rule);
  EXPECT_TRUE(extractor.ok()) << extractor.status().ToString();
  if (!extractor.ok()) return {};
  auto urls = extractor->Extract(body, page);
  EXPECT_TRUE(urls.ok()) << urls.status().ToString();
  return urls.ok() ? *urls : Urls{};
}

TEST(ExtractHtml, ImagesSrcsetDataSrcAndImageLinksResolvedAgainstThePage) {
  const char* html = R"html(<html><body>
    <img src="a.png"><img data-src="/lazy/b.gif" src="placeholder.svg">
    <picture><source srcset="c-1x.webp 1x, c-2x.webp 2x"><img src="../c.jpg"></picture>
    <img srcset="d.png 50w, e.png 100w">
    <a href="big/f.JPEG?size=l">full</a> <a href="next.html">next page</a>
    <a href="javascript:alert(1)">x</a><img src="data:image/png;base64,AAAA">
    <img src="a.png#again"><img src="//cdn.example.org/g.gif">
  </body></html>)html";
  const Urls urls = ExtractOrDie("html", html, "http://example.com/s/page.html?q=%E7%86%8A");
  const Urls expected = {"http://example.com/s/a.png",
                         "http://example.com/s/placeholder.svg",
                         "http://example.com/lazy/b.gif",
                         "http://example.com/s/c-1x.webp",
                         "http://example.com/s/c-2x.webp",
                         "http://example.com/c.jpg",
                         "http://example.com/s/d.png",
                         "http://example.com/s/e.png",
                         "http://example.com/s/big/f.JPEG?size=l",
                         "http://cdn.example.org/g.gif"};
  EXPECT_EQ(urls, expected);
}

TEST(ExtractHtml, HonoursBaseHref) {
  const Urls urls = ExtractOrDie(
      "html", R"(<head><base href="http://static.example.net/img/"></head><img src="x.gif">)",
      "http://example.com/page");
  EXPECT_EQ(urls, Urls{"http://static.example.net/img/x.gif"});
}

TEST(ExtractHtml, MalformedAndHostileHtmlDoesNotCrash) {
  EXPECT_TRUE(ExtractOrDie("html", "", "http://e.com/").empty());
  EXPECT_EQ(ExtractOrDie("html", "<img src='x.png' <<<>>> <a href=\"y.gif", "http://e.com/"),
            Urls{"http://e.com/x.png"});
  std::string deep;
  for (int i = 0; i < 3000; ++i) deep += "<div><span>";
  deep += "<img src=deep.png>";
  EXPECT_EQ(ExtractOrDie("html", deep, "http://e.com/"), Urls{"http://e.com/deep.png"});
  std::string binary;
  for (int i = 0; i < 100000; ++i) binary += static_cast<char>((i * 7919) % 256);
  auto extractor = UrlExtractor::Create("html");
  ASSERT_TRUE(extractor.ok());
  EXPECT_TRUE(extractor->Extract(binary, "http://e.com/").ok());
}

TEST(ExtractJson, EveryStringUnderTheKeyAnywhere) {
  const char* json = R"({"data": {"items": [
      {"img": "http://e.com/1.png", "title": "one"},
      {"img": ["/2.gif", {"big": "3.webp", "n": 5}], "other": {"img": "4.jpg"}}],
    "img": null, "next": "http://e.com/page2"}})";
  EXPECT_EQ(ExtractOrDie("json:img", json, "http://e.com/api/search"),
            (Urls{"http://e.com/1.png", "http://e.com/2.gif", "http://e.com/api/3.webp",
                  "http://e.com/api/4.jpg"}));
}

TEST(ExtractJson, NotJsonIsAnErrorNamingThePage) {
  auto extractor = UrlExtractor::Create("json:url");
  ASSERT_TRUE(extractor.ok());
  auto urls = extractor->Extract("<html>not json", "http://e.com/api?q=1");
  ASSERT_FALSE(urls.ok());
  EXPECT_EQ(urls.status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(urls.status().where(), "http://e.com/api?q=1");
  EXPECT_FALSE(extractor->Extract("{\"url\": \"a.png\"", "http://e.com/").ok());  // truncated
}

TEST(ExtractRegex, FirstCaptureGroupWithJsonEscapesUndone) {
  const char* page =
      R"(var data = [{"murl":"http:\/\/img.example.com\/a\u0020b.gif"},{"murl":"\/rel\/c.png"},)"
      R"({"murl":"http:\/\/img.example.com\/\u8868\u60c5.jpg"}];)";
  const Urls urls =
      ExtractOrDie(R"re(regex:"murl":"([^"]+)")re", page, "http://search.example.com/");
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_EQ(urls[0], "http://img.example.com/a%20b.gif");
  EXPECT_EQ(urls[1], "http://search.example.com/rel/c.png");
  EXPECT_EQ(urls[2].rfind("http://img.example.com/%", 0), 0u) << urls[2];
}

TEST(ExtractRegex, EmptyMatchesTerminate) {
  EXPECT_TRUE(ExtractOrDie("regex:(x*)", "aaaa", "http://e.com/").empty());
}

TEST(ExtractRule, MistakesAreInvalidArgument) {
  for (const char* rule : {"regex:(unclosed", "regex:no-group", "json:", "xpath://img", ""}) {
    auto extractor = UrlExtractor::Create(rule);
    ASSERT_FALSE(extractor.ok()) << rule;
    EXPECT_EQ(extractor.status().code(), StatusCode::kInvalidArgument) << rule;
  }
  auto bad = UrlExtractor::Create("regex:(unclosed");
  EXPECT_NE(bad.status().message().find("invalid regex"), std::string::npos);
}

TEST(UnescapeJson, EscapesSurrogatesAndMalformedInput) {
  EXPECT_EQ(UnescapeJsonString(R"(a\/b\"c\\d\n)"), "a/b\"c\\d\n");
  EXPECT_EQ(UnescapeJsonString(R"(\u8611\u83c7)"), "蘑菇");
  EXPECT_EQ(UnescapeJsonString(R"(\ud83d\ude00)"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(UnescapeJsonString(R"(\u12)"), "\\u12");
  EXPECT_EQ(UnescapeJsonString("end\\"), "end\\");
}

TEST(LooksLikeImage, ExtensionsIgnoringQueryAndCase) {
  EXPECT_TRUE(LooksLikeImageUrl("http://e.com/a.GIF?x=1"));
  EXPECT_TRUE(LooksLikeImageUrl("/b.webp#f"));
  EXPECT_FALSE(LooksLikeImageUrl("/page.html?img=a.png"));
}

}  // namespace
}  // namespace memes::ingest
