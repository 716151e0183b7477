// The `--threads auto` chooser on injected step times (no clock, no threads): what it probes,
// what it keeps, what probing a bad count costs, and how it follows a load that comes and goes.
#include "train/thread_chooser.h"

#include <gtest/gtest.h>

#include <functional>

namespace memes::train {
namespace {

constexpr int64_t kBatch = 100;

// Seconds a step of kBatch images takes at `threads` during step number `step`.
using StepTime = std::function<double(int threads, int step)>;

struct Simulation {
  double seconds = 0;              // the run's total
  std::vector<std::string> lines;  // the decisions logged
  std::vector<int> threads;        // per step
};

Simulation Simulate(ThreadChooser& chooser, int steps, const StepTime& time) {
  Simulation run;
  for (int step = 0; step < steps; ++step) {
    const int threads = chooser.threads();
    const double seconds = time(threads, step);
    run.seconds += seconds;
    run.threads.push_back(threads);
    if (auto line = chooser.Record(seconds, kBatch)) run.lines.push_back(*line);
  }
  return run;
}

TEST(ThreadChooser, ProbesOneThreadFirstThenAllCoresAndKeepsTheFaster) {
  ThreadChooser chooser(ThreadChooserOptions{});  // 2 cores, 1 warm-up + 3 measured steps each
  const Simulation run = Simulate(chooser, 12, [](int threads, int) {
    return threads == 1 ? 1.0 : 0.6;  // idle cores: 2 threads 1.67x faster
  });
  EXPECT_EQ(run.threads, (std::vector<int>{1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2}));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_EQ(run.lines[0],
            "threads auto: 1 thread 100 img/s, 2 threads 167 img/s -> 2 threads; next check in "
            "20 s or on a slowdown");
  EXPECT_EQ(chooser.threads(), 2);
}

TEST(ThreadChooser, MoreThreadsMustBeClearlyFasterToBeKept) {
  ThreadChooser chooser(ThreadChooserOptions{});
  // 5% faster with twice the cores: not worth taking the second core from its other users.
  const Simulation run =
      Simulate(chooser, 12, [](int threads, int) { return threads == 1 ? 1.0 : 0.95; });
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_NE(run.lines[0].find("-> 1 thread;"), std::string::npos) << run.lines[0];
  EXPECT_EQ(run.threads.back(), 1);
}

TEST(ThreadChooser, ASlowChallengerIsStoppedAfterOneStep) {
  ThreadChooser chooser(ThreadChooserOptions{});
  // A busy second core: 2 OpenMP threads 30x slower (measured 10-35x in docs/benchmarks.md).
  const Simulation run =
      Simulate(chooser, 10, [](int threads, int) { return threads == 1 ? 1.0 : 30.0; });
  EXPECT_EQ(chooser.steps_at()[2], 1);
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_NE(run.lines[0].find("2 threads 3 img/s (stopped after 1 step) -> 1 thread"),
            std::string::npos)
      << run.lines[0];
  // The next probe waits 10x what this one cost beyond 1 thread (29 s): 290 s.
  EXPECT_NE(run.lines[0].find("next check in 290 s"), std::string::npos) << run.lines[0];
}

TEST(ThreadChooser, NeverMuchSlowerThanOneThreadOnABusyMachine) {
  // Over a long run where more threads are always 30x slower, probing costs at most ~10%.
  ThreadChooser chooser(ThreadChooserOptions{});
  const int steps = 3000;
  const Simulation run =
      Simulate(chooser, steps, [](int threads, int) { return threads == 1 ? 0.1 : 3.0; });
  const double one_thread_only = steps * 0.1;
  EXPECT_LT(run.seconds, 1.12 * one_thread_only) << run.seconds;
  EXPECT_GE(chooser.decisions(), 2);  // it kept checking, the load might have gone
}

TEST(ThreadChooser, FollowsALoadThatComesAndGoes) {
  ThreadChooserOptions options;
  options.min_exploit_seconds = 5;
  ThreadChooser chooser(options);
  // Steps 0-99 idle (2 threads faster), 100-199 a busy second core (2 threads 20x slower than
  // 1), from 200 on idle again.
  auto busy = [](int step) { return step >= 100 && step < 200; };
  auto time = [&](int threads, int step) {
    if (threads == 1) return busy(step) ? 0.2 : 0.1;  // one thread shares its core too
    return busy(step) ? 4.0 : 0.06;
  };
  const int steps = 1000;
  const Simulation run = Simulate(chooser, steps, time);
  EXPECT_EQ(run.threads[99], 2);
  // The slowdown is noticed within a few steps of its start, not at the next periodic check.
  int first_one_after_load = -1;
  for (int step = 100; step < 200 && first_one_after_load < 0; ++step) {
    if (run.threads[step] == 1) first_one_after_load = step;
  }
  EXPECT_GE(first_one_after_load, 100);
  EXPECT_LE(first_one_after_load, 104);
  EXPECT_EQ(run.threads[150], 1);
  EXPECT_EQ(run.threads.back(), 2);  // the periodic check found the free core again
  // Better than either fixed count over the whole run.
  double fixed_one = 0, fixed_two = 0;
  for (int step = 0; step < steps; ++step) {
    fixed_one += time(1, step);
    fixed_two += time(2, step);
  }
  EXPECT_LT(run.seconds, fixed_one) << run.seconds;
  EXPECT_LT(run.seconds, fixed_two) << run.seconds;
  EXPECT_LT(run.seconds, 0.85 * fixed_one) << run.seconds;
}

TEST(ThreadChooser, ProbesLessOftenWhileTheChoiceHolds) {
  // Idle cores all along: every probe keeps 2 threads, and each doubles the wait to the next
  // (20, 40, 80, then capped at 8x: 160 s), so probing 1 thread costs a few steps in all.
  ThreadChooser chooser(ThreadChooserOptions{});
  const Simulation run =
      Simulate(chooser, 2000, [](int threads, int) { return threads == 1 ? 1.0 : 0.6; });
  ASSERT_GE(run.lines.size(), 6u);
  const char* waits[] = {"20 s", "40 s", "80 s", "160 s", "160 s", "160 s"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NE(run.lines[i].find(std::string("-> 2 threads; next check in ") + waits[i]),
              std::string::npos)
        << run.lines[i];
  }
  // Without the backoff a probe came every 20 s: ~55 probes, ~220 steps at 1 thread.
  EXPECT_LE(chooser.steps_at()[1], 60);
}

TEST(ThreadChooser, OneCoreNeverProbes) {
  ThreadChooserOptions options;
  options.max_threads = 1;
  ThreadChooser chooser(options);
  const Simulation run = Simulate(chooser, 50, [](int, int) { return 1.0; });
  EXPECT_TRUE(run.lines.empty());
  EXPECT_EQ(chooser.steps_at()[1], 50);
  EXPECT_EQ(chooser.decisions(), 0);
}

TEST(ThreadChooser, ComparesTimePerImageNotPerStep) {
  ThreadChooser chooser(ThreadChooserOptions{});
  // 2 threads see half-size batches (an epoch's last batch) in the same time: 2x faster per image.
  for (int step = 0; step < 8; ++step) {
    const bool two = chooser.threads() == 2;
    chooser.Record(1.0, two ? kBatch * 2 : kBatch);
  }
  EXPECT_EQ(chooser.threads(), 2);
}

}  // namespace
}  // namespace memes::train
