// End-to-end: `memes train` as two ranks of a Gloo process group on 127.0.0.1 (each the real
// binary, launched with torchrun's variables): the same weights as one process with the global
// batch, a clear error instead of a hang when a rank dies or stops, and a 2-rank checkpoint
// resumed by one process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "tests/harness/run_memes.h"
#include "train/checkpoint.h"
#include "train/test_shards.h"

namespace memes {
namespace {

namespace fs = std::filesystem;
using memes::testing::RunMemes;
using memes::testing::RunOptions;
using memes::testing::RunResult;

// A TCP port nobody listens on now (the kernel's pick for a socket bound to port 0).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::string> RankEnv(int rank, int world, int port) {
  return {"RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(world),
          "LOCAL_RANK=" + std::to_string(rank), "MASTER_ADDR=127.0.0.1",
          "MASTER_PORT=" + std::to_string(port)};
}

// Largest absolute difference between two checkpoints' parameters and buffers.
double MaxDifference(const fs::path& a, const fs::path& b) {
  auto first = train::LoadModel(a);
  auto second = train::LoadModel(b);
  EXPECT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(second.ok()) << second.status().ToString();
  if (!first.ok() || !second.ok()) return 1e9;
  auto x = first->model->named_parameters();
  auto y = second->model->named_parameters();
  double worst = 0;
  for (const auto& item : x) {
    const auto* other = y.find(item.key());
    EXPECT_NE(other, nullptr) << item.key();
    if (other == nullptr) return 1e9;
    worst = std::max(worst, (item.value() - *other).abs().max().item<double>());
  }
  auto xb = first->model->named_buffers();
  auto yb = second->model->named_buffers();
  for (const auto& item : xb) {
    worst = std::max(worst, (item.value().to(torch::kDouble) - yb[item.key()].to(torch::kDouble))
                                .abs()
                                .max()
                                .item<double>());
  }
  return worst;
}

class TrainDdpE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_train_ddp_e2e_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    train::testing::ShardFolderSpec spec;
    spec.classes = {"kumamon", "shiba", "doge"};
    spec.train_shards = {train::testing::SyntheticImages(192, 3, 32, 1),
                         train::testing::SyntheticImages(192, 3, 32, 700)};
    spec.test = train::testing::SyntheticImages(30, 3, 32, 9000);
    ASSERT_TRUE(train::testing::WriteShardFolder(root_ / "shards", spec));
  }
  void TearDown() override { fs::remove_all(root_); }

  // The recipe every run here shares: 384 records = 3 global batches of 128 an epoch, no
  // augmentation (its draws are keyed by position in the rank's batch), BatchNorm over the
  // global batch so that 2 x 64 and 1 x 128 compute the same thing.
  std::vector<std::string> Train(const fs::path& run, std::vector<std::string> extra) const {
    std::vector<std::string> args = {"train",
                                     (root_ / "shards").string(),
                                     "-o",
                                     run.string(),
                                     "--preset",
                                     "tiny",
                                     "--batch-size",
                                     "128",
                                     "--no-augment",
                                     "--threads",
                                     "1",
                                     "--lr",
                                     "0.05",
                                     "--seed",
                                     "11",
                                     "--sync-bn",
                                     "--dist-timeout",
                                     "20",
                                     "--no-verify"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Runs rank 0 and rank 1 at once; returns both results.
  std::pair<RunResult, RunResult> RunTwoRanks(const std::vector<std::string>& args) const {
    const int port = FreePort();
    auto rank1 = std::async(std::launch::async, [&] {
      RunOptions options;
      options.extra_env = RankEnv(1, 2, port);
      return RunMemes(args, options);
    });
    RunOptions options;
    options.extra_env = RankEnv(0, 2, port);
    RunResult rank0 = RunMemes(args, options);
    return {rank0, rank1.get()};
  }

  RunResult RunOneProcess(const std::vector<std::string>& args) const {
    RunOptions options;
    options.extra_env = {"RANK=0", "WORLD_SIZE=1"};  // not a rank of a launcher around the test
    return RunMemes(args, options);
  }

  fs::path root_;
};

TEST_F(TrainDdpE2eTest, TwoRanksOfHalfTheBatchMatchOneProcess) {
  const fs::path one = root_ / "one", two = root_ / "two";
  auto single = RunOneProcess(Train(one, {"--epochs", "1"}));
  ASSERT_EQ(single.exit_code, 0) << single.Describe();
  auto [rank0, rank1] = RunTwoRanks(Train(two, {"--epochs", "1"}));
  ASSERT_EQ(rank0.exit_code, 0) << rank0.Describe();
  ASSERT_EQ(rank1.exit_code, 0) << rank1.Describe();
  EXPECT_NE(rank1.err.find("memes[1/2]: "), std::string::npos) << rank1.err;
  EXPECT_NE(rank0.err.find("rank 0 of 2"), std::string::npos) << rank0.err;
  // Only rank 0 wrote (the files would be the same otherwise; an e2e cannot tell who wrote).
  EXPECT_TRUE(fs::exists(two / "metrics.jsonl"));
  EXPECT_EQ(rank1.err.find("epoch 1/1:"), std::string::npos) << rank1.err;
  // 3 SGD steps with momentum; the sums of two halves differ from one sum in the last bits.
  EXPECT_LT(MaxDifference(one / "last.pt", two / "last.pt"), 2e-4);
}

// A rank killed mid-run: the other's next collective sees the closed connection and it exits
// with an error that says what happened, well before the test harness's timeout.
TEST_F(TrainDdpE2eTest, KilledRankEndsTheOtherWithAClearError) {
  const int port = FreePort();
  const fs::path run = root_ / "killed";
  const fs::path rank1_log = root_ / "rank1.err";
  std::string command = "\"" + memes::testing::MemesBinary().string() + "\"";
  for (const auto& arg : Train(run, {"--epochs", "50"})) command += " '" + arg + "'";
  // Rank 1 is killed (SIGKILL: no clean-up) once it says it joined the group.
  const std::string script = command + " 2>'" + rank1_log.string() +
                             "' & pid=$!; until grep -q 'process group' '" + rank1_log.string() +
                             "'; do sleep 0.05; done; kill -9 $pid; wait $pid; exit 0";
  auto rank1 = std::async(std::launch::async, [&] {
    RunOptions options;
    options.extra_env = RankEnv(1, 2, port);
    options.timeout = std::chrono::seconds(120);
    return memes::testing::RunProgram({"sh", "-c", script}, options);
  });
  RunOptions options;
  options.extra_env = RankEnv(0, 2, port);
  options.timeout = std::chrono::seconds(120);
  auto rank0 = RunMemes(Train(run, {"--epochs", "50"}), options);
  auto killer = rank1.get();
  EXPECT_EQ(killer.exit_code, 0) << killer.Describe();
  EXPECT_FALSE(rank0.timed_out) << rank0.Describe();
  EXPECT_NE(rank0.exit_code, 0) << rank0.Describe();
  EXPECT_NE(rank0.err.find("another rank exited or stopped answering"), std::string::npos)
      << rank0.Describe();
}

// A rank that stops answering (SIGSTOP) is waited for --dist-timeout seconds, not forever.
TEST_F(TrainDdpE2eTest, StoppedRankFailsTheOtherAfterTheTimeout) {
  const int port = FreePort();
  const fs::path run = root_ / "stopped";
  const fs::path rank1_log = root_ / "rank1.err";
  std::vector<std::string> args = Train(run, {"--epochs", "50"});
  for (auto& arg : args) {
    if (arg == "20") arg = "3";  // --dist-timeout 3
  }
  std::string command = "\"" + memes::testing::MemesBinary().string() + "\"";
  for (const auto& arg : args) command += " '" + arg + "'";
  const std::string script = command + " 2>'" + rank1_log.string() +
                             "' & pid=$!; until grep -q 'process group' '" + rank1_log.string() +
                             "'; do sleep 0.05; done; kill -STOP $pid; "
                             "read line; kill -9 $pid; exit 0";
  // The script holds rank 1 stopped until its stdin closes (after rank 0 has exited).
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // Only the script may hold the read end; nobody else the write end (rank 0 would keep it
  // open, and so would the script itself, and its `read` would never end).
  ASSERT_EQ(::fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC), 0);
  auto rank1 = std::async(std::launch::async, [&] {
    RunOptions options;
    options.extra_env = RankEnv(1, 2, port);
    options.timeout = std::chrono::seconds(120);
    return memes::testing::RunProgram(
        {"sh", "-c", "exec 0<&" + std::to_string(pipe_fds[0]) + "; " + script}, options);
  });
  RunOptions options;
  options.extra_env = RankEnv(0, 2, port);
  options.timeout = std::chrono::seconds(120);
  auto rank0 = RunMemes(args, options);
  ::close(pipe_fds[1]);
  rank1.get();
  ::close(pipe_fds[0]);
  EXPECT_FALSE(rank0.timed_out) << rank0.Describe();
  EXPECT_NE(rank0.exit_code, 0) << rank0.Describe();
  EXPECT_NE(rank0.err.find("another rank exited or stopped answering"), std::string::npos)
      << rank0.Describe();
}

TEST_F(TrainDdpE2eTest, TwoRankCheckpointResumesInOneProcess) {
  const fs::path reference = root_ / "reference", run = root_ / "resumed";
  auto straight = RunOneProcess(Train(reference, {"--epochs", "2"}));
  ASSERT_EQ(straight.exit_code, 0) << straight.Describe();
  // Two ranks stop after 4 of the 6 steps (mid-epoch 2); one process finishes the run.
  auto [rank0, rank1] = RunTwoRanks(Train(run, {"--epochs", "2", "--stop-after-steps", "4"}));
  ASSERT_EQ(rank0.exit_code, 130) << rank0.Describe();
  ASSERT_EQ(rank1.exit_code, 130) << rank1.Describe();
  auto resumed =
      RunOneProcess({"train", "-o", run.string(), "--resume", "--threads", "1", "--no-verify"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_LT(MaxDifference(reference / "last.pt", run / "last.pt"), 5e-4);
}

}  // namespace
}  // namespace memes
