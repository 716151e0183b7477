// TrainingThreads: the trainer's one call site for thread counts, the matmul probe and the
// per-epoch GFLOP/s line.
#include "train/training_threads.h"

#include <gtest/gtest.h>

#include <ATen/Parallel.h>

namespace memes::train {
namespace {

TEST(TrainingThreadsTest, FixedCountNeverProbesOrChanges) {
  TrainingThreads plan(2, /*auto_threads=*/false);
  EXPECT_EQ(plan.Describe(), "2 threads");
  plan.ProbeMatmul();
  EXPECT_EQ(at::get_num_threads(), 2);  // the probe ran at 1 thread, then restored the count
  for (int step = 0; step < 50; ++step) {
    plan.BeforeStep();
    EXPECT_EQ(plan.AfterStep(0.01, 64), "");
    EXPECT_EQ(plan.threads(), 2);
  }
  EXPECT_EQ(plan.EpochLine(100, 1000000).find("steps per thread count"), std::string::npos);
  at::set_num_threads(1);
}

TEST(TrainingThreadsTest, AutoStartsAtOneThreadAndCountsEachEpochsSteps) {
  TrainingThreads plan(2, /*auto_threads=*/true);
  EXPECT_EQ(plan.threads(), 1);
  EXPECT_NE(plan.Describe().find("threads auto (1 or 2"), std::string::npos);
  plan.StartEpoch();
  std::string decision;
  // Two threads twice as fast per image: the first probe keeps them.
  for (int step = 0; step < 8 && decision.empty(); ++step) {
    plan.BeforeStep();
    EXPECT_EQ(at::get_num_threads(), plan.threads());
    decision = plan.AfterStep(plan.threads() == 1 ? 0.2 : 0.1, 64);
  }
  EXPECT_NE(decision.find("-> 2 threads"), std::string::npos) << decision;
  const std::string line = plan.EpochLine(100, 1000000);
  EXPECT_NE(line.find("steps per thread count: 1: 4 2: 4"), std::string::npos) << line;
  plan.StartEpoch();  // a new epoch counts from zero
  plan.BeforeStep();
  plan.AfterStep(0.1, 64);
  EXPECT_NE(plan.EpochLine(100, 1000000).find("steps per thread count: 2: 1"), std::string::npos)
      << plan.EpochLine(100, 1000000);
  at::set_num_threads(1);
}

}  // namespace
}  // namespace memes::train
