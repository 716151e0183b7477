#include "core/image_settings.h"

#include <gtest/gtest.h>

namespace memes {
namespace {

TEST(ImageSettings, FitModeNamesRoundTrip) {
  for (FitMode mode : {FitMode::kPad, FitMode::kCrop, FitMode::kStretch}) {
    EXPECT_EQ(ParseFitMode(FitModeName(mode)), mode);
  }
  EXPECT_FALSE(ParseFitMode("Pad").has_value());
  EXPECT_FALSE(ParseFitMode("").has_value());
}

TEST(ImageSettings, BackgroundHexWithOrWithoutHash) {
  uint8_t rgb[3] = {1, 2, 3};
  ASSERT_TRUE(ParseBackgroundHex("#00Ff80", rgb));
  EXPECT_EQ(rgb[0], 0);
  EXPECT_EQ(rgb[1], 255);
  EXPECT_EQ(rgb[2], 128);
  EXPECT_EQ(BackgroundHex(rgb), "00ff80");
  ASSERT_TRUE(ParseBackgroundHex("102030", rgb));
  EXPECT_EQ(BackgroundHex(rgb), "102030");
  for (const char* bad : {"", "#", "fff", "#1234567", "gg0000", "##00000"}) {
    EXPECT_FALSE(ParseBackgroundHex(bad, rgb)) << bad;
    EXPECT_EQ(BackgroundHex(rgb), "102030") << "untouched on failure: " << bad;
  }
}

TEST(ImageSettings, DefaultsAndChecks) {
  const ImageSettings defaults;
  EXPECT_EQ(DescribeImageSettings(defaults), "size 32, fit pad, background ffffff, max_frames 4");
  EXPECT_EQ(defaults.frame_bytes(), 3u * 32 * 32);
  EXPECT_TRUE(CheckImageSettings(defaults).ok());
  ImageSettings bad = defaults;
  bad.size = 0;
  EXPECT_NE(CheckImageSettings(bad).message().find("image size"), std::string::npos);
  bad = defaults;
  bad.max_frames = 65;
  EXPECT_NE(CheckImageSettings(bad).message().find("max_frames"), std::string::npos);
  bad = defaults;
  bad.background[1] = 0;
  EXPECT_FALSE(bad == defaults);
}

}  // namespace
}  // namespace memes
