// Fitting, compositing, rotation, frame picking, hashing and sniffing on tiny inputs.
#include <gtest/gtest.h>

#include <numeric>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/fit.h"
#include "transform/frame_pick.h"
#include "transform/frames.h"
#include "transform/phash.h"
#include "transform/sniff.h"

namespace memes::transform {
namespace {

const uint8_t kWhite[3] = {255, 255, 255};

std::vector<uint8_t> Ramp(int size) {
  std::vector<uint8_t> planar(3 * size * size);
  std::iota(planar.begin(), planar.end(), 0);
  return planar;
}

TEST(Rotate, QuarterTurnIsCounterClockwiseAndExact) {
  // One channel of a 2x2 frame: [a b; c d] turned a quarter counter-clockwise is [b d; a c].
  const std::vector<uint8_t> planar = {1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24};
  EXPECT_EQ(RotatePlanar(planar, 2, 1),
            (std::vector<uint8_t>{2, 4, 1, 3, 12, 14, 11, 13, 22, 24, 21, 23}));
  EXPECT_EQ(RotatePlanar(planar, 2, 2),
            (std::vector<uint8_t>{4, 3, 2, 1, 14, 13, 12, 11, 24, 23, 22, 21}));
  EXPECT_EQ(RotatePlanar(planar, 2, 3),
            (std::vector<uint8_t>{3, 1, 4, 2, 13, 11, 14, 12, 23, 21, 24, 22}));
}

TEST(Rotate, MatchesOpenCvAndComposes) {
  const int size = 5;
  const std::vector<uint8_t> planar = Ramp(size);
  EXPECT_EQ(RotatePlanar(planar, size, 0), planar);
  EXPECT_EQ(RotatePlanar(planar, size, 4), planar);
  EXPECT_EQ(RotatePlanar(RotatePlanar(planar, size, 1), size, 3), planar);
  EXPECT_EQ(RotatePlanar(planar, size, -1), RotatePlanar(planar, size, 3));
  const std::vector<uint8_t> turned = RotatePlanar(planar, size, 1);
  for (int channel = 0; channel < 3; ++channel) {
    const cv::Mat in(size, size, CV_8UC1, const_cast<uint8_t*>(&planar[channel * size * size]));
    cv::Mat expected;
    cv::rotate(in, expected, cv::ROTATE_90_COUNTERCLOCKWISE);
    const cv::Mat got(size, size, CV_8UC1, const_cast<uint8_t*>(&turned[channel * size * size]));
    EXPECT_EQ(cv::countNonZero(expected != got), 0) << "channel " << channel;
  }
}

TEST(Composite, AlphaExtremesAreExact) {
  const uint8_t rgba[] = {10, 20, 30, 0, 10, 20, 30, 255, 30, 20, 10, 255};
  cv::Mat rgb;
  CompositeToRgb(rgba, 3, 1, sizeof rgba, PixelOrder::kRgba, kWhite, rgb);
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 1), cv::Vec3b(10, 20, 30));
  CompositeToRgb(rgba, 3, 1, sizeof rgba, PixelOrder::kBgra, kWhite, rgb);
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 2), cv::Vec3b(10, 20, 30));
}

TEST(Fit, PadLetterboxesCropCentresStretchFills) {
  cv::Mat tall(4, 2, CV_8UC3, cv::Scalar(9, 9, 9));  // 2 wide, 4 high, RGB 9
  const std::vector<uint8_t> pad = FitToPlanar(tall, 4, FitMode::kPad, kWhite);
  ASSERT_EQ(pad.size(), 48u);
  EXPECT_EQ(pad[0], 255);  // (0,0) is letterbox
  EXPECT_EQ(pad[1], 9);    // (1,0) is picture
  EXPECT_EQ(pad[3], 255);  // (3,0) is letterbox
  const std::vector<uint8_t> crop = FitToPlanar(tall, 4, FitMode::kCrop, kWhite);
  const std::vector<uint8_t> stretch = FitToPlanar(tall, 4, FitMode::kStretch, kWhite);
  for (size_t i = 0; i < 48; ++i) {
    EXPECT_EQ(crop[i], 9);
    EXPECT_EQ(stretch[i], 9);
  }
}

TEST(Fit, AreaDownscaleAveragesBlocks) {
  cv::Mat checker(2, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  checker.at<cv::Vec3b>(0, 0) = cv::Vec3b(200, 200, 200);
  checker.at<cv::Vec3b>(1, 1) = cv::Vec3b(200, 200, 200);
  const std::vector<uint8_t> one = FitToPlanar(checker, 1, FitMode::kStretch, kWhite);
  EXPECT_EQ(one, (std::vector<uint8_t>{100, 100, 100}));
}

TEST(Fit, LargeReductionMatchesOneAreaResize) {
  // The two-step reduction (integer box, then area) must agree with one INTER_AREA resize.
  cv::Mat image(666, 660, CV_8UC3);
  cv::randu(image, 0, 256);
  cv::GaussianBlur(image, image, cv::Size(31, 31), 8);  // smooth, like pictures are
  const std::vector<uint8_t> fast = FitToPlanar(image, 32, FitMode::kStretch, kWhite);
  cv::Mat direct;
  cv::resize(image, direct, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  int worst = 0;
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      for (int c = 0; c < 3; ++c) {
        worst = std::max(
            worst, std::abs(int(fast[c * 1024 + y * 32 + x]) - int(direct.at<cv::Vec3b>(y, x)[c])));
      }
    }
  }
  EXPECT_LE(worst, 2);
}

TEST(FramePick, SpreadsOverTimeAndByIndexWithoutTimes) {
  const std::vector<double> times = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  EXPECT_EQ(PickSpread(times, 1.0, 4), (std::vector<int>{0, 2, 5, 7}));
  EXPECT_EQ(PickSpread(times, 1.0, 20).size(), 10u);
  const std::vector<double> zeros(10, 0.0);
  EXPECT_EQ(PickSpread(zeros, 0, 4), (std::vector<int>{0, 2, 5, 7}));
  // One long frame covers most of the time: it is picked once.
  const std::vector<double> long_first = {0, 9, 9.5, 9.8, 9.9};
  EXPECT_EQ(PickSpread(long_first, 10, 4), (std::vector<int>{0}));
}

TEST(FramePick, NearIdentical) {
  std::vector<uint8_t> a(300, 100), b(300, 101), c(300, 110);
  EXPECT_TRUE(NearIdentical(a, b));
  EXPECT_FALSE(NearIdentical(a, c));
}

TEST(PerceptualHash, StableAndSensitive) {
  const int size = 32;
  std::vector<uint8_t> left(3 * size * size, 255);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size / 2; ++x) left[c * size * size + y * size + x] = 0;
    }
  }
  const uint64_t hash = PerceptualHash(left, size);
  EXPECT_EQ(hash, PerceptualHash(left, size));
  EXPECT_GT(HammingDistance(hash, PerceptualHash(RotatePlanar(left, size, 1), size)), 8);
  EXPECT_EQ(HammingDistance(0, ~uint64_t{0}), 64);
}

TEST(PerceptualHash, OrientationsMatchRotatedAndMirroredCopies) {
  const int size = 32;
  const size_t plane = size * size;
  // An asymmetric picture: a gradient with a dark block in one corner.
  std::vector<uint8_t> picture(3 * plane);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const bool block = x < 12 && y < 8;
        picture[c * plane + y * size + x] =
            block ? 10 : static_cast<uint8_t>(4 * x + 2 * y + 30 * c);
      }
    }
  }
  std::vector<uint8_t> mirrored(picture.size());
  for (int row = 0; row < 3 * size; ++row) {
    for (int x = 0; x < size; ++x) mirrored[row * size + x] = picture[row * size + size - 1 - x];
  }
  const OrientationHashes hashes = PerceptualHashes(picture, size);
  EXPECT_EQ(hashes[0], PerceptualHash(picture, size));
  for (int turns = 1; turns < 4; ++turns) {
    // The picture turned back by `turns` has, among its orientations, the original's hash.
    const auto turned = PerceptualHashes(RotatePlanar(picture, size, 4 - turns), size);
    EXPECT_EQ(turned[turns], hashes[0]) << turns;
    EXPECT_GT(HammingDistance(turned[0], hashes[0]), 8) << "the turn changes the plain hash";
  }
  const OrientationHashes of_mirror = PerceptualHashes(mirrored, size);
  EXPECT_EQ(of_mirror[4], hashes[0]);
  EXPECT_EQ(of_mirror[0], hashes[4]);
  EXPECT_GT(HammingDistance(of_mirror[0], hashes[0]), 8);
}

TEST(Sniff, FormatsByMagicBytes) {
  auto sniff = [](std::vector<uint8_t> bytes) {
    const Result<std::string> format = SniffFormat(bytes);
    return format.ok() ? *format : format.status().message();
  };
  EXPECT_EQ(sniff({'G', 'I', 'F', '8', '7', 'a', 1, 0, 1, 0}), "gif");
  EXPECT_EQ(sniff({0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'}), "mp4");
  EXPECT_EQ(sniff({0x1a, 0x45, 0xdf, 0xa3, 0x9f}), "webm");
  EXPECT_EQ(sniff({'B', 'M'}), "BMP header cut short");
  EXPECT_EQ(sniff({'%', 'P', 'D', 'F'}), "unsupported format (first bytes 25 50 44 46)");
}

TEST(Sniff, JpegSizeFromFrameHeader) {
  // SOI, APP0 of length 4, SOF0 of 17x300.
  const std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0, 4,  0, 0, 0xFF, 0xC0, 0,
                                     11,   8,    0x01, 0x2c, 0, 17, 3, 0, 0,    0};
  const Result<Sniffed> sniffed = Sniff(jpeg);
  ASSERT_TRUE(sniffed.ok()) << sniffed.status().ToString();
  EXPECT_EQ(sniffed->width, 17);
  EXPECT_EQ(sniffed->height, 300);
}

TEST(Sniff, GifLayoutCountsImagesAndSpotsTruncation) {
  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8',  '9', 'a',  1,    0, 1,   0,
                                    0,   0,   0,   0x2c, 0,   0,    0,    0, 1,   0,
                                    1,   0,   0,   2,    2,   0x4c, 0x01, 0, 0x3b};
  EXPECT_EQ(ScanGif(gif).images, 1);
  EXPECT_FALSE(ScanGif(gif).truncated);
  const std::vector<uint8_t> cut(gif.begin(), gif.end() - 3);
  EXPECT_TRUE(ScanGif(cut).truncated);
  EXPECT_EQ(ScanGif(cut).images, 0);
}

}  // namespace
}  // namespace memes::transform
