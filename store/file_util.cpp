#include "store/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace memes::store {

namespace fs = std::filesystem;

namespace {
std::atomic<bool> durable_writes{true};
}

void SetDurableWrites(bool durable) { durable_writes = durable; }
bool DurableWrites() { return durable_writes; }

std::string ErrnoText() { return std::strerror(errno); }

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

fs::path TempSibling(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  return fs::path(path.string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter.fetch_add(1)));
}

bool IsTempName(std::string_view name) { return name.find(".tmp-") != std::string_view::npos; }

Status WriteAll(int fd, const void* bytes, size_t size, const fs::path& where) {
  const auto* cursor = static_cast<const uint8_t*>(bytes);
  while (size > 0) {
    const ssize_t wrote = ::write(fd, cursor, size);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return IoError("write failed: " + ErrnoText(), where.string());
    }
    cursor += wrote;
    size -= static_cast<size_t>(wrote);
  }
  return Status::Ok();
}

Status FsyncDirectory(const fs::path& dir) {
  if (!DurableWrites()) return Status::Ok();
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError("cannot open directory: " + ErrnoText(), dir.string());
  if (::fsync(fd.get()) != 0) return IoError("fsync failed: " + ErrnoText(), dir.string());
  return Status::Ok();
}

Status WriteFileAtomic(const fs::path& path, std::span<const uint8_t> bytes) {
  std::error_code error;
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(parent, error);
  if (error) return IoError("cannot create directory: " + error.message(), parent.string());
  const fs::path temp = TempSibling(path);
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return IoError("cannot create: " + ErrnoText(), temp.string());
    Status status = WriteAll(fd.get(), bytes.data(), bytes.size(), temp);
    if (status.ok() && DurableWrites() && ::fsync(fd.get()) != 0) {
      status = IoError("fsync failed: " + ErrnoText(), temp.string());
    }
    if (!status.ok()) {
      fs::remove(temp, error);
      return status;
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const Status status = IoError("rename failed: " + ErrnoText(), path.string());
    fs::remove(temp, error);
    return status;
  }
  return FsyncDirectory(parent);
}

Status WriteFileAtomic(const fs::path& path, std::string_view bytes) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Result<std::vector<uint8_t>> ReadWholeFile(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFound("no such file", path.string());
    return IoError("cannot open: " + ErrnoText(), path.string());
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return IoError("stat failed: " + ErrnoText(), path.string());
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      return IoError("read failed: " + ErrnoText(), path.string());
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  if (done != bytes.size()) return IoError("file shrank while reading", path.string());
  return bytes;
}

}  // namespace memes::store
