#include "ingest/robots.h"

#include <gtest/gtest.h>

namespace memes::ingest {
namespace {

TEST(Robots, ProductTokenIsTheFirstWordLowerCased) {
  EXPECT_EQ(ProductToken("memes/0.1 (sticker dataset builder)"), "memes");
  EXPECT_EQ(ProductToken("My-Bot"), "my-bot");
}

TEST(Robots, EmptyRulesAllowEverything) {
  RobotsRules rules;
  EXPECT_TRUE(rules.Allowed("/anything"));
  EXPECT_TRUE(RobotsRules::Parse("", "memes").Allowed("/x"));
  EXPECT_TRUE(RobotsRules::Parse("User-agent: *\nDisallow:\n", "memes").Allowed("/x"));
}

TEST(Robots, StarGroupAppliesWhenNoGroupNamesUs) {
  const auto rules = RobotsRules::Parse(
      "# comment\nUser-agent: *\nDisallow: /private/\n\nUser-agent: otherbot\nDisallow: /\n",
      "memes");
  EXPECT_FALSE(rules.Allowed("/private/a.png"));
  EXPECT_TRUE(rules.Allowed("/public/a.png"));
}

TEST(Robots, OurGroupReplacesTheStarGroup) {
  const char* text =
      "User-agent: *\nDisallow: /\n\n"
      "User-agent: MEMES\nDisallow: /no/\n"
      "User-agent: other\nAllow: /\n";
  const auto rules = RobotsRules::Parse(text, "memes");
  EXPECT_TRUE(rules.Allowed("/yes/a.png"));
  EXPECT_FALSE(rules.Allowed("/no/a.png"));
}

TEST(Robots, ConsecutiveUserAgentsShareAGroupAndGroupsMerge) {
  const char* text =
      "User-agent: a\nUser-agent: memes\nDisallow: /one/\n"
      "User-agent: b\nDisallow: /two/\n"
      "User-agent: memes\nDisallow: /three/\n";
  const auto rules = RobotsRules::Parse(text, "memes");
  EXPECT_FALSE(rules.Allowed("/one/x"));
  EXPECT_TRUE(rules.Allowed("/two/x"));
  EXPECT_FALSE(rules.Allowed("/three/x"));
}

TEST(Robots, LongestMatchWinsAndAllowWinsTies) {
  const auto rules = RobotsRules::Parse(
      "User-agent: *\nDisallow: /img/\nAllow: /img/public/\nDisallow: /img/public/secret\n"
      "Allow: /tie\nDisallow: /tie\n",
      "memes");
  EXPECT_FALSE(rules.Allowed("/img/a.png"));
  EXPECT_TRUE(rules.Allowed("/img/public/a.png"));
  EXPECT_FALSE(rules.Allowed("/img/public/secret.png"));
  EXPECT_TRUE(rules.Allowed("/tie"));
}

TEST(Robots, WildcardsAndEndAnchor) {
  const auto rules = RobotsRules::Parse(
      "User-agent: *\nDisallow: /*.gif$\nDisallow: /*/thumbs/\nDisallow: /search*q=\n", "memes");
  EXPECT_FALSE(rules.Allowed("/a/b.gif"));
  EXPECT_TRUE(rules.Allowed("/a/b.gif?x=1"));  // $ anchors the end of path+query
  EXPECT_TRUE(rules.Allowed("/a/b.png"));
  EXPECT_FALSE(rules.Allowed("/x/thumbs/1.png"));
  EXPECT_TRUE(rules.Allowed("/thumbs/1.png"));
  EXPECT_FALSE(rules.Allowed("/search?lang=en&q=cat"));
}

TEST(Robots, RobotsTxtItselfIsAlwaysAllowed) {
  const auto rules = RobotsRules::Parse("User-agent: *\nDisallow: /\n", "memes");
  EXPECT_FALSE(rules.Allowed("/a.png"));
  EXPECT_TRUE(rules.Allowed("/robots.txt"));
}

// #10 item 4: RFC 9309 section 2.5, parse at least the first 500 KiB of a larger file.
TEST(Robots, TheFirst500KiBOfALargerFileAreParsed) {
  std::string text = "User-agent: *\nDisallow: /private/\n";
  while (text.size() < 600 * 1024) text += "# padding padding padding padding padding\n";
  text += "Disallow: /late/\n";  // beyond the limit: not read
  const auto rules = RobotsRules::Parse(text, "memes");
  EXPECT_FALSE(rules.Allowed("/private/a.png"));
  EXPECT_TRUE(rules.Allowed("/late/a.png"));
  // A rule cut in half at the limit is dropped, not read as a shorter pattern.
  std::string cut = "User-agent: *\nDisallow: /x\n";
  cut += std::string(RobotsRules::kMaxParsedBytes - cut.size() - 10, '#') + "\n";
  cut += "Allow: /x/yes-this-is-long\n";
  ASSERT_GT(cut.size(), RobotsRules::kMaxParsedBytes);
  EXPECT_FALSE(RobotsRules::Parse(cut, "memes").Allowed("/x/y"));
}

TEST(Robots, AUtf8ByteOrderMarkIsIgnored) {
  const auto rules = RobotsRules::Parse("\xEF\xBB\xBFUser-agent: *\nDisallow: /\n", "memes");
  EXPECT_FALSE(rules.Allowed("/a.png"));
}

// #10 item 4: patterns and paths are compared after percent-encoding normalisation.
TEST(Robots, PatternsAndPathsAreComparedPercentEncodingNormalised) {
  const auto rules = RobotsRules::Parse(
      "User-agent: *\nDisallow: /表情\nDisallow: /%7Ejoe/\nDisallow: /a%2fb\n"
      "Disallow: /%e7%8c%ab/\n",
      "memes");
  EXPECT_FALSE(rules.Allowed("/%E8%A1%A8%E6%83%85/1.gif"));
  EXPECT_FALSE(rules.Allowed("/%e8%a1%a8%e6%83%85/1.gif"));
  EXPECT_FALSE(rules.Allowed("/表情/1.gif"));
  EXPECT_FALSE(rules.Allowed("/~joe/x.png"));  // %7E is '~', unreserved
  EXPECT_FALSE(rules.Allowed("/%7ejoe/x.png"));
  EXPECT_FALSE(rules.Allowed("/a%2Fb/c.png"));  // %2F stays encoded on both sides
  EXPECT_TRUE(rules.Allowed("/a/b/c.png"));     // a real '/' is another path
  EXPECT_FALSE(rules.Allowed("/猫/x.png"));
  EXPECT_TRUE(rules.Allowed("/%E8%A1%A8/1.gif"));
}

TEST(Robots, NormalizeRobotsPath) {
  EXPECT_EQ(NormalizeRobotsPath("/表"), "/%E8%A1%A8");
  EXPECT_EQ(NormalizeRobotsPath("/%e8%a1%a8"), "/%E8%A1%A8");
  EXPECT_EQ(NormalizeRobotsPath("/%41%2f%zz%"), "/A%2F%25zz%25");
  EXPECT_EQ(NormalizeRobotsPath("/a b*$?q=1&r"), "/a%20b*$?q=1&r");
  const std::string once = NormalizeRobotsPath("/%7e/表情%20x%");
  EXPECT_EQ(NormalizeRobotsPath(once), once);
}

TEST(Robots, GarbageDoesNotCrash) {
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage += static_cast<char>((i * 131) % 256);
  garbage += "\nUser-agent: *\nDisallow: /" + std::string(10000, '*') + "x$\r\n";
  const auto rules = RobotsRules::Parse(garbage, "memes");
  EXPECT_TRUE(rules.Allowed("/" + std::string(5000, 'a')));
  EXPECT_FALSE(rules.Allowed("/ax"));
}

}  // namespace
}  // namespace memes::ingest
