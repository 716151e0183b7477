// Crash-safe file primitives of the store: whole-file writes through a temporary name, fsync and
// rename, so a reader never sees a half-written file under its final name.
// Thread-safe: stateless functions; two writers of the same final path race only on rename,
// and either complete file wins.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace memes::store {

// Process-wide switch for fsync (default on). Off only for bulk loads in tests and benchmarks
// where a power cut does not matter; rename atomicity (and kill -9 safety) holds either way.
void SetDurableWrites(bool durable);
bool DurableWrites();

// Writes `bytes` to `path` atomically: `path.tmp-<pid>-<n>` is written, fsync'd, renamed over
// `path`, and the directory is fsync'd. Creates missing parent directories.
Status WriteFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes);

// Reads a whole file. An error names the path.
Result<std::vector<uint8_t>> ReadWholeFile(const std::filesystem::path& path);

// fsync of a directory, so that a rename inside it is durable.
Status FsyncDirectory(const std::filesystem::path& dir);

// A unique temporary sibling name for `path`: "<path>.tmp-<pid>-<counter>".
std::filesystem::path TempSibling(const std::filesystem::path& path);

// True when `name` looks like a temporary left by a killed writer (contains ".tmp-").
bool IsTempName(std::string_view name);

// "errno text" for the last system call.
std::string ErrnoText();

// An open file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// Writes all of `bytes` to `fd` (retrying short writes and EINTR).
Status WriteAll(int fd, const void* bytes, size_t size, const std::filesystem::path& where);

}  // namespace memes::store
