// Data-parallel training on LibTorch's c10d: one DataParallel per rank owns the process group
// (Gloo on the CPU; NCCL on CUDA when LibTorch was built with it), broadcasts rank 0's weights,
// averages gradients with bucketed all-reduces launched from per-parameter gradient hooks while
// backward still runs, and optionally synchronises BatchNorm statistics across ranks.
// Every collective must be called by every rank in the same order; a rank that dies or stops
// answering makes the others' next collective fail within the timeout (a Status, not a hang).
// Thread-safety: one training thread per DataParallel; the gradient hooks may run on autograd's
// threads and take an internal lock.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "core/status.h"
#include "train/dist_env.h"
#include "train/model.h"
#include "train/train_api.h"

namespace memes::train {

class DataParallel {
 public:
  // Joins the process group `env` describes (a world of one needs no group: every call below is
  // then a no-op). `timeout` bounds the rendezvous and every collective.
  static Result<std::unique_ptr<DataParallel>> Start(const DistEnv& env, torch::Device device,
                                                     std::chrono::seconds timeout);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool IsRank0() const { return env_.rank == 0; }
  bool distributed() const { return env_.distributed(); }

  // Copies rank 0's parameters and buffers (BatchNorm running statistics) to every rank.
  Status BroadcastParameters(torch::nn::Module& model);

  // Registers a gradient hook on each parameter: a gradient that backward produces is copied
  // into its ~bucket_bytes flat bucket, and a full bucket's all-reduce starts at once (in bucket
  // order, the same on every rank). Requires: called once, before the first backward.
  void WatchGradients(const std::vector<torch::Tensor>& parameters,
                      int64_t bucket_bytes = 25 << 20);
  // After backward: starts the buckets not yet started (a parameter without a gradient counts
  // as zeros), waits for all, and writes the mean over ranks into every parameter's grad.
  Status AverageGradients();

  // True on every rank when `flag` is true on any (a Ctrl-C or --stop-after-steps on one rank
  // stops all at the same step).
  Result<bool> AnyRank(bool flag);
  // An epoch's training sums (loss × images, correct answers, images) over all ranks, in place.
  Status SumEpochTotals(double& loss_sum, int64_t& correct, int64_t& seen);

  // Makes `model`'s BatchNorm layers normalise with the mean and variance of the whole global
  // batch (all ranks) in training mode; eval mode still uses the running statistics.
  void SynchroniseBatchNorm(SeResNeXtImpl& model);

 private:
  struct Group;  // the c10d process group and the buckets (LibTorch's distributed headers)
  explicit DataParallel(const DistEnv& env);

  DistEnv env_;
  std::unique_ptr<Group> group_;
};

// Reads the launcher's variables (ReadDistEnv), puts "[rank/world]" in the log prefix, checks
// that --batch-size divides evenly over the ranks and joins the group with --dist-timeout.
Result<std::unique_ptr<DataParallel>> StartDataParallel(const TrainOptions& options);

}  // namespace memes::train
