// Conformance on the GIF test suite of Debian's gdk-pixbuf-tests: each NAME.gif has a NAME.conf
// listing the expected frames, each with a .rgba file of reference pixels (W*H*4 bytes, RGBA).
// An empty frame list means the file is invalid and must give an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "transform/frames.h"
#include "transform/test_util.h"

namespace memes::transform {
namespace {

namespace fs = std::filesystem;
using testing::PixbufImages;
using testing::ReadFileBytes;

fs::path SuiteDir() { return PixbufImages() / "gif-test-suite"; }

// The .conf format: "[section]" headers and "key = value" lines; '#' starts a comment.
using Conf = std::map<std::string, std::map<std::string, std::string>>;

Conf ParseConf(const fs::path& path) {
  Conf conf;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == std::string::npos) continue;
    auto trim = [](std::string text) {
      text.erase(0, text.find_first_not_of(' '));
      text.erase(text.find_last_not_of(' ') + 1);
      return text;
    };
    conf[section][trim(line.substr(0, equals))] = trim(line.substr(equals + 1));
  }
  return conf;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(SuiteDir(), error)) {
    if (entry.path().extension() == ".conf") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Cases where FFmpeg (our GIF decoder) knowingly differs from the suite, each with the reason
// and what we still require of it, so a change in FFmpeg's behaviour shows up as a failure.
enum class Difference {
  kPixels,                // same frames, some pixels differ: frame count and size still checked
  kFrames,                // the suite merges images into frames differently: must still decode
  kFramesInsteadOfError,  // the suite calls the file invalid; FFmpeg decodes it: must decode
  kErrorInsteadOfFrames,  // the suite expects frames; FFmpeg refuses the file: must error
};
struct KnownDifference {
  Difference kind;
  const char* reason;
};

constexpr const char* kBackgroundFill =
    "FFmpeg paints canvas areas no image covers (start of the animation, restore-to-background "
    "disposal without a transparent index, pixels missing from the LZW data) with the GIF's "
    "background colour as GIF89a says; the suite, like browsers, expects transparent";
constexpr const char* kMergesImages =
    "the suite merges images without a delay into one frame (gdk-pixbuf disables this case "
    "too, see TESTS); FFmpeg returns each image as a frame";

const std::map<std::string, KnownDifference>& KnownDifferences() {
  static const std::map<std::string, KnownDifference> differences = {
      {"dispose-restore-background", {Difference::kPixels, kBackgroundFill}},
      {"image-inside-bg", {Difference::kPixels, kBackgroundFill}},
      {"image-overlap-bg", {Difference::kPixels, kBackgroundFill}},
      {"missing-pixels", {Difference::kPixels, kBackgroundFill}},
      {"animation-multi-image", {Difference::kFrames, kMergesImages}},
      {"animation-multi-image-explicit-zero-delay", {Difference::kFrames, kMergesImages}},
      {"dispose-restore-previous", {Difference::kFrames, kMergesImages}},
      {"high-color", {Difference::kFrames, kMergesImages}},
      {"images-combine", {Difference::kFrames, kMergesImages}},
      {"images-overlap", {Difference::kFrames, kMergesImages}},
      {"invalid-code",
       {Difference::kFramesInsteadOfError,
        "FFmpeg's LZW decoder stops at an invalid code and "
        "keeps the pixels decoded so far"}},
      {"invalid-colors",
       {Difference::kFramesInsteadOfError, "FFmpeg maps colour indices past the table"}},
      {"plain-text",
       {Difference::kFramesInsteadOfError,
        "FFmpeg skips the plain-text extension and decodes "
        "the image after it"}},
      {"image-outside-bg",
       {Difference::kErrorInsteadOfFrames,
        "FFmpeg refuses an image placed outside the logical "
        "screen; the suite expects it clipped"}},
      {"image-zero-width", {Difference::kErrorInsteadOfFrames, "FFmpeg refuses a 0-wide image"}},
      {"image-zero-height", {Difference::kErrorInsteadOfFrames, "FFmpeg refuses a 0-high image"}},
      {"image-zero-size", {Difference::kErrorInsteadOfFrames, "FFmpeg refuses a 0x0 image"}},
      {"no-data",
       {Difference::kErrorInsteadOfFrames,
        "a screen without any image: nothing to decode (the "
        "suite expects one transparent frame)"}},
  };
  return differences;
}

class GifSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(GifSuite, MatchesReference) {
  const std::string name = GetParam();
  const Conf conf = ParseConf(SuiteDir() / (name + ".conf"));
  ASSERT_TRUE(conf.count("config")) << name;
  const auto& config = conf.at("config");
  const std::vector<uint8_t> bytes = ReadFileBytes(SuiteDir() / config.at("input"));
  const std::vector<std::string> frames =
      SplitCommas(config.count("frames") ? config.at("frames") : "");

  DecodeOptions options;
  options.max_frames = 100000;
  options.drop_near_duplicates = false;
  options.keep_full_size = true;
  options.background[0] = 255, options.background[1] = 0, options.background[2] = 255;
  options.max_canvas_pixels = 70'000 * 70'000ull;  // the suite has 65535x1 and 1x65535 cases
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  const auto known = KnownDifferences().find(name);
  const bool pixels_differ =
      known != KnownDifferences().end() && known->second.kind == Difference::kPixels;
  if (known != KnownDifferences().end() && !pixels_differ) {
    RecordProperty("known_difference", known->second.reason);
    if (known->second.kind == Difference::kErrorInsteadOfFrames) {
      EXPECT_FALSE(decoded.ok()) << name << " now decodes; remove it from KnownDifferences";
    } else {
      EXPECT_TRUE(decoded.ok()) << name << ": " << decoded.status().ToString();
    }
    return;
  }

  if (frames.empty()) {
    EXPECT_FALSE(decoded.ok()) << name << " is invalid but decoded to " << decoded->frames.size()
                               << " frames";
    return;
  }
  ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "gif");
  const int width = std::stoi(config.at("width"));
  const int height = std::stoi(config.at("height"));
  EXPECT_EQ(decoded->width, width);
  EXPECT_EQ(decoded->height, height);
  ASSERT_EQ(decoded->frames.size(), frames.size()) << name;
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(name + " frame " + std::to_string(i));
    const Frame& frame = decoded->frames[i];
    EXPECT_EQ(frame.index, static_cast<int>(i));
    const std::vector<uint8_t> reference =
        ReadFileBytes(SuiteDir() / conf.at(frames[i]).at("pixels"));
    ASSERT_EQ(frame.full_width, width);
    ASSERT_EQ(frame.full_height, height);
    ASSERT_EQ(reference.size(), size_t(width) * height * 4);
    int mismatches = 0;
    std::string first_mismatch;
    for (size_t p = 0; p < size_t(width) * height; ++p) {
      const uint8_t* want = &reference[4 * p];
      uint8_t expected[3] = {want[0], want[1], want[2]};
      if (want[3] == 0) std::copy_n(options.background, 3, expected);  // transparent
      const uint8_t* got = &frame.full_rgb[3 * p];
      if (!std::equal(expected, expected + 3, got)) {
        if (mismatches++ == 0) {
          std::ostringstream text;
          text << "pixel " << p << " want " << int(expected[0]) << "," << int(expected[1]) << ","
               << int(expected[2]) << " (alpha " << int(want[3]) << ") got " << int(got[0]) << ","
               << int(got[1]) << "," << int(got[2]);
          first_mismatch = text.str();
        }
      }
    }
    if (pixels_differ) {
      RecordProperty("known_difference", known->second.reason);
    } else {
      EXPECT_EQ(mismatches, 0) << first_mismatch;
    }
    if (conf.at(frames[i]).count("delay") && i > 0) {
      // Delays are in hundredths of a second; frame i starts when the frames before it ended.
      EXPECT_GE(frame.time_seconds, decoded->frames[i - 1].time_seconds);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(GdkPixbuf, GifSuite, ::testing::ValuesIn(SuiteCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
                               '_');
                           return name;
                         });

TEST(GifSuiteFiles, ArePresent) {
  // gdk-pixbuf-tests is in scripts/packages.txt; without it the suite above would be empty.
  EXPECT_GE(SuiteCases().size(), 80u) << SuiteDir();
}

}  // namespace
}  // namespace memes::transform
