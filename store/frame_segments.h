// The frames cache on disk (store/FORMAT.md, "Frames"): append-only segment files
// STORE/frames/seg-NNNNNN.bin holding one record per item (a 48-byte header with the item's
// blob hash and a CRC-32, then its kept frames' pixels), addressed from the catalog by
// (segment, offset, length); and the reader of the per-item files of stores made before
// schema 3 (frames/ab/cdef….bin), which stay readable until `memes store compact` moves them.
// This header is the whole frames read/write API: the store, pack, compaction and anything
// that copies frames between stores use it.
// Thread-safety: FrameSegmentWriter is one writer's (the store's writer lock); FrameSegmentReader
// may be shared by threads (pread on cached descriptors, under a mutex for the cache only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/file_util.h"

namespace memes::store {

// Where an item's frames are. segment 0: not in a segment (a store from before schema 3, or an
// item without frames): the per-item file frames/ab/cdef….bin, if any.
struct FramesLocation {
  uint32_t segment = 0;
  uint64_t offset = 0;  // of the record's header in the segment file
  uint64_t length = 0;  // of the whole record, header included
  bool in_segment() const { return segment != 0; }
  bool operator==(const FramesLocation&) const = default;
};

inline constexpr size_t kSegmentHeaderBytes = 16;       // "MEMESSEG", u32 version, u32 zero
inline constexpr size_t kFramesRecordHeaderBytes = 48;  // see FORMAT.md
// A writer starts a new segment past this size, so compaction and copies work on bounded files.
inline constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 30;

// STORE/frames/seg-000042.bin for segment 42.
std::filesystem::path SegmentPath(const std::filesystem::path& frames_dir, uint32_t segment);
// The segment numbers present in `frames_dir`, ascending (temporaries and other files ignored).
Result<std::vector<uint32_t>> ListSegments(const std::filesystem::path& frames_dir);
// The per-item frames file of the old layout: frames/ab/cdef….bin.
std::filesystem::path LegacyFramesPath(const std::filesystem::path& frames_dir,
                                       const std::string& blob);

// One item's frames as read back: `count` frames of 3×S×S planar RGB bytes each.
struct FramesRecord {
  int image_size = 0;
  int count = 0;
  std::vector<uint8_t> pixels;  // count × 3×S×S
};

// Appends records to the store's newest segment, starting a new one when it passes
// kMaxSegmentBytes. A writer never appends to a segment an earlier process wrote: it starts a
// segment of its own on its first Append, so a torn record left by a kill is never followed by
// a referenced one (nothing names a torn record: it was never synced-then-committed).
class FrameSegmentWriter {
 public:
  explicit FrameSegmentWriter(std::filesystem::path frames_dir)
      : frames_dir_(std::move(frames_dir)) {}
  FrameSegmentWriter(const FrameSegmentWriter&) = delete;
  FrameSegmentWriter& operator=(const FrameSegmentWriter&) = delete;

  // Writes one record (page cache only: durable after Sync()). `pixels` holds `count` frames of
  // 3×image_size² bytes. Requires: blob is 64 lower-case hex characters.
  Result<FramesLocation> Append(const std::string& blob, int image_size, int count,
                                std::span<const uint8_t> pixels);
  // Makes every record appended so far durable (fdatasync; the folder's fsync once after a new
  // segment was created). Cheap when nothing was appended since the last Sync().
  Status Sync();
  // Closes the open segment (after ResetFrames or compaction); the next Append starts another.
  void Close();

 private:
  Status OpenNewSegment();
  std::filesystem::path frames_dir_;
  UniqueFd fd_;
  uint32_t segment_ = 0;
  uint64_t size_ = 0;
  bool unsynced_ = false;     // records written since the last Sync()
  bool new_segment_ = false;  // the folder entry is not yet durable
};

// Reads records back, checking the magic, the blob hash, the size and the CRC: a bad record is
// an error naming the segment file and the byte offset.
class FrameSegmentReader {
 public:
  explicit FrameSegmentReader(std::filesystem::path frames_dir)
      : frames_dir_(std::move(frames_dir)) {}
  // The frames of `blob` at `location`; segment 0 reads the old per-item file. `image_size` is
  // the store's: frames of another size are refused (rebuild them).
  Result<FramesRecord> Read(const std::string& blob, const FramesLocation& location,
                            int image_size) const;
  // Forgets the open descriptors (segments were deleted or replaced).
  void CloseAll();

 private:
  Result<int> Descriptor(uint32_t segment) const;
  std::filesystem::path frames_dir_;
  mutable std::mutex mutex_;
  mutable std::map<uint32_t, UniqueFd> open_;
};

// The old layout's per-item file (a 24-byte header, then the pixels): what stores of schema ≤ 2
// hold, kept so tests can build such a store. New stores never write it.
Status WriteLegacyFramesFile(const std::filesystem::path& path, int image_size, int count,
                             std::span<const uint8_t> pixels);

// For tests: flips the first pixel byte of `blob`'s frames (a bad sector, a stray write), so
// the next read fails its CRC (or, in the old layout, the file is removed).
Status DamageFramesForTesting(const std::filesystem::path& frames_dir, const std::string& blob,
                              const FramesLocation& location);

// Fault injection for tests: the next `count` FrameSegmentWriter::Sync calls fail (EIO) as an
// IoError. Process-wide; FailFrameSyncsForTesting(0) turns it off.
void FailFrameSyncsForTesting(int count);

}  // namespace memes::store
