#include "store/shard_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cassert>
#include <cstring>

#include "store/file_util.h"

namespace memes::store {

namespace fs = std::filesystem;

namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

uint32_t Crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  return static_cast<uint32_t>(
      ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

FileWriter::FileWriter(fs::path path)
    : path_(std::move(path)), temp_(TempSibling(path_)), buffer_(new uint8_t[kBufferBytes]) {
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) status_ = IoError("cannot create: " + ErrnoText(), temp_.string());
}

FileWriter::~FileWriter() {
  if (!done_) Abandon();
}

void FileWriter::Flush() {
  if (buffered_ == 0 || !status_.ok()) return;
  hasher_.Update(std::span<const uint8_t>(buffer_.get(), buffered_));
  status_ = WriteAll(fd_, buffer_.get(), buffered_, path_);
  buffered_ = 0;
}

void FileWriter::Append(std::span<const uint8_t> bytes) {
  if (!status_.ok()) return;
  bytes_ += bytes.size();
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), kBufferBytes - buffered_);
    std::memcpy(buffer_.get() + buffered_, bytes.data(), take);
    buffered_ += take;
    bytes = bytes.subspan(take);
    if (buffered_ == kBufferBytes) Flush();
  }
}

void FileWriter::Append(std::string_view text) {
  Append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<WrittenFile> FileWriter::Finish() {
  assert(!done_);
  Flush();
  if (status_.ok() && DurableWrites() && ::fsync(fd_) != 0)
    status_ = IoError("fsync failed: " + ErrnoText(), path_.string());
  if (status_.ok() && ::close(fd_) != 0)
    status_ = IoError("close failed: " + ErrnoText(), path_.string());
  else if (!status_.ok())
    ::close(fd_);
  fd_ = -1;
  if (status_.ok() && ::rename(temp_.c_str(), path_.c_str()) != 0) {
    status_ = IoError("rename failed: " + ErrnoText(), path_.string());
  }
  if (!status_.ok()) {
    Abandon();
    return status_;
  }
  done_ = true;
  return WrittenFile{path_.filename().string(), bytes_, 0, ToHex(hasher_.Finish())};
}

void FileWriter::Abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code error;
  fs::remove(temp_, error);
  done_ = true;
}

ShardWriter::ShardWriter(fs::path path, int image_size, int channels)
    : file_(std::move(path)),
      pixel_bytes_(static_cast<size_t>(channels) * image_size * image_size) {}

uint32_t ShardWriter::Add(uint8_t label, std::span<const uint8_t> pixels) {
  assert(pixels.size() == pixel_bytes_);
  const uint8_t label_byte[1] = {label};
  file_.Append(label_byte);
  file_.Append(pixels);
  ++records_;
  return Crc32(pixels, Crc32(label_byte));
}

Result<WrittenFile> ShardWriter::Finish() {
  MEMES_ASSIGN_OR_RETURN(WrittenFile written, file_.Finish());
  written.records = records_;
  return written;
}

}  // namespace memes::store
