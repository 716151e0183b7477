#include "tests/harness/run_memes.h"

#include <gtest/gtest.h>

namespace memes::testing {
namespace {

TEST(RunMemes, HelpListsEverySubcommand) {
  const RunResult run = RunMemes({"--help"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const char* command : {"crawl", "inspect", "pack", "label", "preview", "verify", "train",
                              "eval", "predict", "demo"}) {
    EXPECT_NE(run.out.find(command), std::string::npos) << command << "\n" << run.Describe();
  }
}

TEST(RunMemes, UnknownOptionIsAUsageError) {
  const RunResult run = RunMemes({"--no-such-option"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("--no-such-option"), std::string::npos) << run.Describe();
}

TEST(RunProgram, CapturesBothStreamsAndExitCode) {
  const RunResult run = RunProgram({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.out, "out\n");
  EXPECT_EQ(run.err, "err\n");
}

TEST(RunProgram, KillsAChildThatOverstays) {
  const RunResult run = RunProgram({"sleep", "30"}, {.timeout = std::chrono::seconds(1)});
  EXPECT_TRUE(run.timed_out);
  EXPECT_EQ(run.signal, SIGKILL);
}

TEST(RunProgram, MissingProgram) {
  const RunResult run = RunProgram({"/nonexistent/program"});
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_NE(run.err.find("/nonexistent/program"), std::string::npos);
}

}  // namespace
}  // namespace memes::testing
