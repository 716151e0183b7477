#include "store/frame_segments.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/shard_writer.h"

namespace memes::store {

namespace fs = std::filesystem;

namespace {

constexpr char kSegmentMagic[8] = {'M', 'E', 'M', 'E', 'S', 'S', 'E', 'G'};
constexpr uint32_t kSegmentVersion = 1;
constexpr char kRecordMagic[4] = {'M', 'F', 'R', '1'};
// The old layout's per-item file.
constexpr char kLegacyMagic[8] = {'M', 'E', 'M', 'E', 'S', 'F', 'R', 'M'};
constexpr uint32_t kLegacyVersion = 1;
constexpr size_t kLegacyHeaderBytes = 24;

std::atomic<int> g_sync_faults{0};

void PutU32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}
uint32_t GetU32(const uint8_t* in) {
  return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 24;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The 32 raw bytes of a 64-character hex hash; false when it is not one.
bool HashBytes(const std::string& blob, uint8_t out[32]) {
  if (blob.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    const int high = HexDigit(blob[2 * i]);
    const int low = HexDigit(blob[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

// CRC-32 of a record: its header except the CRC field, then the pixels.
uint32_t RecordCrc(const uint8_t* header, std::span<const uint8_t> pixels) {
  uint32_t crc = Crc32(std::span<const uint8_t>(header, 12));
  crc = Crc32(std::span<const uint8_t>(header + 16, kFramesRecordHeaderBytes - 16), crc);
  return Crc32(pixels, crc);
}

Status PreadAll(int fd, uint8_t* out, size_t size, uint64_t offset, const fs::path& where) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return IoError("read failed at byte " + std::to_string(offset + done) + ": " + ErrnoText(),
                     where.string());
    }
    if (got == 0) {
      return Corrupt("ends at byte " + std::to_string(offset + done) + ", a record needs " +
                         std::to_string(offset + size),
                     where.string());
    }
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

Result<FramesRecord> ReadLegacy(const fs::path& path, int image_size) {
  MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> file, ReadWholeFile(path));
  if (file.size() < kLegacyHeaderBytes || std::memcmp(file.data(), kLegacyMagic, 8) != 0) {
    return Corrupt("not a frames file (bad magic or shorter than its header)", path.string());
  }
  if (GetU32(file.data() + 8) != kLegacyVersion) {
    return Unsupported("frames file version " + std::to_string(GetU32(file.data() + 8)),
                       path.string());
  }
  FramesRecord record;
  record.image_size = static_cast<int>(GetU32(file.data() + 12));
  record.count = static_cast<int>(GetU32(file.data() + 20));
  if (record.image_size != image_size || GetU32(file.data() + 16) != 3) {
    return Corrupt("frames are " + std::to_string(record.image_size) +
                       "px but the store's image size is " + std::to_string(image_size) +
                       "; rebuild frames",
                   path.string());
  }
  const size_t expected =
      kLegacyHeaderBytes + size_t(record.count) * 3u * size_t(image_size) * size_t(image_size);
  if (file.size() != expected) {
    return Corrupt("frames file has " + std::to_string(file.size()) + " bytes, header implies " +
                       std::to_string(expected),
                   path.string());
  }
  file.erase(file.begin(), file.begin() + kLegacyHeaderBytes);
  record.pixels = std::move(file);
  return record;
}

}  // namespace

fs::path SegmentPath(const fs::path& frames_dir, uint32_t segment) {
  char name[32];
  std::snprintf(name, sizeof name, "seg-%06u.bin", segment);
  return frames_dir / name;
}

Result<std::vector<uint32_t>> ListSegments(const fs::path& frames_dir) {
  std::vector<uint32_t> segments;
  std::error_code error;
  for (auto it = fs::directory_iterator(frames_dir, error);
       !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    unsigned number = 0;
    int used = 0;
    if (name.size() == 14 && std::sscanf(name.c_str(), "seg-%6u.bin%n", &number, &used) == 1 &&
        used == 14 && number > 0) {
      segments.push_back(number);
    }
  }
  if (error) return IoError("cannot list: " + error.message(), frames_dir.string());
  std::sort(segments.begin(), segments.end());
  return segments;
}

fs::path LegacyFramesPath(const fs::path& frames_dir, const std::string& blob) {
  return frames_dir / blob.substr(0, 2) / (blob.substr(2) + ".bin");
}

Status FrameSegmentWriter::OpenNewSegment() {
  MEMES_ASSIGN_OR_RETURN(std::vector<uint32_t> existing, ListSegments(frames_dir_));
  const uint32_t next = std::max(segment_, existing.empty() ? 0u : existing.back()) + 1;
  const fs::path path = SegmentPath(frames_dir_, next);
  // O_EXCL: one writer per store, so the name is ours; a clash is a bug or a second writer.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) return IoError("cannot create: " + ErrnoText(), path.string());
  uint8_t header[kSegmentHeaderBytes] = {};
  std::memcpy(header, kSegmentMagic, 8);
  PutU32(header + 8, kSegmentVersion);
  MEMES_RETURN_IF_ERROR(WriteAll(fd.get(), header, sizeof header, path));
  fd_ = std::move(fd);
  segment_ = next;
  size_ = kSegmentHeaderBytes;
  unsynced_ = true;
  new_segment_ = true;
  return Status::Ok();
}

Result<FramesLocation> FrameSegmentWriter::Append(const std::string& blob, int image_size,
                                                  int count, std::span<const uint8_t> pixels) {
  uint8_t hash[32];
  if (!HashBytes(blob, hash)) return InvalidArgument("not a blob hash", blob);
  const size_t frame_bytes = 3u * size_t(image_size) * size_t(image_size);
  if (image_size <= 0 || count <= 0 || pixels.size() != size_t(count) * frame_bytes) {
    return InvalidArgument(std::to_string(pixels.size()) + " bytes of pixels are not " +
                               std::to_string(count) + " frames of 3×" +
                               std::to_string(image_size) + "×" + std::to_string(image_size),
                           blob);
  }
  if (!fd_.valid() || size_ >= kMaxSegmentBytes) {
    if (fd_.valid()) MEMES_RETURN_IF_ERROR(Sync());
    MEMES_RETURN_IF_ERROR(OpenNewSegment());
  }
  std::vector<uint8_t> record(kFramesRecordHeaderBytes + pixels.size());
  std::memcpy(record.data(), kRecordMagic, 4);
  PutU32(record.data() + 4, static_cast<uint32_t>(count));
  PutU32(record.data() + 8, static_cast<uint32_t>(image_size));
  std::memcpy(record.data() + 16, hash, 32);
  std::memcpy(record.data() + kFramesRecordHeaderBytes, pixels.data(), pixels.size());
  PutU32(record.data() + 12, RecordCrc(record.data(), pixels));
  const FramesLocation location{segment_, size_, record.size()};
  const fs::path path = SegmentPath(frames_dir_, segment_);
  if (Status written = WriteAll(fd_.get(), record.data(), record.size(), path); !written.ok()) {
    // A short write leaves a torn tail no record may follow: the next Append starts a segment.
    Close();
    return written;
  }
  size_ += record.size();
  unsynced_ = true;
  return location;
}

Status FrameSegmentWriter::Sync() {
  if (!unsynced_) return Status::Ok();
  const fs::path path = SegmentPath(frames_dir_, segment_);
  for (int left = g_sync_faults.load(); left > 0;) {
    if (g_sync_faults.compare_exchange_weak(left, left - 1)) {
      Close();
      return IoError("fdatasync failed: Input/output error (injected fault)", path.string());
    }
  }
  if (DurableWrites()) {
    // After a failed fsync the kernel may have dropped the dirty pages and a later fsync may
    // report success: so no later record goes into this segment; the next Append starts one.
    if (::fdatasync(fd_.get()) != 0) {
      const Status failed = IoError("fdatasync failed: " + ErrnoText(), path.string());
      Close();
      return failed;
    }
    if (Status synced = FsyncDirectory(frames_dir_); new_segment_ && !synced.ok()) {
      Close();
      return synced;
    }
  }
  new_segment_ = false;
  unsynced_ = false;
  return Status::Ok();
}

void FrameSegmentWriter::Close() {
  fd_.Reset();
  unsynced_ = false;
  new_segment_ = false;
}

Result<int> FrameSegmentReader::Descriptor(uint32_t segment) const {
  std::lock_guard lock(mutex_);
  auto it = open_.find(segment);
  if (it != open_.end()) return it->second.get();
  const fs::path path = SegmentPath(frames_dir_, segment);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFound("frames segment missing", path.string());
    return IoError("cannot open: " + ErrnoText(), path.string());
  }
  const int raw = fd.get();
  open_.emplace(segment, std::move(fd));
  return raw;
}

void FrameSegmentReader::CloseAll() {
  std::lock_guard lock(mutex_);
  open_.clear();
}

Result<FramesRecord> FrameSegmentReader::Read(const std::string& blob,
                                              const FramesLocation& location,
                                              int image_size) const {
  if (!location.in_segment()) return ReadLegacy(LegacyFramesPath(frames_dir_, blob), image_size);
  const fs::path path = SegmentPath(frames_dir_, location.segment);
  const std::string where = path.string() + " @" + std::to_string(location.offset);
  uint8_t hash[32];
  if (!HashBytes(blob, hash)) return InvalidArgument("not a blob hash", blob);
  if (location.length < kFramesRecordHeaderBytes || location.length > kMaxSegmentBytes) {
    return Corrupt("the catalog gives a record length of " + std::to_string(location.length),
                   where);
  }
  MEMES_ASSIGN_OR_RETURN(const int fd, Descriptor(location.segment));
  std::vector<uint8_t> bytes(location.length);
  MEMES_RETURN_IF_ERROR(PreadAll(fd, bytes.data(), bytes.size(), location.offset, path));
  if (std::memcmp(bytes.data(), kRecordMagic, 4) != 0) {
    return Corrupt("no frames record here (bad magic)", where);
  }
  if (std::memcmp(bytes.data() + 16, hash, 32) != 0) {
    return Corrupt("the record here is another blob's, not " + blob, where);
  }
  FramesRecord record;
  record.count = static_cast<int>(GetU32(bytes.data() + 4));
  record.image_size = static_cast<int>(GetU32(bytes.data() + 8));
  if (record.image_size != image_size) {
    return Corrupt("frames are " + std::to_string(record.image_size) +
                       "px but the store's image size is " + std::to_string(image_size) +
                       "; rebuild frames",
                   where);
  }
  const size_t expected = kFramesRecordHeaderBytes +
                          size_t(record.count) * 3u * size_t(image_size) * size_t(image_size);
  if (expected != bytes.size()) {
    return Corrupt("record of " + std::to_string(record.count) + " frames should be " +
                       std::to_string(expected) + " bytes, the catalog says " +
                       std::to_string(bytes.size()),
                   where);
  }
  const std::span<const uint8_t> pixels(bytes.data() + kFramesRecordHeaderBytes,
                                        bytes.size() - kFramesRecordHeaderBytes);
  if (RecordCrc(bytes.data(), pixels) != GetU32(bytes.data() + 12)) {
    return Corrupt("CRC-32 mismatch in a frames record of " + blob, where);
  }
  bytes.erase(bytes.begin(), bytes.begin() + kFramesRecordHeaderBytes);
  record.pixels = std::move(bytes);
  return record;
}

Status WriteLegacyFramesFile(const fs::path& path, int image_size, int count,
                             std::span<const uint8_t> pixels) {
  std::vector<uint8_t> file(kLegacyHeaderBytes + pixels.size());
  std::memcpy(file.data(), kLegacyMagic, 8);
  PutU32(file.data() + 8, kLegacyVersion);
  PutU32(file.data() + 12, static_cast<uint32_t>(image_size));
  PutU32(file.data() + 16, 3);
  PutU32(file.data() + 20, static_cast<uint32_t>(count));
  std::memcpy(file.data() + kLegacyHeaderBytes, pixels.data(), pixels.size());
  return WriteFileAtomic(path, std::span<const uint8_t>(file));
}

Status DamageFramesForTesting(const fs::path& frames_dir, const std::string& blob,
                              const FramesLocation& location) {
  if (!location.in_segment()) {
    std::error_code error;
    fs::remove(LegacyFramesPath(frames_dir, blob), error);
    if (error) return IoError("cannot delete: " + error.message());
    return Status::Ok();
  }
  const fs::path path = SegmentPath(frames_dir, location.segment);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return IoError("cannot open: " + ErrnoText(), path.string());
  const uint64_t at = location.offset + kFramesRecordHeaderBytes;
  uint8_t byte = 0;
  MEMES_RETURN_IF_ERROR(PreadAll(fd.get(), &byte, 1, at, path));
  byte ^= 0xff;
  if (::pwrite(fd.get(), &byte, 1, static_cast<off_t>(at)) != 1) {
    return IoError("cannot write: " + ErrnoText(), path.string());
  }
  return Status::Ok();
}

void FailFrameSyncsForTesting(int count) { g_sync_faults.store(count); }

}  // namespace memes::store
