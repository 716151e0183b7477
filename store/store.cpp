#include "store/store.h"

#include <sys/stat.h>

#include <atomic>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/sha256.h"
#include "store/file_util.h"

namespace memes::store {

namespace fs = std::filesystem;

namespace {

// The old layout's per-item frames file header (frame_segments.cpp reads it).
constexpr size_t kFramesHeaderBytes = 24;

// Blob writes still to fail (FailBlobWritesForTesting) and the errno they fail with.
std::atomic<int> g_blob_write_faults{0};
std::atomic<int> g_blob_write_fault_errno{0};

fs::path ShardedPath(const fs::path& root, const std::string& hash, const char* suffix) {
  return root / hash.substr(0, 2) / (hash.substr(2) + suffix);
}

// The catalog meta rows that record `settings`. max_frames joined the other three after the
// first stores were made; SettingsFromMeta reads its absence as the default (store/FORMAT.md).
std::vector<std::pair<std::string, std::string>> SettingsMeta(const ImageSettings& settings) {
  return {{"image_size", std::to_string(settings.size)},
          {"fit", FitModeName(settings.fit)},
          {"background", BackgroundHex(settings.background)},
          {"max_frames", std::to_string(settings.max_frames)}};
}

Result<ImageSettings> SettingsFromMeta(Catalog& catalog, const std::string& size,
                                       const fs::path& where) {
  ImageSettings settings;
  const auto bad = [&](const std::string& key, const std::string& value) {
    return Corrupt("catalog meta " + key + " is '" + value + "'", where.string());
  };
  const auto integer = [](const std::string& text, int min, int max) -> std::optional<int> {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
      return std::nullopt;
    }
    return value;
  };
  const auto parsed_size = integer(size, 1, kMaxImageSize);
  if (!parsed_size) return bad("image_size", size);
  settings.size = *parsed_size;
  MEMES_ASSIGN_OR_RETURN(auto fit, catalog.GetMeta("fit"));
  if (fit) {
    const auto mode = ParseFitMode(*fit);
    if (!mode) return bad("fit", *fit);
    settings.fit = *mode;
  }
  MEMES_ASSIGN_OR_RETURN(auto background, catalog.GetMeta("background"));
  if (background && !ParseBackgroundHex(*background, settings.background)) {
    return bad("background", *background);
  }
  MEMES_ASSIGN_OR_RETURN(auto max_frames, catalog.GetMeta("max_frames"));
  if (max_frames) {
    const auto parsed = integer(*max_frames, 1, kMaxFramesKept);
    if (!parsed) return bad("max_frames", *max_frames);
    settings.max_frames = *parsed;
  }
  return settings;
}

}  // namespace

bool IsBlobHash(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::unique_ptr<Store>> Store::Open(const fs::path& dir, StoreOptions options) {
  std::optional<WriterLock> lock;
  if (options.access == StoreAccess::kWrite) {
    std::error_code error;
    for (const char* sub : {"blobs", "frames"}) {
      fs::create_directories(dir / sub, error);
      if (error)
        return IoError("cannot create store folder: " + error.message(), (dir / sub).string());
    }
    // Before the catalog opens: opening may migrate it, which is a write.
    MEMES_ASSIGN_OR_RETURN(WriterLock taken, WriterLock::Acquire(dir));
    lock.emplace(std::move(taken));
  }
  MEMES_ASSIGN_OR_RETURN(auto catalog, Catalog::Open(dir / "catalog.sqlite", options.catalog));
  ImageSettings settings = options.image_settings;
  MEMES_ASSIGN_OR_RETURN(auto size, catalog->GetMeta("image_size"));
  if (size) {
    MEMES_ASSIGN_OR_RETURN(settings, SettingsFromMeta(*catalog, *size, dir / "catalog.sqlite"));
  } else if (options.access == StoreAccess::kRead) {
    return NotFound("the catalog records no image settings (not a memes store?)",
                    (dir / "catalog.sqlite").string());
  } else {
    MEMES_RETURN_IF_ERROR(CheckImageSettings(settings));
    const auto meta = SettingsMeta(settings);
    MEMES_RETURN_IF_ERROR(catalog->InTransaction([&]() -> Status {
      for (const auto& [key, value] : meta) MEMES_RETURN_IF_ERROR(catalog->SetMeta(key, value));
      return Status::Ok();
    }));
  }
  return std::unique_ptr<Store>(
      new Store(dir, std::move(catalog), std::move(settings), std::move(lock)));
}

Store::~Store() = default;

fs::path Store::BlobPath(const std::string& hash) const {
  return ShardedPath(dir_ / "blobs", hash, "");
}

fs::path Store::FramesPath(const std::string& blob) const {
  return LegacyFramesPath(dir_ / "frames", blob);
}

bool Store::HasBlob(const std::string& hash) const {
  struct stat info {};
  return IsBlobHash(hash) && ::stat(BlobPath(hash).c_str(), &info) == 0;
}

Result<std::string> Store::PutBlob(std::span<const uint8_t> bytes) {
  const std::string hash = ToHex(Sha256Of(bytes));
  const fs::path path = BlobPath(hash);
  struct stat info {};
  // Invariant: a file under its final name is complete (it was renamed into place after fsync),
  // so an existing blob of the right size is this content.
  if (::stat(path.c_str(), &info) == 0 && static_cast<uint64_t>(info.st_size) == bytes.size()) {
    return hash;
  }
  for (int left = g_blob_write_faults.load(); left > 0;) {
    if (g_blob_write_faults.compare_exchange_weak(left, left - 1)) {
      return IoError(std::string("cannot write: ") +
                         std::strerror(g_blob_write_fault_errno.load()) + " (injected fault)",
                     path.string());
    }
  }
  MEMES_RETURN_IF_ERROR(WriteFileAtomic(path, bytes));
  return hash;
}

void FailBlobWritesForTesting(int count, int error_number) {
  g_blob_write_fault_errno.store(error_number);
  g_blob_write_faults.store(count);
}

Result<std::vector<uint8_t>> Store::ReadBlob(const std::string& hash) const {
  if (!IsBlobHash(hash)) return InvalidArgument("not a blob hash", hash);
  return ReadWholeFile(BlobPath(hash));
}

Status Store::ResetFrames(const ImageSettings& settings) {
  MEMES_RETURN_IF_ERROR(CheckImageSettings(settings));
  const auto meta = SettingsMeta(settings);
  // Catalog first: once it commits, no frame row points at an old file, so a kill while the
  // files below are being removed leaves only orphans (rewritten by AddFrames).
  MEMES_RETURN_IF_ERROR(catalog_->ResetFrames(meta));
  settings_ = settings;
  frames_writer_.Close();
  frames_reader_.CloseAll();
  std::error_code error;
  fs::remove_all(dir_ / "frames", error);
  if (error)
    return IoError("cannot clear frames cache: " + error.message(), (dir_ / "frames").string());
  fs::create_directories(dir_ / "frames", error);
  if (error) return IoError("cannot create frames folder: " + error.message());
  return Status::Ok();
}

Result<FramesLocation> Store::AppendFrames(const std::string& blob,
                                           std::span<const FrameData> frames) {
  if (!IsBlobHash(blob)) return InvalidArgument("not a blob hash", blob);
  const size_t frame_bytes = settings_.frame_bytes();
  std::vector<uint8_t> pixels(frames.size() * frame_bytes);
  for (size_t k = 0; k < frames.size(); ++k) {
    if (frames[k].pixels.size() != frame_bytes) {
      return InvalidArgument("frame " + std::to_string(frames[k].record.index) + " has " +
                                 std::to_string(frames[k].pixels.size()) + " bytes, expected " +
                                 std::to_string(frame_bytes) + " (3×" +
                                 std::to_string(settings_.size) + "×" +
                                 std::to_string(settings_.size) + ")",
                             blob);
    }
    std::memcpy(pixels.data() + k * frame_bytes, frames[k].pixels.data(), frame_bytes);
  }
  return frames_writer_.Append(blob, settings_.size, static_cast<int>(frames.size()), pixels);
}

Status Store::SyncFrames() { return frames_writer_.Sync(); }

Result<ItemFrames> Store::ReadFrames(const std::string& blob,
                                     const FramesLocation& location) const {
  if (!IsBlobHash(blob)) return InvalidArgument("not a blob hash", blob);
  MEMES_ASSIGN_OR_RETURN(FramesRecord record, frames_reader_.Read(blob, location, settings_.size));
  ItemFrames frames;
  frames.image_size = record.image_size;
  frames.count = record.count;
  frames.pixels = std::move(record.pixels);
  return frames;
}

Result<ItemFrames> Store::ReadFrames(const std::string& blob) const {
  if (!IsBlobHash(blob)) return InvalidArgument("not a blob hash", blob);
  MEMES_ASSIGN_OR_RETURN(const FramesLocation location, catalog_->FramesLocationOf(blob));
  return ReadFrames(blob, location);
}

Status Store::AddFrames(const std::string& blob, std::span<const FrameData> frames) {
  FramesLocation location;
  if (!frames.empty()) {
    MEMES_ASSIGN_OR_RETURN(location, AppendFrames(blob, frames));
    // Invariant: the record is durable before the catalog names it.
    if (!in_batch_) MEMES_RETURN_IF_ERROR(SyncFrames());
  }
  std::vector<FrameRecord> records;
  for (const FrameData& frame : frames) records.push_back(frame.record);
  return catalog_->SetFrames(blob, records, location);
}

Result<AddResult> Store::AddItem(const ItemRecord& item, const SourceRecord* source,
                                 std::span<const FrameData> frames,
                                 const std::optional<std::string>& label) {
  if (!IsBlobHash(item.blob)) return InvalidArgument("not a blob hash", item.blob);
  MEMES_ASSIGN_OR_RETURN(const bool known, catalog_->HasItem(item.blob));
  FramesLocation location;
  std::vector<FrameRecord> records;
  std::vector<uint64_t> probes;
  std::vector<uint8_t> probe_thumbs;
  bool thumbs = true;  // every probe has a thumbnail
  std::vector<uint64_t> second_probes;
  std::vector<uint8_t> second_probe_thumbs;
  bool seconds = true;  // every probe has a second hash and its thumbnail
  if (!known) {
    if (!frames.empty()) {
      MEMES_ASSIGN_OR_RETURN(location, AppendFrames(item.blob, frames));
      // Invariant: the record is durable before the catalog names it (in a batch, CommitBatch
      // syncs once before its COMMIT).
      if (!in_batch_) MEMES_RETURN_IF_ERROR(SyncFrames());
    }
    for (const FrameData& frame : frames) {
      records.push_back(frame.record);
      if (frame.orientation_hashes.empty()) {
        probes.push_back(frame.record.phash);
        thumbs &= frame.record.thumb.size() == kThumbBytes;
        probe_thumbs.insert(probe_thumbs.end(), frame.record.thumb.begin(),
                            frame.record.thumb.end());
        seconds &= frame.record.phash2.has_value() && frame.record.thumb2.size() == kThumbBytes;
        second_probes.push_back(frame.record.phash2.value_or(0));
        second_probe_thumbs.insert(second_probe_thumbs.end(), frame.record.thumb2.begin(),
                                   frame.record.thumb2.end());
      } else {
        probes.insert(probes.end(), frame.orientation_hashes.begin(),
                      frame.orientation_hashes.end());
        thumbs &= frame.orientation_thumbs.size() == frame.orientation_hashes.size() * kThumbBytes;
        probe_thumbs.insert(probe_thumbs.end(), frame.orientation_thumbs.begin(),
                            frame.orientation_thumbs.end());
        seconds &=
            frame.orientation_seconds.size() == frame.orientation_hashes.size() &&
            frame.orientation_second_thumbs.size() == frame.orientation_hashes.size() * kThumbBytes;
        second_probes.insert(second_probes.end(), frame.orientation_seconds.begin(),
                             frame.orientation_seconds.end());
        second_probe_thumbs.insert(second_probe_thumbs.end(),
                                   frame.orientation_second_thumbs.begin(),
                                   frame.orientation_second_thumbs.end());
      }
    }
  }
  AddResult result;
  // One transaction (a savepoint inside a batch): the item and its frames' place together.
  MEMES_RETURN_IF_ERROR(catalog_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(
        result,
        catalog_->AddItem(
            item, source, records, label, probes,
            thumbs ? std::span<const uint8_t>(probe_thumbs) : std::span<const uint8_t>(),
            seconds ? std::span<const uint64_t>(second_probes) : std::span<const uint64_t>(),
            seconds ? std::span<const uint8_t>(second_probe_thumbs) : std::span<const uint8_t>()));
    if (result.new_item && location.in_segment()) {
      MEMES_RETURN_IF_ERROR(catalog_->SetFramesLocation(item.blob, location));
    }
    return Status::Ok();
  }));
  return result;
}

Status Store::CommitBatch(const std::function<Status()>& body) {
  assert(!in_batch_);
  in_batch_ = true;
  const Status status = catalog_->InTransaction([&]() -> Status {
    MEMES_RETURN_IF_ERROR(body());
    // Invariant: every record the batch appended is durable before the COMMIT names it.
    return SyncFrames();
  });
  in_batch_ = false;
  return status;
}

Result<Store::CompactReport> Store::CompactFrames() {
  CompactReport report;
  const fs::path frames_dir = dir_ / "frames";
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(frames_dir, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) report.bytes_before += it->file_size(error);
  }
  MEMES_ASSIGN_OR_RETURN(const auto index, catalog_->FramesIndex());
  MEMES_ASSIGN_OR_RETURN(const std::vector<uint32_t> old_segments, ListSegments(frames_dir));
  // The copies go into segments of their own, numbered after every existing one.
  frames_writer_.Close();
  std::vector<std::pair<std::string, FramesLocation>> moved;
  moved.reserve(index.size());
  std::vector<uint32_t> new_segments;
  // In (segment, offset) order: each old segment is read front to back.
  for (const auto& [blob, location] : index) {
    MEMES_ASSIGN_OR_RETURN(FramesRecord record,
                           frames_reader_.Read(blob, location, settings_.size));
    if (!location.in_segment()) ++report.legacy_files;
    MEMES_ASSIGN_OR_RETURN(
        const FramesLocation to,
        frames_writer_.Append(blob, settings_.size, record.count, record.pixels));
    if (new_segments.empty() || new_segments.back() != to.segment) {
      new_segments.push_back(to.segment);
      report.bytes_after += kSegmentHeaderBytes;
    }
    report.bytes_after += to.length;
    moved.emplace_back(blob, to);
  }
  report.records = static_cast<int64_t>(moved.size());
  // Invariant: the copies are durable before the catalog names them.
  MEMES_RETURN_IF_ERROR(frames_writer_.Sync());
  frames_writer_.Close();
  MEMES_RETURN_IF_ERROR(catalog_->SetFramesLocations(moved));
  // From here the catalog names only the new segments: every other file under frames/ is an
  // unreferenced leftover, and a kill while deleting them leaves only more of those.
  frames_reader_.CloseAll();
  for (const uint32_t segment : old_segments) {
    fs::remove(SegmentPath(frames_dir, segment), error);
    if (error) {
      return IoError("cannot delete: " + error.message(),
                     SegmentPath(frames_dir, segment).string());
    }
  }
  std::vector<fs::path> legacy_folders;
  for (auto it = fs::directory_iterator(frames_dir, error);
       !error && it != fs::directory_iterator(); it.increment(error)) {
    if (it->is_directory()) legacy_folders.push_back(it->path());
  }
  for (const fs::path& folder : legacy_folders) {
    fs::remove_all(folder, error);
    if (error) return IoError("cannot delete: " + error.message(), folder.string());
  }
  MEMES_RETURN_IF_ERROR(FsyncDirectory(frames_dir));
  return report;
}

Result<StoreCheck> Store::Check() {
  StoreCheck check;
  MEMES_RETURN_IF_ERROR(catalog_->CheckIntegrity());
  MEMES_ASSIGN_OR_RETURN(check.items, catalog_->CountItems());
  MEMES_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, catalog_->PackIndex());
  const size_t frame_bytes = settings_.frame_bytes();
  for (const PackEntry& entry : entries) {
    if (!HasBlob(entry.blob)) {
      ++check.blobs_missing;
      check.faults.push_back(BlobPath(entry.blob).string() + ": blob missing");
    }
    if (entry.frames_at.in_segment()) {
      // The record's header, size and CRC, as pack will read it.
      auto frames = ReadFrames(entry.blob, entry.frames_at);
      if (!frames.ok() || frames->count != entry.kept_frames) {
        ++check.frames_missing;
        check.faults.push_back(
            frames.ok() ? SegmentPath(dir_ / "frames", entry.frames_at.segment).string() + " @" +
                              std::to_string(entry.frames_at.offset) + ": not " +
                              std::to_string(entry.kept_frames) + " frames"
                        : frames.status().ToString());
      }
      continue;
    }
    struct stat info {};
    const fs::path frames = FramesPath(entry.blob);
    if (::stat(frames.c_str(), &info) != 0 ||
        static_cast<size_t>(info.st_size) != kFramesHeaderBytes + entry.kept_frames * frame_bytes) {
      ++check.frames_missing;
      check.faults.push_back(frames.string() + ": frames file missing or not " +
                             std::to_string(entry.kept_frames) + " frames");
    }
  }
  for (const char* sub : {"blobs", "frames"}) {
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(dir_ / sub, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (IsTempName(it->path().filename().string())) ++check.temp_files;
    }
  }
  return check;
}

Result<int64_t> Store::RemoveTempFiles() {
  int64_t removed = 0;
  for (const char* sub : {"blobs", "frames"}) {
    std::vector<fs::path> temps;
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(dir_ / sub, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (IsTempName(it->path().filename().string())) temps.push_back(it->path());
    }
    for (const fs::path& temp : temps) {
      if (fs::remove(temp, error)) ++removed;
    }
  }
  return removed;
}

}  // namespace memes::store
