// Kill test: children writing the catalog (memes_store_fill, one transaction per item, like the
// crawl) or packing (the real `memes pack`) are killed with SIGKILL at random moments; after
// every kill the store and its shards verify, and the next pack succeeds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/harness/run_memes.h"

extern char** environ;

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

// Starts `args` with stdout/stderr to /dev/null; returns the pid (or -1).
pid_t SpawnQuiet(const std::vector<std::string>& args) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

TEST(StoreKill, SigkillAtRandomMomentsNeverBreaksTheStoreOrTheShards) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes-store-kill-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  // A private copy of the binary: a concurrent relink of build/memes must not fail a round.
  fs::create_directories(dir);
  const std::string memes = (dir / "memes").string();
  fs::copy_file(MemesBinary(), memes);
  auto run_memes = [&](std::vector<std::string> args) {
    args.insert(args.begin(), memes);
    return RunProgram(args);
  };
  const std::string store = (dir / "store").string();
  const std::string shards = (dir / "store" / "shards").string();
  RunResult run = RunProgram({MEMES_STORE_FILL_PATH, store, "--items", "300", "--classes", "4"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = run_memes({"pack", "--store", store});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();

  std::mt19937 random(12345);
  int next_item = 300, kills = 0;
  for (int round = 0; round < 24; ++round) {
    const bool packing = round % 2 == 1;
    std::vector<std::string> args;
    if (packing) {
      args = {memes, "-q", "pack", "--store", store};
    } else {
      args = {MEMES_STORE_FILL_PATH,     store,       "--items", "200", "--first",
              std::to_string(next_item), "--classes", "4"};
      next_item += 200;
    }
    const pid_t pid = SpawnQuiet(args);
    ASSERT_GT(pid, 0);
    const int delay_ms = std::uniform_int_distribution<int>(0, packing ? 900 : 600)(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kills += ::kill(pid, SIGKILL) == 0;
    int status = 0;
    ::waitpid(pid, &status, 0);

    run = run_memes({"verify", shards, "--store", store});
    ASSERT_EQ(run.exit_code, 0) << "round " << round << " (" << (packing ? "pack" : "fill")
                                << ", killed after " << delay_ms << " ms)\n"
                                << run.Describe();
  }
  EXPECT_GE(kills, 20);
  run = run_memes({"pack", "--store", store});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = run_memes({"verify", shards, "--store", store});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
  for (const auto& entry : fs::directory_iterator(dir / "store")) {
    EXPECT_EQ(entry.path().filename().string().find("shards.tmp-"), std::string::npos)
        << "a finished pack leaves no temporary output: " << entry.path();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::testing
