// DecodeToFrames on generated inputs the gdk-pixbuf suites lack (transparent, grey and palette
// PNGs, APNG, animated WebP, MP4, EXIF-rotated JPEG, extreme shapes) and on real animations.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frame_pick.h"
#include "transform/frames.h"
#include "transform/test_util.h"

namespace memes::transform {
namespace {

using testing::PlanarAt;

// The RGB of pixel (x, y) of a fitted frame.
std::array<int, 3> Rgb(const Frame& frame, int size, int x, int y) {
  return {PlanarAt(frame.planar, size, 0, x, y), PlanarAt(frame.planar, size, 1, x, y),
          PlanarAt(frame.planar, size, 2, x, y)};
}
using Colour = std::array<int, 3>;
constexpr Colour kWhite{255, 255, 255}, kRed{255, 0, 0}, kBlue{0, 0, 255};

DecodeOptions Stretch(int size) {
  DecodeOptions options;
  options.size = size;
  options.fit = FitMode::kStretch;
  return options;
}

TEST(Decode, TransparentPngCompositesOntoWhiteNotBlack) {
  cv::Mat image(10, 10, CV_8UC4, cv::Scalar(0, 0, 0, 0));          // transparent black
  image(cv::Rect(5, 0, 5, 10)).setTo(cv::Scalar(0, 0, 255, 255));  // opaque red (BGRA)
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(image, ".png"), Stretch(10));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "png");
  ASSERT_EQ(decoded->frames.size(), 1u);
  EXPECT_EQ(Rgb(decoded->frames[0], 10, 0, 0), kWhite);
  EXPECT_EQ(Rgb(decoded->frames[0], 10, 9, 9), kRed);

  DecodeOptions green = Stretch(10);
  green.background[0] = 0, green.background[1] = 255, green.background[2] = 0;
  const Result<Decoded> on_green = DecodeToFrames(testing::Encode(image, ".png"), green);
  ASSERT_TRUE(on_green.ok());
  EXPECT_EQ(Rgb(on_green->frames[0], 10, 0, 0), (Colour{0, 255, 0}));
}

TEST(Decode, HalfTransparentPixelBlendsWithBackground) {
  cv::Mat image(4, 4, CV_8UC4, cv::Scalar(0, 0, 0, 128));  // black at alpha 128
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(image, ".png"), Stretch(4));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(Rgb(decoded->frames[0], 4, 1, 1), (Colour{127, 127, 127}));
}

TEST(Decode, GreyPng) {
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(77));
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(grey, ".png"), Stretch(8));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Rgb(decoded->frames[0], 8, 3, 3), (Colour{77, 77, 77}));
}

TEST(Decode, PalettePngWithTransparentEntry) {
  testing::PngWriter png(2, 1, 3);
  png.Chunk("PLTE", {255, 0, 0, 0, 0, 255});
  png.Chunk("tRNS", {0});  // entry 0 (red) fully transparent
  png.Idat({0, 1});
  const Result<Decoded> decoded = DecodeToFrames(png.Finish(), Stretch(2));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Rgb(decoded->frames[0], 2, 0, 0), kWhite);
  EXPECT_EQ(Rgb(decoded->frames[0], 2, 1, 0), kBlue);
}

TEST(Decode, GreyAlphaPng) {
  testing::PngWriter png(2, 1, 4);
  png.Idat({0, 0, 200, 255});  // black transparent, then opaque 200
  const Result<Decoded> decoded = DecodeToFrames(png.Finish(), Stretch(2));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Rgb(decoded->frames[0], 2, 0, 0), kWhite);
  EXPECT_EQ(Rgb(decoded->frames[0], 2, 1, 0), (Colour{200, 200, 200}));
}

std::vector<uint8_t> SolidRgba(int width, int height, Colour colour, int alpha = 255) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < width * height; ++i) {
    pixels.insert(pixels.end(),
                  {uint8_t(colour[0]), uint8_t(colour[1]), uint8_t(colour[2]), uint8_t(alpha)});
  }
  return pixels;
}

TEST(Decode, ApngFramesAndTimes) {
  testing::PngWriter png(4, 4, 6);
  png.AnimationControl(3);
  png.FrameControl(4, 4, 100);
  png.Idat(SolidRgba(4, 4, kRed));
  png.FrameControl(4, 4, 100);
  png.FrameData(SolidRgba(4, 4, kBlue), 4, 4);
  png.FrameControl(4, 4, 100);
  png.FrameData(SolidRgba(4, 4, kRed, 0), 4, 4);  // blend 0 (source): a transparent canvas
  const Result<Decoded> decoded = DecodeToFrames(png.Finish(), Stretch(4));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "apng");
  EXPECT_EQ(decoded->frames_in_file, 3);
  ASSERT_EQ(decoded->frames.size(), 3u);
  EXPECT_EQ(Rgb(decoded->frames[0], 4, 0, 0), kRed);
  EXPECT_EQ(Rgb(decoded->frames[1], 4, 0, 0), kBlue);
  EXPECT_EQ(Rgb(decoded->frames[2], 4, 0, 0), kWhite);
  EXPECT_NEAR(decoded->frames[1].time_seconds, 0.1, 1e-3);
  EXPECT_NEAR(decoded->frames[2].time_seconds, 0.2, 1e-3);
}

TEST(Decode, TruncatedApngKeepsFramesBeforeTheDamage) {
  testing::PngWriter png(4, 4, 6);
  png.AnimationControl(3);
  png.FrameControl(4, 4, 100);
  png.Idat(SolidRgba(4, 4, kRed));
  png.FrameControl(4, 4, 100);
  png.FrameData(SolidRgba(4, 4, kBlue), 4, 4);
  png.FrameControl(4, 4, 100);
  png.FrameData(SolidRgba(4, 4, kRed), 4, 4);
  std::vector<uint8_t> bytes = png.Finish();
  bytes.resize(bytes.size() - 30);  // into the last fdAT chunk
  const Result<Decoded> decoded = DecodeToFrames(bytes, Stretch(4));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->partial);
  EXPECT_FALSE(decoded->partial_reason.empty());
  EXPECT_EQ(decoded->frames_in_file, 2) << decoded->partial_reason;
  EXPECT_EQ(Rgb(decoded->frames[1], 4, 0, 0), kBlue);
}

TEST(Decode, NearIdenticalFramesAreDropped) {
  testing::PngWriter png(4, 4, 6);
  png.AnimationControl(4);
  for (int i = 0; i < 4; ++i) {
    png.FrameControl(4, 4, 100);
    if (i == 0) {
      png.Idat(SolidRgba(4, 4, kRed));
    } else {
      png.FrameData(SolidRgba(4, 4, i == 3 ? kBlue : kRed), 4, 4);
    }
  }
  const std::vector<uint8_t> bytes = png.Finish();
  const Result<Decoded> decoded = DecodeToFrames(bytes, Stretch(4));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->frames_in_file, 4);
  ASSERT_EQ(decoded->frames.size(), 2u);  // red (0), blue (3); the red copies are dropped
  EXPECT_EQ(decoded->frames[0].index, 0);
  EXPECT_EQ(decoded->frames[1].index, 3);

  DecodeOptions keep_all = Stretch(4);
  keep_all.drop_near_duplicates = false;
  EXPECT_EQ(DecodeToFrames(bytes, keep_all)->frames.size(), 4u);
}

TEST(Decode, AnimatedWebp) {
  std::vector<cv::Mat> frames;
  for (const Colour& colour : {kRed, kBlue, kRed}) {
    frames.emplace_back(16, 16, CV_8UC4, cv::Scalar(colour[0], colour[1], colour[2], 255));
  }
  frames[2](cv::Rect(0, 0, 8, 16)).setTo(cv::Scalar(0, 0, 0, 0));  // left half transparent
  const std::vector<uint8_t> bytes = testing::EncodeAnimatedWebp(frames, 200);
  ASSERT_FALSE(bytes.empty());
  const Result<Decoded> decoded = DecodeToFrames(bytes, Stretch(16));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "webp");
  EXPECT_EQ(decoded->width, 16);
  EXPECT_EQ(decoded->frames_in_file, 3);
  ASSERT_EQ(decoded->frames.size(), 3u);
  EXPECT_EQ(Rgb(decoded->frames[0], 16, 5, 5), kRed);
  EXPECT_EQ(Rgb(decoded->frames[1], 16, 5, 5), kBlue);
  EXPECT_EQ(Rgb(decoded->frames[2], 16, 2, 5), kWhite);
  EXPECT_EQ(Rgb(decoded->frames[2], 16, 12, 5), kRed);
  EXPECT_NEAR(decoded->frames[2].time_seconds, 0.4, 1e-3);
  EXPECT_NEAR(decoded->duration_seconds, 0.6, 1e-3);
}

TEST(Decode, LongAnimatedWebpKeepsFramesSpreadOverTime) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 12; ++i) {
    frames.emplace_back(8, 8, CV_8UC4, cv::Scalar(i * 20, 0, 255 - i * 20, 255));
  }
  const std::vector<uint8_t> bytes = testing::EncodeAnimatedWebp(frames, 100);
  const Result<Decoded> decoded = DecodeToFrames(bytes, Stretch(8));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->frames_in_file, 12);
  ASSERT_EQ(decoded->frames.size(), 4u);
  const int expected[] = {0, 3, 6, 9};  // 1.2 s: targets 0, 0.3, 0.6, 0.9 s
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(decoded->frames[i].index, expected[i]);
    EXPECT_NEAR(decoded->frames[i].time_seconds, expected[i] / 10.0, 1e-6);
    EXPECT_NEAR(PlanarAt(decoded->frames[i].planar, 8, 0, 4, 4), expected[i] * 20, 2);
  }
  EXPECT_NEAR(decoded->duration_seconds, 1.2, 1e-6);
}

TEST(Decode, StillWebp) {
  std::vector<cv::Mat> frames{cv::Mat(6, 9, CV_8UC4, cv::Scalar(0, 0, 255, 255))};
  const Result<Decoded> decoded =
      DecodeToFrames(testing::EncodeAnimatedWebp(frames, 100), Stretch(3));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->width, 9);
  EXPECT_EQ(decoded->height, 6);
  EXPECT_EQ(Rgb(decoded->frames[0], 3, 1, 1), kBlue);
}

TEST(Decode, Mp4ClipSpreadsFramesOverDuration) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 20; ++i) frames.emplace_back(64, 64, CV_8UC3, cv::Scalar(0, 0, i * 12));
  const std::vector<uint8_t> bytes = testing::EncodeMp4(frames, 10);
  if (bytes.empty()) GTEST_SKIP() << "this FFmpeg build has no mpeg4 encoder";
  const Result<Decoded> decoded = DecodeToFrames(bytes, DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "mp4");
  EXPECT_EQ(decoded->width, 64);
  EXPECT_EQ(decoded->frames_in_file, 20);
  ASSERT_EQ(decoded->frames.size(), 4u);
  const int expected[] = {0, 5, 10, 15};  // 2 s at 10 fps, targets 0, 0.5, 1.0, 1.5 s
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(decoded->frames[i].index, expected[i]);
    EXPECT_NEAR(decoded->frames[i].time_seconds, expected[i] / 10.0, 1e-3);
  }
  EXPECT_NEAR(PlanarAt(decoded->frames[3].planar, 32, 0, 16, 16), 15 * 12, 6);  // red ramp
}

TEST(Decode, ExifRotatedJpegIsTurnedUpright) {
  cv::Mat image(20, 40, CV_8UC3, cv::Scalar(0, 0, 255));        // left half red (BGR)
  image(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(255, 0, 0));  // right half blue
  std::vector<uint8_t> bytes = testing::Encode(image, ".jpg");
  const std::vector<uint8_t> exif =
      testing::ExifOrientationSegment(6);  // display rotated 90° clockwise
  bytes.insert(bytes.begin() + 2, exif.begin(), exif.end());
  const Result<Decoded> decoded = DecodeToFrames(bytes, DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "jpeg");
  EXPECT_EQ(decoded->width, 20);
  EXPECT_EQ(decoded->height, 40);
  const Colour top = Rgb(decoded->frames[0], 32, 16, 2);
  const Colour bottom = Rgb(decoded->frames[0], 32, 16, 29);
  EXPECT_GT(top[0], 200) << "left (red) turns to the top";
  EXPECT_GT(bottom[2], 200) << "right (blue) turns to the bottom";
  EXPECT_EQ(Rgb(decoded->frames[0], 32, 1, 16), kWhite) << "pad letterboxes the sides";
}

TEST(Decode, OnePixelImageFillsTheFrame) {
  cv::Mat dot(1, 1, CV_8UC3, cv::Scalar(255, 0, 0));
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(dot, ".png"), DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Rgb(decoded->frames[0], 32, 0, 0), kBlue);
  EXPECT_EQ(Rgb(decoded->frames[0], 32, 31, 31), kBlue);
}

TEST(Decode, VeryWideImageBecomesALetterboxedLine) {
  cv::Mat strip(20, 5000, CV_8UC3, cv::Scalar(0, 0, 255));
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(strip, ".bmp"), DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, "bmp");
  EXPECT_EQ(decoded->width, 5000);
  EXPECT_EQ(Rgb(decoded->frames[0], 32, 10, 0), kWhite);
  EXPECT_EQ(Rgb(decoded->frames[0], 32, 10, 15), kRed);  // 32x1 line at row (32-1)/2

  DecodeOptions crop;
  crop.fit = FitMode::kCrop;
  const Result<Decoded> cropped = DecodeToFrames(testing::Encode(strip, ".bmp"), crop);
  EXPECT_EQ(Rgb(cropped->frames[0], 32, 10, 0), kRed);
}

TEST(Decode, RealAnimationPicksFourFramesSpreadOverTime) {
  const auto bytes = testing::ReadFileBytes(testing::PixbufTests() / "1_partyanimsm2.gif");
  ASSERT_FALSE(bytes.empty());
  DecodeOptions options;
  options.drop_near_duplicates = false;
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->frames_in_file, 45);
  EXPECT_FALSE(decoded->partial);
  ASSERT_EQ(decoded->frames.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(decoded->frames[i].planar.size(), 3u * 32 * 32);
    const double target = decoded->duration_seconds * i / 4;
    EXPECT_LE(decoded->frames[i].time_seconds, target + 1e-9);
    if (i > 0) {
      EXPECT_GT(decoded->frames[i].index, decoded->frames[i - 1].index);
    }
  }
}

TEST(Decode, GifFramesPlannedFromTheBlockStructureMatchFfmpegTimes) {
  // Only the planned GIF frames are composited; the plan must pick what picking over FFmpeg's
  // own frame times would.
  for (const char* name : {"1_partyanimsm2.gif", "aero.gif", "circular-table.gif"}) {
    const auto bytes = testing::ReadFileBytes(testing::PixbufTests() / name);
    DecodeOptions every;
    every.max_frames = 100000;
    every.drop_near_duplicates = false;
    const Result<Decoded> all = DecodeToFrames(bytes, every);
    ASSERT_TRUE(all.ok()) << name;
    std::vector<double> times;
    for (const Frame& frame : all->frames) times.push_back(frame.time_seconds);
    DecodeOptions four;
    four.drop_near_duplicates = false;
    const Result<Decoded> planned = DecodeToFrames(bytes, four);
    ASSERT_TRUE(planned.ok()) << name;
    std::vector<int> indices;
    for (const Frame& frame : planned->frames) indices.push_back(frame.index);
    EXPECT_EQ(indices, PickSpread(times, all->duration_seconds, 4)) << name;
    EXPECT_NEAR(planned->duration_seconds, all->duration_seconds, 1e-6) << name;
    for (const Frame& frame : planned->frames) {
      EXPECT_EQ(frame.planar, all->frames[frame.index].planar) << name << " " << frame.index;
    }
  }
}

TEST(Decode, TruncatedGifKeepsFramesBeforeTheDamage) {
  auto bytes = testing::ReadFileBytes(testing::PixbufTests() / "aero.gif");
  ASSERT_GT(bytes.size(), 1000u);
  bytes.resize(bytes.size() / 2);
  const Result<Decoded> decoded = DecodeToFrames(bytes, DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->partial);
  EXPECT_EQ(decoded->partial_reason,
            "truncated GIF after frame " + std::to_string(decoded->frames_in_file));
  EXPECT_GT(decoded->frames_in_file, 5);
  EXPECT_LT(decoded->frames_in_file, 56);

  bytes.resize(850);  // inside the first image (bytes 781..884): nothing whole to show
  EXPECT_FALSE(DecodeToFrames(bytes, DecodeOptions{}).ok());
}

TEST(Decode, DecodedFrameLimitStopsEarlyAndFlagsPartial) {
  const auto bytes = testing::ReadFileBytes(testing::PixbufTests() / "aero.gif");
  DecodeOptions options;
  options.max_decoded_frames = 5;
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->frames_in_file, 5);
  EXPECT_TRUE(decoded->partial);
  EXPECT_EQ(decoded->partial_reason, "stopped at the limit of 5 decoded frames");
}

TEST(Decode, TimeBudgetStopsALongDecode) {
  // 45 frames of 660x666 take far longer than 1 ms to decode on any machine.
  const auto bytes = testing::ReadFileBytes(testing::PixbufTests() / "1_partyanimsm2.gif");
  DecodeOptions options;
  options.time_budget_ms = 1;
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  if (decoded.ok()) {
    EXPECT_TRUE(decoded->partial);
    EXPECT_LT(decoded->frames_in_file, 45);
    EXPECT_NE(decoded->partial_reason.find("time budget of 1 ms exceeded"), std::string::npos)
        << decoded->partial_reason;
  } else {
    EXPECT_EQ(decoded.status().code(), StatusCode::kLimitExceeded);
    EXPECT_NE(decoded.status().message().find("time budget"), std::string::npos)
        << decoded.status().ToString();
  }
}

TEST(Decode, HugeGifCanvasIsRefusedFromTheHeader) {
  // A 65535x65535 logical screen and nothing else: refused before any decoder runs.
  const std::vector<uint8_t> bytes = {'G',  'I',  'F', '8',  '9', 'a',  0xff, 0xff, 0xff, 0xff,
                                      0,    0,    0,   0x2c, 0,   0,    0,    0,    0xff, 0xff,
                                      0xff, 0xff, 0,   2,    2,   0x4c, 0x01, 0,    0x3b};
  const Result<Decoded> decoded = DecodeToFrames(bytes, DecodeOptions{});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(decoded.status().message(), "canvas 65535x65535 exceeds limit");
}

TEST(Decode, HugePngCanvasIsRefusedFromTheHeader) {
  testing::PngWriter png(100000, 100000, 6);
  const Result<Decoded> decoded = DecodeToFrames(png.Finish(), DecodeOptions{});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "canvas 100000x100000 exceeds limit");
}

TEST(Decode, FileSizeLimit) {
  cv::Mat image(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
  const std::vector<uint8_t> bytes = testing::Encode(image, ".png");
  DecodeOptions options;
  options.max_file_bytes = bytes.size() - 1;
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kLimitExceeded);
  EXPECT_NE(decoded.status().message().find("exceeds limit"), std::string::npos);
}

TEST(Decode, UnsupportedFormatNamesTheFirstBytes) {
  const std::vector<uint8_t> tiff = {0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01};
  const Result<Decoded> decoded = DecodeToFrames(tiff, DecodeOptions{});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(decoded.status().message(), "unsupported format (first bytes 49 49 2a 00 08 00 00 00)");
  EXPECT_EQ(DecodeToFrames({}, DecodeOptions{}).status().message(),
            "unsupported format (empty file)");
}

TEST(Decode, FullSizeFramesOnRequest) {
  cv::Mat image(5, 7, CV_8UC3, cv::Scalar(0, 0, 255));
  DecodeOptions options;
  options.keep_full_size = true;
  const Result<Decoded> decoded = DecodeToFrames(testing::Encode(image, ".png"), options);
  ASSERT_TRUE(decoded.ok());
  const Frame& frame = decoded->frames[0];
  EXPECT_EQ(frame.full_width, 7);
  EXPECT_EQ(frame.full_height, 5);
  ASSERT_EQ(frame.full_rgb.size(), 7u * 5 * 3);
  EXPECT_EQ(frame.full_rgb[0], 255);
  EXPECT_EQ(frame.full_rgb[1], 0);
}

TEST(Decode, FullSizeFramesOfAnAnimationAreThePickedOnes) {
  // 10 APNG frames, alternating colours; with full-size frames asked for, the frames kept
  // must be the same as without (a first pass picks them), each with its canvas.
  testing::PngWriter png(6, 4, 6);
  png.AnimationControl(10);
  for (int i = 0; i < 10; ++i) {
    png.FrameControl(6, 4, 100);
    const std::vector<uint8_t> pixels = SolidRgba(6, 4, i % 2 ? kBlue : kRed);
    if (i == 0) {
      png.Idat(pixels);
    } else {
      png.FrameData(pixels, 6, 4);
    }
  }
  const std::vector<uint8_t> bytes = png.Finish();
  DecodeOptions options;
  const Result<Decoded> plain = DecodeToFrames(bytes, options);
  options.keep_full_size = true;
  const Result<Decoded> full = DecodeToFrames(bytes, options);
  ASSERT_TRUE(plain.ok() && full.ok());
  ASSERT_EQ(full->frames.size(), plain->frames.size());
  EXPECT_EQ(full->frames_in_file, 10);
  for (size_t i = 0; i < full->frames.size(); ++i) {
    EXPECT_EQ(full->frames[i].index, plain->frames[i].index);
    EXPECT_EQ(full->frames[i].planar, plain->frames[i].planar);
    EXPECT_EQ(full->frames[i].full_width, 6);
    ASSERT_EQ(full->frames[i].full_rgb.size(), 6u * 4 * 3);
    EXPECT_EQ(full->frames[i].full_rgb[0], full->frames[i].index % 2 ? 0 : 255);
  }
}

TEST(Decode, BadOptionsAreInvalidArguments) {
  DecodeOptions options;
  options.size = 0;
  EXPECT_EQ(DecodeToFrames(std::vector<uint8_t>{1}, options).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memes::transform
