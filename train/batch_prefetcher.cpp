#include "train/batch_prefetcher.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <oneapi/tbb/task_arena.h>

namespace memes::train {

BatchPrefetcher::BatchPrefetcher(const ShardDataset& dataset, Split split,
                                 std::vector<uint32_t> order, int batch_size, bool augment,
                                 uint64_t seed, const NormalizeTable& table, bool pin_memory,
                                 int64_t first_batch, int assembly_threads, int depth,
                                 const AugmentOptions& augment_options)
    : dataset_(dataset),
      split_(split),
      order_(std::move(order)),
      batch_size_(batch_size),
      augment_(augment),
      augment_options_(augment_options),
      seed_(seed),
      table_(table),
      pin_memory_(pin_memory),
      first_batch_(first_batch),
      assembly_threads_(std::max(1, assembly_threads)),
      depth_(static_cast<size_t>(std::max(1, depth))) {
  batch_count_ = BatchCount(order_.size(), batch_size_, augment_);
  producer_ = std::thread([this] { Produce(); });
}

int64_t BatchPrefetcher::BatchCount(size_t records, int batch_size, bool training) {
  int64_t count = (static_cast<int64_t>(records) + batch_size - 1) / batch_size;
  if (training && records > 1 && records % batch_size == 1) --count;
  return count;
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  producer_.join();
}

void BatchPrefetcher::Produce() {
  const int size = dataset_.image_size();
  // Invariant: batches are assembled only inside this arena (see the constructor's comment).
  tbb::task_arena arena(assembly_threads_);
  for (int64_t b = first_batch_; b < batch_count_; ++b) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
    }
    const size_t begin = static_cast<size_t>(b) * batch_size_;
    const size_t end = std::min(order_.size(), begin + batch_size_);
    const int64_t n = static_cast<int64_t>(end - begin);
    HostBatch batch;
    batch.index = b;
    const auto options = at::TensorOptions().pinned_memory(pin_memory_);
    batch.images = at::empty({n, 3, size, size}, options.dtype(at::kFloat));
    batch.labels = at::empty({n}, options.dtype(at::kLong));
    arena.execute([&] {
      AssembleBatch(dataset_, split_, std::span<const uint32_t>(order_.data() + begin, n), table_,
                    augment_, augment_options_, Mix64(seed_ ^ static_cast<uint64_t>(b)),
                    std::span<float>(batch.images.data_ptr<float>(), batch.images.numel()),
                    std::span<int64_t>(batch.labels.data_ptr<int64_t>(), n));
    });
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(std::move(batch));
    }
    changed_.notify_all();
  }
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
}

std::optional<HostBatch> BatchPrefetcher::Next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (ready_.empty()) return std::nullopt;
  HostBatch batch = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace memes::train
