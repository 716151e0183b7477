// Reading packed shards back: dataset.json (the manifest, store/dataset_manifest.h),
// memory-mapped shard files, and
// Verify, which checks every file against the manifest and names the file and record of each
// fault. LibTorch-free; train/ may load records through MappedShard.
// Thread-safety: a MappedShard is read-only after Open and may be shared between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/dataset_manifest.h"  // DatasetManifest, ReadManifest

namespace memes::store {

// A shard file mapped read-only. Records are record_bytes long: label byte, then planar pixels.
class MappedShard {
 public:
  // Fails when the file cannot be mapped or its size is not a multiple of record_bytes.
  static Result<MappedShard> Open(const std::filesystem::path& path, int record_bytes);
  MappedShard(MappedShard&& other) noexcept;
  MappedShard& operator=(MappedShard&& other) noexcept;
  MappedShard(const MappedShard&) = delete;
  MappedShard& operator=(const MappedShard&) = delete;
  ~MappedShard();

  uint64_t records() const { return size_ / record_bytes_; }
  // Requires: i < records().
  std::span<const uint8_t> Record(uint64_t i) const {
    return {data_ + i * record_bytes_, static_cast<size_t>(record_bytes_)};
  }
  uint8_t Label(uint64_t i) const { return data_[i * record_bytes_]; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedShard() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int record_bytes_ = 1;
};

// Maps the shards of one split (train: data_batch_1.bin…, in order; test: test_batch.bin) after
// checking each file's size against the manifest. No hashing: VerifyShards does that.
Result<std::vector<MappedShard>> OpenSplit(const std::filesystem::path& dir,
                                           const DatasetManifest& manifest, bool test);

struct VerifyFault {
  std::string file;     // file name inside the shards folder
  int64_t record = -1;  // -1 when the fault is about the whole file
  std::string message;
  std::string ToString() const;  // "data_batch_1.bin: record 17: label 12 >= 10 classes"
};

struct VerifyReport {
  std::vector<VerifyFault> faults;
  int files_checked = 0;
  uint64_t records_checked = 0;
  bool ok() const { return faults.empty(); }
};

// Checks DIR against its dataset.json: every listed file present with its size and SHA-256;
// shard sizes a multiple of record_bytes with the listed record count; every label byte below
// the class count; batches.meta.txt naming the classes; every index.tsv row pointing at an
// existing record whose label byte and CRC-32 match (this names a damaged record).
// Stops collecting after `max_faults`.
VerifyReport VerifyShards(const std::filesystem::path& dir, size_t max_faults = 50);

}  // namespace memes::store
