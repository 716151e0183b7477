// End-to-end: `memes inspect` on real files from Debian's gdk-pixbuf-tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/harness/run_memes.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kPixbuf = "/usr/libexec/installed-tests/gdk-pixbuf";

TEST(Inspect, GoodFilesExitZeroAndListFrames) {
  const RunResult run = RunMemes({"inspect", (kPixbuf / "aero.gif").string(),
                                  (kPixbuf / "bug725582-testrotate.jpg").string(),
                                  (kPixbuf / "test-image.png").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("aero.gif: gif 350x189, 56 frames in file"), std::string::npos)
      << run.Describe();
  EXPECT_NE(run.out.find("testrotate.jpg: jpeg"), std::string::npos) << run.Describe();
  EXPECT_NE(run.out.find("frame 0"), std::string::npos) << run.Describe();
}

TEST(Inspect, AnyFailedFileExitsOneAndJsonParses) {
  const RunResult run =
      RunMemes({"inspect", "--json", "--keep-duplicates", (kPixbuf / "1_partyanimsm2.gif").string(),
                (kPixbuf / "test-images/fail/DoS.tga").string(),
                (kPixbuf / "test-images/fail/bug785973.gif").string()});
  ASSERT_EQ(run.exit_code, 1) << run.Describe();
  const nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << run.out;
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(report[0]["format"], "gif");
  EXPECT_EQ(report[0]["frames_in_file"], 45);
  ASSERT_EQ(report[0]["frames"].size(), 4u);
  EXPECT_EQ(report[0]["frames"][0]["phash"].get<std::string>().size(), 16u);
  EXPECT_EQ(report[1]["code"], "unsupported");
  EXPECT_NE(report[1]["error"].get<std::string>().find("first bytes 09 00 01 0b"),
            std::string::npos);
  EXPECT_EQ(report[2]["error"], "canvas 65308x65386 exceeds limit");
}

TEST(Inspect, OutWritesFullSizeAndFittedPngs) {
  const fs::path out = fs::temp_directory_path() / ("memes-inspect-" + std::to_string(getpid()));
  fs::remove_all(out);
  const RunResult run = RunMemes(
      {"inspect", "--out", out.string(), "--size", "16", (kPixbuf / "test-image.png").string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const fs::path full = out / "0-test-image.png.frame0.full.png";
  const fs::path fitted = out / "0-test-image.png.frame0.fitted.png";
  ASSERT_TRUE(fs::exists(full)) << run.Describe();
  ASSERT_TRUE(fs::exists(fitted)) << run.Describe();
  // Both are PNGs; the fitted one is 16x16 (IHDR width and height at bytes 16..23).
  const RunResult file = RunProgram({"head", "-c", "24", fitted.string()});
  ASSERT_EQ(file.out.substr(1, 3), "PNG");
  EXPECT_EQ(static_cast<uint8_t>(file.out[19]), 16);
  EXPECT_EQ(static_cast<uint8_t>(file.out[23]), 16);
  EXPECT_GT(fs::file_size(full), fs::file_size(fitted));
  fs::remove_all(out);
}

TEST(Inspect, MissingFileFails) {
  const RunResult run = RunMemes({"inspect", "/nonexistent/x.gif"});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.out.find("error"), std::string::npos) << run.Describe();
}

}  // namespace
}  // namespace memes::testing
