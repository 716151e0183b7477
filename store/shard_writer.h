// Writers of pack's output files, in the style of leveldb's TableBuilder: Add…, status(),
// Finish() or Abandon(). Bytes go to "<path>.tmp-…" through a 1 MiB buffer; Finish() fsyncs and
// renames onto `path` and reports size, record count and SHA-256 (hashed while writing, never
// re-read). Destroying an unfinished writer abandons it.
// Thread-safety: none; one writer per thread. Not copyable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/sha256.h"
#include "core/status.h"

namespace memes::store {

struct WrittenFile {
  std::string name;  // file name inside its folder
  uint64_t bytes = 0;
  uint64_t records = 0;  // shards only
  std::string sha256;    // hex
};

class FileWriter {
 public:
  explicit FileWriter(std::filesystem::path path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void Append(std::span<const uint8_t> bytes);
  void Append(std::string_view text);
  // The first error met so far (open, write); later calls do nothing once it is set.
  const Status& status() const { return status_; }
  uint64_t bytes() const { return bytes_; }
  // Flushes, fsyncs, renames onto the final path. Requires: not finished or abandoned.
  Result<WrittenFile> Finish();
  // Removes the temporary file. Requires: not finished.
  void Abandon();

 private:
  void Flush();
  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
  Status status_;
  std::unique_ptr<uint8_t[]> buffer_;
  size_t buffered_ = 0;
  uint64_t bytes_ = 0;
  Sha256 hasher_;
  bool done_ = false;
};

// One CIFAR-layout shard: records of 1 label byte + C×S×S planar pixel bytes.
// Invariant: every record written is exactly record_bytes() long.
class ShardWriter {
 public:
  ShardWriter(std::filesystem::path path, int image_size, int channels = 3);

  // Appends one record and returns its CRC-32 (zlib/IEEE, over all record bytes, label
  // included), which index.tsv keeps so that verify can name a damaged record.
  // Requires: pixels.size() == channels × S × S.
  uint32_t Add(uint8_t label, std::span<const uint8_t> pixels);
  const Status& status() const { return file_.status(); }
  uint64_t records() const { return records_; }
  size_t record_bytes() const { return 1 + pixel_bytes_; }
  Result<WrittenFile> Finish();
  void Abandon() { file_.Abandon(); }

 private:
  FileWriter file_;
  size_t pixel_bytes_;
  uint64_t records_ = 0;
};

// CRC-32 (zlib) of `bytes` continuing from `crc` (start with 0).
uint32_t Crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace memes::store
