// Prefetches training batches on a background thread while the model runs: each batch is
// assembled (in parallel, oneTBB) straight into a float tensor, pinned when CUDA is in use.
// Thread-safety: one consumer thread calls Next(); the producer thread is internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <ATen/core/Tensor.h>

#include "train/batch_assembly.h"

namespace memes::train {

struct HostBatch {
  int64_t index = 0;  // batch number within the epoch
  at::Tensor images;  // (N, 3, S, S) float32, normalised (pinned on CUDA runs)
  at::Tensor labels;  // (N) int64
};

class BatchPrefetcher {
 public:
  // Batches `order` in chunks of batch_size, starting at batch `first_batch`. Batch b is
  // augmented with seed Mix64(seed ^ b) when `augment`. At most `depth` batches wait ready.
  // `assembly_threads` bounds the oneTBB arena that assembles each batch. When the model runs
  // on the CPU give it 1: the producer then assembles on its own thread (~0.25 ms per
  // 128-image batch) and no TBB worker wakes up to preempt LibTorch's OpenMP threads, which
  // measured 4x slower training on 2 cores (bench/train_loader_bench, docs/benchmarks.md).
  // Requires: `dataset` and `table` outlive the prefetcher.
  BatchPrefetcher(const ShardDataset& dataset, Split split, std::vector<uint32_t> order,
                  int batch_size, bool augment, uint64_t seed, const NormalizeTable& table,
                  bool pin_memory, int64_t first_batch = 0, int assembly_threads = 1, int depth = 3,
                  const AugmentOptions& augment_options = {});
  ~BatchPrefetcher();  // stops the producer and joins it
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch in order, or nullopt after the last.
  std::optional<HostBatch> Next();
  int64_t batch_count() const { return batch_count_; }
  // Batches per pass over `records`; a trailing batch of one image is dropped when training
  // (BatchNorm cannot train on it).
  static int64_t BatchCount(size_t records, int batch_size, bool training);

 private:
  void Produce();

  const ShardDataset& dataset_;
  Split split_;
  std::vector<uint32_t> order_;
  int batch_size_;
  bool augment_;
  AugmentOptions augment_options_;
  uint64_t seed_;
  const NormalizeTable& table_;
  bool pin_memory_;
  int64_t first_batch_;
  int assembly_threads_;
  size_t depth_;
  int64_t batch_count_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<HostBatch> ready_;  // guarded by mutex_
  bool done_ = false;            // guarded by mutex_: producer finished
  bool stop_ = false;            // guarded by mutex_: consumer gone
  std::thread producer_;
};

}  // namespace memes::train
