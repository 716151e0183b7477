// The trainer's CPU thread bookkeeping in one place: LibTorch's intra-op count per step (fixed,
// or chosen by ThreadChooser under `--threads auto`), the one matmul probe that is the GFLOP/s
// yardstick, and the per-epoch line of achieved GFLOP/s and steps per thread count.
// Thread-safety: none; the training thread owns it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/thread_chooser.h"

namespace memes::train {

class TrainingThreads {
 public:
  // threads: the count ConfigureThreads set (all cores for auto); auto_threads: choose between 1
  // and `threads` while training (CPU only). Requires: threads >= 1.
  TrainingThreads(int threads, bool auto_threads);

  // Times 512x512 fp32 torch::mm once, at one thread, and returns the log line. The yardstick of
  // an epoch is this per-thread rate times the threads its steps ran at: one probe, whichever
  // count the chooser picks (an all-cores probe on a loaded machine measures the load, and the
  // second probe cost 0.3-1.6 s of start-up on reference BLAS).
  std::string ProbeMatmul();

  // "threads auto (1 or 2, timed while training)" or "2 threads".
  std::string Describe() const;

  // Call before each training step: sets LibTorch's count to the one for this step.
  void BeforeStep();
  // Call after it with its wall time (waiting for the batch excluded) and images. Returns the
  // chooser's decision line when a probe ended, else an empty string.
  std::string AfterStep(double seconds, int64_t images);

  // Call at the start of an epoch (the epoch line counts that epoch's steps only).
  void StartEpoch();
  // The epoch's line for the log, given its training images/s and the model's multiply-adds per
  // image: "training 5.1 GFLOP/s achieved, 41% of the matmul probe's 6.2 per thread x 2.0
  // threads; steps per thread count: 1: 3 2: 27".
  std::string EpochLine(double images_per_second, int64_t macs_per_image) const;

  // The count for the next step (a fixed count never changes).
  int threads() const { return auto_ ? chooser_.threads() : threads_; }

 private:
  int threads_;
  bool auto_;
  ThreadChooser chooser_;
  double probe_gflops_per_thread_ = 0;
  std::vector<int64_t> steps_at_epoch_start_;
};

}  // namespace memes::train
