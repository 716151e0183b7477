#include "transform/signature.h"

#include <cmath>

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frames.h"
#include "transform/test_util.h"

namespace memes::transform {
namespace {

constexpr int kSize = 32;

// A sticker-like drawing on a transparent 64×64 canvas (BGRA): a face with a hat on one side,
// so no rotation or mirror maps it onto itself. `variant` moves the features (a different
// drawing of the same subject).
cv::Mat Sticker(int variant = 0) {
  cv::Mat bgra(64, 64, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  cv::circle(bgra, {32, 34}, 24, cv::Scalar(40, 200, 250, 255), cv::FILLED, cv::LINE_AA);
  cv::circle(bgra, {24 + 4 * variant, 28}, 4, cv::Scalar(30, 30, 30, 255), cv::FILLED);
  cv::circle(bgra, {41, 28 + 6 * variant}, 4, cv::Scalar(30, 30, 30, 255), cv::FILLED);
  cv::ellipse(bgra, {32, 44}, {10, 5}, 0, 0, 180, cv::Scalar(30, 30, 160, 255), 3);
  cv::rectangle(bgra, {10 + 20 * variant, 4}, {30 + 20 * variant, 14}, cv::Scalar(200, 60, 60, 255),
                cv::FILLED);
  return bgra;
}

Frame FirstFrame(const cv::Mat& bgra) {
  auto decoded = DecodeToFrames(testing::Encode(bgra, ".png"), {});
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? decoded->frames.at(0) : Frame{};
}

std::vector<uint8_t> Mirrored(const std::vector<uint8_t>& planar) {
  std::vector<uint8_t> out(planar.size());
  for (int row = 0; row < 3 * kSize; ++row) {
    for (int x = 0; x < kSize; ++x) out[row * kSize + x] = planar[row * kSize + kSize - 1 - x];
  }
  return out;
}

TEST(ContentHash, LetterboxedCopiesKeepTheSignatureThatThePhashOfTheFrameLoses) {
  const Frame original = FirstFrame(Sticker());
  EXPECT_EQ(original.phash, ContentHash(original.planar, kSize)) << "decode stores ContentHash";
  EXPECT_EQ(original.orientation_hashes, ContentHashes(original.planar, kSize));
  // Bars of 30–60 % of the side, transparent (composited onto the white background) or white,
  // on the long or the short axis, as a re-upload to a 4:3 or 16:9 canvas adds them.
  struct Bars {
    int top, bottom, left, right;
    cv::Scalar colour;
  };
  const Bars bars[] = {{0, 0, 10, 10, cv::Scalar(0, 0, 0, 0)},
                       {0, 0, 20, 18, cv::Scalar(255, 255, 255, 255)},
                       {12, 14, 0, 0, cv::Scalar(0, 0, 0, 0)},
                       {0, 0, 36, 0, cv::Scalar(255, 255, 255, 255)}};
  for (const Bars& b : bars) {
    cv::Mat padded;
    cv::copyMakeBorder(Sticker(), padded, b.top, b.bottom, b.left, b.right, cv::BORDER_CONSTANT,
                       b.colour);
    const Frame copy = FirstFrame(padded);
    EXPECT_LE(HammingDistance(copy.phash, original.phash), 6)
        << "bars " << b.top << " " << b.bottom << " " << b.left << " " << b.right;
    EXPECT_GT(
        HammingDistance(PerceptualHash(copy.planar, kSize), PerceptualHash(original.planar, kSize)),
        6)
        << "the whole frame's PHash does not see through the bars";
  }
}

TEST(ContentHash, ADifferentDrawingOfTheSameSubjectIsFar) {
  const Frame one = FirstFrame(Sticker(0)), other = FirstFrame(Sticker(1));
  int nearest = 64;
  for (const uint64_t probe : other.orientation_hashes)
    nearest = std::min(nearest, HammingDistance(probe, one.phash));
  EXPECT_GT(nearest, 10);
}

TEST(ContentHashes, OrientationsMatchRotatedAndMirroredCopies) {
  const Frame frame = FirstFrame(Sticker());
  const OrientationHashes hashes = ContentHashes(frame.planar, kSize);
  EXPECT_EQ(hashes[0], ContentHash(frame.planar, kSize));
  for (int turns = 1; turns < 4; ++turns) {
    // The frame turned back by `turns` has, among its orientations, the original's hash.
    const auto turned = ContentHashes(RotatePlanar(frame.planar, kSize, 4 - turns), kSize);
    EXPECT_EQ(turned[turns], hashes[0]) << turns;
    EXPECT_GT(HammingDistance(turned[0], hashes[0]), 6) << "the turn changes the plain hash";
  }
  const OrientationHashes of_mirror = ContentHashes(Mirrored(frame.planar), kSize);
  EXPECT_EQ(of_mirror[4], hashes[0]);
  EXPECT_EQ(of_mirror[0], hashes[4]);
  EXPECT_GT(HammingDistance(of_mirror[0], hashes[0]), 6);
}

// The middle band ignores what covers the top and bottom 9 rows of 32 (a caption), which moves
// the content window; its orientations are those of the turned frame, as ContentHashes'. Rows 8
// and 23 (a caption's outline, under the middle half of schemas 7-10) are outside it too.
TEST(BandHashes, ACaptionOverAnEdgeLeavesTheBandAndMovesTheContentWindow) {
  const Frame frame = FirstFrame(Sticker());
  EXPECT_EQ(frame.second_hashes, BandHashes(frame.planar, kSize)) << "decode stores BandHashes";
  EXPECT_EQ(frame.second_thumbs, BandThumbsOf(frame.planar, kSize));
  // A bar of text-like ink over rows y..y+3: the top or the bottom rows.
  for (const int y : {3, 5, 23, 27}) {
    std::vector<uint8_t> captioned = frame.planar;
    for (int row = y; row < y + 4; ++row) {
      for (int x = 2; x < 30; x += 2) {
        for (int c = 0; c < 3; ++c) captioned[(c * kSize + row) * kSize + x] = 0;
      }
    }
    EXPECT_EQ(BandHashes(captioned, kSize)[0], frame.second_hashes[0]) << y;
    EXPECT_EQ(BandThumbsOf(captioned, kSize)[0], frame.second_thumbs[0]) << y;
    // The outer bars are what a caption adds past the picture's ink: they move its window.
    if (y == 3 || y == 27) {
      EXPECT_GT(HammingDistance(ContentHash(captioned, kSize), frame.phash), 6) << y;
    }
  }
  for (int turns = 1; turns < 4; ++turns) {
    const auto turned = RotatePlanar(frame.planar, kSize, 4 - turns);
    EXPECT_EQ(BandHashes(turned, kSize)[turns], frame.second_hashes[0]) << turns;
    EXPECT_EQ(BandThumbsOf(turned, kSize)[turns], frame.second_thumbs[0]) << turns;
  }
  EXPECT_EQ(BandHashes(Mirrored(frame.planar), kSize)[4], frame.second_hashes[0]);
  // Another drawing of the subject is far on the band too.
  const Frame other = FirstFrame(Sticker(1));
  int nearest = 64;
  for (const uint64_t probe : other.second_hashes)
    nearest = std::min(nearest, HammingDistance(probe, frame.second_hashes[0]));
  EXPECT_GT(nearest, 6);
}

// Orientations 4..7 are the mirror image turned 0..3 times, for the hashes and thumbnails alike,
// and computing them leaves the frame as it was (a flip in place once turned orientations 5..7
// into plain turns).
TEST(Orientations, TheMirroredFourAreTheMirrorImageTurned) {
  const Frame frame = FirstFrame(Sticker());
  const std::vector<uint8_t> mirrored = Mirrored(frame.planar);
  const auto content = ContentHashes(mirrored, kSize), band = BandHashes(mirrored, kSize);
  const auto content_thumbs = ContentThumbsOf(mirrored, kSize);
  const auto band_thumbs = BandThumbsOf(mirrored, kSize);
  for (int turns = 0; turns < 4; ++turns) {
    EXPECT_EQ(frame.orientation_hashes[4 + turns], content[turns]) << turns;
    EXPECT_EQ(frame.second_hashes[4 + turns], band[turns]) << turns;
    EXPECT_EQ(frame.orientation_thumbs[4 + turns], content_thumbs[turns]) << turns;
    EXPECT_EQ(frame.second_thumbs[4 + turns], band_thumbs[turns]) << turns;
    EXPECT_NE(frame.orientation_hashes[4 + turns], frame.orientation_hashes[turns]) << turns;
  }
}

// Bits above a margin over the median: fewer than half are set, but not so few that pictures
// crowd into a few of the index's buckets.
TEST(ContentHash, TheMarginSetsAThirdToHalfOfTheBits) {
  for (int variant = 0; variant < 2; ++variant) {
    const int ones = __builtin_popcountll(FirstFrame(Sticker(variant)).phash);
    EXPECT_GE(ones, 18) << variant;
    EXPECT_LE(ones, 31) << variant;
  }
}

TEST(FindContentWindow, CentresOnTheInkAndFallsBackToTheWholeFrame) {
  std::vector<uint8_t> flat(3 * kSize * kSize, 200);
  EXPECT_FALSE(FindContentWindow(flat, kSize).found) << "nothing to centre on";
  EXPECT_EQ(ContentHash(flat, kSize), ContentHash(flat, kSize));

  // A dark 8×4 block at x 20..27, y 4..7 on white: centre (24, 6) in pixel-centre coordinates.
  std::vector<uint8_t> block(3 * kSize * kSize, 255);
  for (int c = 0; c < 3; ++c) {
    for (int y = 4; y < 8; ++y) {
      for (int x = 20; x < 28; ++x) block[c * kSize * kSize + y * kSize + x] = 0;
    }
  }
  const ContentWindow window = FindContentWindow(block, kSize);
  ASSERT_TRUE(window.bordered);
  ASSERT_TRUE(window.found);
  EXPECT_DOUBLE_EQ(window.centre_x, 24.0);
  EXPECT_DOUBLE_EQ(window.centre_y, 6.0);
  EXPECT_NEAR(window.spread_x, std::sqrt((64.0 - 1) / 12), 1e-9);  // uniform over 8 pixels
  EXPECT_NEAR(window.spread_y, std::sqrt((16.0 - 1) / 12), 1e-9);
  EXPECT_FLOAT_EQ(window.border_grey, 255.0f);

  // Four corners of four colours: no border; the ink is weighed against the background.
  std::vector<uint8_t> photo(3 * kSize * kSize);
  for (size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<uint8_t>((i * 37) % 251);
  const size_t plane = kSize * kSize, last = kSize - 1;
  for (int c = 0; c < 3; ++c) {
    photo[c * plane] = 0;
    photo[c * plane + last] = 80;
    photo[c * plane + last * kSize] = 160;
    photo[c * plane + last * kSize + last] = 240;
  }
  const ContentWindow photo_window = FindContentWindow(photo, kSize);
  EXPECT_FALSE(photo_window.bordered);
  ASSERT_TRUE(photo_window.found);
  EXPECT_EQ(photo_window.border_rgb, kWhite);
  const std::array<uint8_t, 3> black = {0, 0, 0};
  EXPECT_EQ(FindContentWindow(photo, kSize, black).border_rgb, black);
}

// A picture that fills its canvas (corners of four colours, as a photo, a flag or a Twemoji
// building has) and its copies letterboxed with white or transparent bars: the copy's corners
// are the bars', so its window is the picture's ink against white; the original, with no
// border, is weighed against the same white. With the whole frame as the original's window (the
// rule before) the two lay about 20 bits apart.
TEST(ContentHash, AFrameFillingPictureKeepsItsSignatureInAWhiteLetterbox) {
  cv::Mat bgra(64, 64, CV_8UC4);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      bgra.at<cv::Vec4b>(y, x) =
          cv::Vec4b(static_cast<uint8_t>(60 + 2 * x), static_cast<uint8_t>(200 - 2 * y), 90, 255);
    }
  }
  cv::circle(bgra, {24, 36}, 14, cv::Scalar(20, 20, 220, 255), cv::FILLED, cv::LINE_AA);
  cv::rectangle(bgra, {40, 6}, {58, 20}, cv::Scalar(240, 240, 240, 255), cv::FILLED);
  const Frame original = FirstFrame(bgra);
  EXPECT_FALSE(FindContentWindow(original.planar, kSize).bordered);
  for (const cv::Scalar& bar : {cv::Scalar(0, 0, 0, 0), cv::Scalar(255, 255, 255, 255)}) {
    for (const int extra : {14, 26, 38}) {
      cv::Mat padded;
      cv::copyMakeBorder(bgra, padded, extra / 2, extra - extra / 2, 0, 0, cv::BORDER_CONSTANT,
                         bar);
      const Frame copy = FirstFrame(padded);
      EXPECT_TRUE(FindContentWindow(copy.planar, kSize).bordered);
      EXPECT_LE(HammingDistance(copy.phash, original.phash), 6) << "bars " << extra;
    }
  }
}

// A flag: three stripes of one colour each, horizontal (`wave` 0) or waving (their borders a
// sine of `wave` pixels), then each channel of each pixel moved by -1, 0 or +1 at random
// (`noise_seed` > 0), as two encoders' rounding of one picture differ.
std::vector<uint8_t> Flag(double wave, uint32_t noise_seed) {
  std::vector<uint8_t> planar(3 * kSize * kSize);
  const uint8_t stripes[3][3] = {{200, 30, 40}, {240, 240, 240}, {30, 40, 160}};
  uint32_t state = noise_seed;
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      const double at = y + wave * std::sin(x * 0.3);
      const int stripe = at < 11 ? 0 : at < 21 ? 1 : 2;
      for (int c = 0; c < 3; ++c) {
        int value = stripes[stripe][c];
        if (noise_seed != 0) {
          state = state * 1664525u + 1013904223u;
          value += static_cast<int>(state >> 30) % 3 - 1;
        }
        planar[(c * kSize + y) * kSize + x] = cv::saturate_cast<uint8_t>(value);
      }
    }
  }
  return planar;
}

// A flat band has many DCT coefficients at about zero, the median among them; bits taken at
// the median would be a coin toss that one level of rounding turns over. BandHashes sets bits
// only above a margin, so the rounding moves at most a bit or two, for straight stripes (where
// more than half the coefficients are exactly zero: the margin's floor) as for waving ones;
// the same margin keeps the hash of a different picture far.
TEST(BandHashes, OneLevelOfRoundingKeepsAFlatBandsHash) {
  for (const double wave : {0.0, 2.0}) {
    const uint64_t clean = BandHashes(Flag(wave, 0), kSize)[0];
    EXPECT_GE(__builtin_popcountll(clean), 2) << wave;
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      EXPECT_LE(HammingDistance(BandHashes(Flag(wave, seed), kSize)[0], clean), 2)
          << "wave " << wave << " seed " << seed;
    }
  }
  const Frame sticker = FirstFrame(Sticker());
  EXPECT_GT(HammingDistance(sticker.second_hashes[0], BandHashes(Flag(2.0, 0), kSize)[0]), 10);
}

// Flat vector art (a flag filling the frame: no border, so its ink is weighed against white)
// has many DCT coefficients at about zero around the median, as a flat band does: ContentHash's
// margin keeps one level of rounding from turning their bits over (at the median, 10 and more
// bits moved), in every orientation. (Up to 3: the rounding also moves the ink's moments, and
// so the window, by a fraction of a pixel.)
TEST(ContentHash, OneLevelOfRoundingKeepsAFlatPicturesHash) {
  for (const double wave : {0.0, 2.0}) {
    const OrientationHashes clean = ContentHashes(Flag(wave, 0), kSize);
    EXPECT_GE(__builtin_popcountll(clean[0]), 2) << wave;
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      const OrientationHashes noisy = ContentHashes(Flag(wave, seed), kSize);
      for (int k = 0; k < kOrientations; ++k) {
        EXPECT_LE(HammingDistance(noisy[k], clean[k]), 3)
            << "wave " << wave << " seed " << seed << " orientation " << k;
      }
    }
  }
  EXPECT_GT(HammingDistance(FirstFrame(Sticker()).phash, ContentHash(Flag(2.0, 0), kSize)), 10);
}

}  // namespace
}  // namespace memes::transform
