#include "store/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace memes::store {

namespace fs = std::filesystem;

namespace {

// The PID text the current holder wrote, trimmed; "" when the file is empty or unreadable
// (a holder between its flock and its write).
std::string RecordedHolder(int fd) {
  char text[32] = {};
  const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
  if (got <= 0) return "";
  std::string pid(text, static_cast<size_t>(got));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  for (char c : pid) {
    if (c < '0' || c > '9') return "";  // not ours: never echo arbitrary bytes
  }
  return pid;
}

}  // namespace

Result<WriterLock> WriterLock::Acquire(const fs::path& store_dir) {
  const fs::path path = PathIn(store_dir);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return IoError("cannot open the store's lock file: " + ErrnoText(), path.string());
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return IoError("cannot lock: " + ErrnoText(), path.string());
    const std::string holder = RecordedHolder(fd.get());
    return IoError("another memes process (" + (holder.empty() ? "PID unknown" : "PID " + holder) +
                       ") is writing this store; wait for it to finish or stop it",
                   path.string());
  }
  // Informative only: the PID of the holder, for a second writer's message.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return IoError("cannot write the store's lock file: " + ErrnoText(), path.string());
  }
  return WriterLock(std::move(fd));
}

}  // namespace memes::store
