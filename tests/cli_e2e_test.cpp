// End-to-end checks of the CLI surface: versions, help of every subcommand, exit statuses.
#include <gtest/gtest.h>

#include "tests/harness/run_memes.h"

namespace memes::testing {
namespace {

TEST(Cli, VersionNamesEveryLibrary) {
  const RunResult run = RunMemes({"--version"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const char* library :
       {"memes 0.1.0", "LibTorch", "FFmpeg", "OpenCV", "oneTBB", "libcurl", "SQLite"}) {
    EXPECT_NE(run.out.find(library), std::string::npos) << library << "\n" << run.Describe();
  }
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* command : {"crawl", "inspect", "pack", "label", "preview", "verify", "train",
                              "eval", "predict", "demo"}) {
    const RunResult run = RunMemes({command, "--help"});
    EXPECT_EQ(run.exit_code, 0) << command << "\n" << run.Describe();
    EXPECT_NE(run.out.find(command), std::string::npos) << run.Describe();
  }
}

TEST(Cli, NoSubcommandIsAUsageError) {
  const RunResult run = RunMemes({});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
}

TEST(Cli, VerboseAndQuietTogetherIsAUsageError) {
  const RunResult run = RunMemes({"-v", "-q", "--version"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
}

}  // namespace
}  // namespace memes::testing
