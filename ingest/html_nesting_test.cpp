#include "ingest/html_nesting.h"

#include <gtest/gtest.h>

#include "ingest/extract.h"

namespace memes::ingest {
namespace {

TEST(HtmlNesting, ShallowPagesAreLeftAlone) {
  EXPECT_FALSE(CapHtmlNesting("<html><body><div><img src=a.png></div></body></html>", 4));
  // Void elements, comments, scripts and quoted '>' do not nest.
  EXPECT_FALSE(CapHtmlNesting(
      "<div><br><br><img src='a>b.png'><!-- <div><div><div> --><script>if (a<b) x='<div>'"
      "</script></div>",
      2));
}

TEST(HtmlNesting, TagsBeyondTheDepthAreDroppedWithTheirEndTags) {
  const auto capped = CapHtmlNesting("<a><b><c><img src=x.png></c></b>text</a>", 2);
  ASSERT_TRUE(capped);
  EXPECT_EQ(*capped, "<a><b><img src=x.png></b>text</a>");
}

TEST(HtmlNesting, TextThatLooksLikeTagsIsNotCounted) {
  EXPECT_FALSE(CapHtmlNesting("1 < 2 <= 3 <3 </ 4 <!doctype html><?xml?>", 1));
}

// #10 item 6: a 6 MB page of 1 000 000 nested <span> crashed the crawl (gumbo's recursive free).
TEST(HtmlNesting, AMillionNestedSpansAreExtractedWithoutACrash) {
  constexpr int kLevels = 1'000'000;
  std::string html = "<html><body><img src=\"top.png\">";
  html.reserve(html.size() + kLevels * 13 + 64);
  for (int i = 0; i < kLevels; ++i) html += "<span>";
  html += "<img src=\"deep.png\">";
  for (int i = 0; i < kLevels; ++i) html += "</span>";
  html += "<img src=\"after.png\"></body></html>";
  auto extractor = UrlExtractor::Create("html");
  ASSERT_TRUE(extractor.ok());
  auto urls = extractor->Extract(html, "http://example.com/s");
  ASSERT_TRUE(urls.ok()) << urls.status().ToString();
  const std::vector<std::string> expected = {
      "http://example.com/top.png", "http://example.com/deep.png", "http://example.com/after.png"};
  EXPECT_EQ(*urls, expected);
}

TEST(ExtractLimits, AtMostMaxUrlsAreTakenFromOnePage) {
  std::string html, json = "{\"u\":[", text;
  for (int i = 0; i < 50; ++i) {
    const std::string name = "i" + std::to_string(i) + ".png";
    html += "<img src=\"" + name + "\"><img src=\"i0.png\">";
    json += (i ? ",\"" : "\"") + name + "\"";
    text += "url=" + name + ";";
  }
  json += "]}";
  for (const auto& [rule, body] : {std::pair<std::string, std::string>{"html", html},
                                   {"json:u", json},
                                   {"regex:url=([^;]+)", text}}) {
    auto extractor = UrlExtractor::Create(rule, 10);
    ASSERT_TRUE(extractor.ok());
    bool truncated = false;
    auto urls = extractor->Extract(body, "http://example.com/", &truncated);
    ASSERT_TRUE(urls.ok()) << rule;
    ASSERT_EQ(urls->size(), 10u) << rule;
    EXPECT_EQ(urls->front(), "http://example.com/i0.png") << rule;
    EXPECT_EQ(urls->back(), "http://example.com/i9.png") << rule;
    EXPECT_TRUE(truncated) << rule;
    // Exactly at the cap is not truncated (the repeated i0.png is not a new URL).
    auto exact = UrlExtractor::Create(rule, 50);
    ASSERT_TRUE(exact.ok());
    ASSERT_TRUE(exact->Extract(body, "http://example.com/", &truncated).ok());
    EXPECT_FALSE(truncated) << rule;
  }
  EXPECT_EQ(UrlExtractor::Create("html")->max_urls(), 1000);
}

}  // namespace
}  // namespace memes::ingest
