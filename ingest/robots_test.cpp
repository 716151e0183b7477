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
