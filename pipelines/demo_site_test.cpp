#include "pipelines/demo_site.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "pipelines/demo_stickers.h"

namespace memes::pipelines::demo {
namespace {

DemoSiteOptions SmallSite() {
  DemoSiteOptions options;
  options.classes = {{"mushroom_head", {"蘑菇头", "蘑菇头表情包"}},
                     {"kumamon", {"熊本熊", "kumamon"}},
                     {"panda_head", {"熊猫头"}},
                     {"shiba", {"可爱柴犬", "shiba meme"}},
                     {"cat", {"猫猫表情包"}},
                     {"frog", {"青蛙表情包", "frog meme"}}};
  options.stickers_per_class = 12;
  options.slow_host_latency_ms = 10;
  options.preferred_port = 0;  // any free port: tests run in parallel
  options.preferred_slow_port = 0;
  return options;
}

TEST(DemoSite, ServesSearchPagesAndEveryKindOfFile) {
  auto site = DemoSite::Start(SmallSite());
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  const DemoSiteCounts& counts = (*site)->counts();
  EXPECT_EQ(counts.gifs, 6 * 3);
  EXPECT_GT(counts.webps, 0);
  EXPECT_GT(counts.stills, 0);
  EXPECT_GT(counts.exact_duplicates, 0);
  EXPECT_GT(counts.jpeg_near_duplicates, 0);
  EXPECT_EQ(counts.broken, 6 * 4);
  EXPECT_GT(counts.on_slow_host, 0);

  httplib::Client client("127.0.0.1", std::stoi((*site)->Host().substr(10)));
  auto html = client.Get("/search?q=%E7%86%8A%E6%9C%AC%E7%86%8A&page=1");  // 熊本熊
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_NE(html->body.find("<img src=\"img/kumamon_"), std::string::npos) << html->body;

  auto json = client.Get("/api/search?q=%E7%86%8A%E6%9C%AC%E7%86%8A&page=1");
  ASSERT_TRUE(json);
  const auto parsed = nlohmann::json::parse(json->body);
  ASSERT_FALSE(parsed["results"].empty());
  EXPECT_EQ(parsed["results"][0]["thumb"].get<std::string>().rfind("http://127.0.0.1:", 0), 0u);

  const std::string gif = (*site)->FileBytes((*site)->SomeGifPath(1));
  ASSERT_GT(gif.size(), 100u);
  EXPECT_EQ(gif.substr(0, 6), "GIF89a");
  auto served = client.Get((*site)->SomeGifPath(1).c_str());
  ASSERT_TRUE(served);
  EXPECT_EQ(served->body, gif);
  EXPECT_EQ(served->get_header_value("Content-Type"), "image/gif");
  EXPECT_EQ(client.Get("/img/kumamon_gone.png")->status, 404);
}

TEST(DemoSite, NeedsClassesWithKeywords) {
  DemoSiteOptions options = SmallSite();
  options.classes.clear();
  EXPECT_FALSE(DemoSite::Start(options).ok());
  options.classes = {{"empty", {}}};
  EXPECT_FALSE(DemoSite::Start(options).ok());
}

TEST(DemoSite, PagesRunOutAndUnknownKeywordsAreEmpty) {
  auto site = DemoSite::Start(SmallSite());
  ASSERT_TRUE(site.ok());
  httplib::Client client("127.0.0.1", std::stoi((*site)->Host().substr(10)));
  const int last = 3;  // options.pages
  auto past = client.Get(
      ("/api/search?q=%E7%86%8A%E6%9C%AC%E7%86%8A&page=" + std::to_string(last + 1)).c_str());
  ASSERT_TRUE(past);
  EXPECT_TRUE(nlohmann::json::parse(past->body)["results"].empty());
  auto unknown = client.Get("/api/search?q=nothing&page=1");
  EXPECT_TRUE(nlohmann::json::parse(unknown->body)["results"].empty());
}

TEST(DemoStickers, DeterministicAndAnimated) {
  StickerSpec spec{2, 42, 4, true};  // an animated panda head
  const auto a = DrawSticker(spec, 64);
  const auto b = DrawSticker(spec, 64);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(cv::norm(a[0], b[0], cv::NORM_L1), 0.0);
  EXPECT_GT(cv::norm(a[0], a[2], cv::NORM_L1), 0.0);  // frames differ: it moves
  // Transparent corners stay transparent.
  EXPECT_EQ(a[0].at<cv::Vec4b>(0, 0)[3], 0);
}

}  // namespace
}  // namespace memes::pipelines::demo
