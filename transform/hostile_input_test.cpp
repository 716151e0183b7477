// Every damaged or invalid file of Debian's gdk-pixbuf-tests (fail/, randomly-modified/) and
// every real image beside them must give a result or an error: no crash, hang or exception.
// The sanitizer build (scripts/sanitize.sh) runs this under AddressSanitizer and UBSan.
#include <gtest/gtest.h>

#include <algorithm>

#include "transform/frames.h"
#include "transform/test_util.h"

namespace memes::transform {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Decodes `path` and checks the result is well-formed either way. Returns it for more checks.
Result<Decoded> DecodeChecked(const fs::path& path) {
  const std::vector<uint8_t> bytes = testing::ReadFileBytes(path);
  DecodeOptions options;
  options.keep_full_size = true;
  const Result<Decoded> decoded = DecodeToFrames(bytes, options);
  if (!decoded.ok()) {
    EXPECT_FALSE(decoded.status().message().empty()) << path;
    return decoded;
  }
  EXPECT_FALSE(decoded->frames.empty()) << path;
  EXPECT_GE(decoded->frames_in_file, static_cast<int>(decoded->frames.size())) << path;
  EXPECT_EQ(decoded->partial, !decoded->partial_reason.empty()) << path;
  for (const Frame& frame : decoded->frames) {
    EXPECT_EQ(frame.planar.size(), 3u * 32 * 32) << path;
    EXPECT_EQ(frame.full_rgb.size(), size_t(frame.full_width) * frame.full_height * 3) << path;
  }
  return decoded;
}

bool IsFormatWeDecode(const fs::path& path) {
  const std::string extension = path.extension().string();
  for (const char* known : {".gif", ".png", ".jpg", ".jpeg", ".bmp", ".webp"}) {
    if (extension == known) return true;
  }
  return false;
}

TEST(HostileInput, FailFolderGivesErrors) {
  const std::vector<fs::path> files = FilesIn(testing::PixbufImages() / "fail");
  ASSERT_GE(files.size(), 30u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.filename().string());
    const Result<Decoded> decoded = DecodeChecked(path);
    if (!IsFormatWeDecode(path)) {
      // TGA, ICO, ICNS, TIFF, PPM, XPM: not ours, and said so.
      ASSERT_FALSE(decoded.ok());
      EXPECT_EQ(decoded.status().code(), StatusCode::kUnsupported) << decoded.status().ToString();
    }
    RecordProperty(path.filename().string(),
                   decoded.ok() ? "decoded" : decoded.status().ToString());
  }
}

TEST(HostileInput, RandomlyModifiedFolderDecodesOrErrs) {
  const std::vector<fs::path> files = FilesIn(testing::PixbufImages() / "randomly-modified");
  ASSERT_GE(files.size(), 20u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.filename().string());
    const Result<Decoded> decoded = DecodeChecked(path);
    RecordProperty(path.filename().string(),
                   decoded.ok() ? "decoded" : decoded.status().ToString());
  }
}

TEST(HostileInput, FuzzerFindingsGiveErrors) {
  // transform/testdata/: inputs the fuzzer found that once crashed or exhausted memory.
  // mp4-huge-sample-index.mp4: 1.5 kB declaring millions of samples; the mov demuxer
  // allocated their index (GBs) until av_max_alloc capped FFmpeg's allocations.
  const std::vector<fs::path> files = FilesIn(MEMES_TRANSFORM_TESTDATA);
  ASSERT_GE(files.size(), 1u);
  for (const fs::path& path : files) {
    const Result<Decoded> decoded = DecodeChecked(path);
    EXPECT_FALSE(decoded.ok()) << path;
  }
}

TEST(HostileInput, RealImagesDecode) {
  for (const char* name : {"1_partyanimsm2.gif", "aero.gif"}) {
    const Result<Decoded> decoded = DecodeChecked(testing::PixbufTests() / name);
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status().ToString();
    EXPECT_FALSE(decoded->partial) << decoded->partial_reason;
  }
}

TEST(HostileInput, EveryPrefixOfAnAnimationDecodesOrErrs) {
  // Cutting a real GIF at every 97th byte of its header and first frames, then at 64 points
  // over the rest, walks the truncation paths of demuxer and decoder.
  const std::vector<uint8_t> bytes =
      testing::ReadFileBytes(testing::PixbufTests() / "1_partyanimsm2.gif");
  ASSERT_FALSE(bytes.empty());
  for (size_t length = 0; length < bytes.size(); length += length < 4000 ? 97 : bytes.size() / 64) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
    const Result<Decoded> decoded = DecodeToFrames(prefix, DecodeOptions{});
    if (decoded.ok()) {
      EXPECT_TRUE(decoded->partial) << length;
      EXPECT_FALSE(decoded->frames.empty()) << length;
    }
  }
}

}  // namespace
}  // namespace memes::transform
