#include "train/training_threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "train/model.h"

namespace memes::train {
namespace {

ThreadChooserOptions ChooserOptions(int threads, bool auto_threads) {
  ThreadChooserOptions options;
  options.max_threads = auto_threads ? threads : 1;
  return options;
}

}  // namespace

TrainingThreads::TrainingThreads(int threads, bool auto_threads)
    : threads_(threads),
      auto_(auto_threads && threads > 1),
      chooser_(ChooserOptions(threads, auto_threads && threads > 1)),
      steps_at_epoch_start_(chooser_.steps_at()) {
  assert(threads >= 1);
}

std::string TrainingThreads::ProbeMatmul() {
  at::set_num_threads(1);
  probe_gflops_per_thread_ = MatmulGflops();
  at::set_num_threads(threads());
  char line[128];
  std::snprintf(line, sizeof line,
                "matmul probe: %.1f GFLOP/s on 1 thread (512x512 fp32 torch::mm)",
                probe_gflops_per_thread_);
  return line;
}

std::string TrainingThreads::Describe() const {
  if (auto_) return "threads auto (1 or " + std::to_string(threads_) + ", timed while training)";
  return std::to_string(threads_) + (threads_ == 1 ? " thread" : " threads");
}

void TrainingThreads::BeforeStep() {
  if (auto_ && at::get_num_threads() != chooser_.threads()) at::set_num_threads(chooser_.threads());
}

std::string TrainingThreads::AfterStep(double seconds, int64_t images) {
  if (!auto_) return {};
  auto line = chooser_.Record(seconds, images);
  return line ? *line : std::string();
}

void TrainingThreads::StartEpoch() { steps_at_epoch_start_ = chooser_.steps_at(); }

std::string TrainingThreads::EpochLine(double images_per_second, int64_t macs_per_image) const {
  // The threads the epoch's steps ran at, on average (a fixed count: that count).
  double thread_steps = 0, steps = 0;
  std::string counts;
  for (size_t t = 1; auto_ && t < chooser_.steps_at().size(); ++t) {
    const int64_t n = chooser_.steps_at()[t] - steps_at_epoch_start_[t];
    if (n <= 0) continue;
    thread_steps += static_cast<double>(t) * n;
    steps += n;
    counts += " " + std::to_string(t) + ": " + std::to_string(n);
  }
  const double mean_threads = steps > 0 ? thread_steps / steps : threads_;
  // Training is ~3 forward passes of work per image (forward, two backward products).
  const double gflops = 3.0 * 2.0 * static_cast<double>(macs_per_image) * images_per_second / 1e9;
  const double yardstick = probe_gflops_per_thread_ * mean_threads;
  char line[192];
  std::snprintf(line, sizeof line,
                "  training %.1f GFLOP/s achieved, %.0f%% of the matmul probe's %.1f per thread x "
                "%.1f %s",
                gflops, 100 * gflops / std::max(1e-9, yardstick), probe_gflops_per_thread_,
                mean_threads, mean_threads == 1.0 ? "thread" : "threads");
  std::string text = line;
  if (!counts.empty()) text += "; steps per thread count:" + counts;
  return text;
}

}  // namespace memes::train
