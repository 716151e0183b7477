// One writer per store: an exclusive flock on STORE/lock, held for the life of a WriterLock.
// Every command that writes the catalog takes it (Store::Open with StoreAccess::kWrite does);
// readers (verify, preview, label list/export/log) do not, so they keep working while a crawl
// writes (SQLite's WAL gives them a consistent snapshot).
//
// The kernel releases an flock when its holder dies, so a lock file left by a killed process
// never blocks: only a live holder does. The file holds the PID of its last holder as text,
// for the message a second writer gets; that text is informative, never trusted for locking.
// Thread-safety: a WriterLock is a move-only handle; flock locks belong to the open file
// description, so a second WriterLock on the same store fails even inside one process.
#pragma once

#include <filesystem>

#include "core/status.h"
#include "store/file_util.h"

namespace memes::store {

class WriterLock {
 public:
  // Takes the lock on `store_dir`/lock without waiting. Errors: another live process (or
  // another WriterLock of this process) holds it: kIoError naming the lock file and the
  // holder's PID as recorded in the file; the lock file cannot be created or opened.
  static Result<WriterLock> Acquire(const std::filesystem::path& store_dir);

  WriterLock(WriterLock&&) noexcept = default;
  WriterLock& operator=(WriterLock&&) noexcept = default;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() = default;  // closing the descriptor releases the flock

  static std::filesystem::path PathIn(const std::filesystem::path& store_dir) {
    return store_dir / "lock";
  }

 private:
  explicit WriterLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace memes::store
