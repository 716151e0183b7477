// The store: one movable folder holding raw blobs (content-addressed by SHA-256), the catalog,
// and the frames cache (fitted S×S planar RGB frames of each item, so packing never decodes).
//
//   STORE/catalog.sqlite         see catalog.h
//   STORE/blobs/ab/cdef…         raw bytes; the name is the SHA-256 of the content
//   STORE/frames/seg-000001.bin  kept frames, one record per item, append-only
//                                (frame_segments.h; stores before schema 3: frames/ab/cdef….bin)
//
// Blobs are written under a temporary name, fsync'd and renamed; frames records are appended
// and fdatasync'd once per commit batch; the catalog commits after the bytes it points to are
// durable. A kill -9 at any moment leaves a store that opens,
// verifies and resumes. Pixels are opaque bytes here: the store never decodes anything.
// One writer per store: a Store opened for writing holds STORE/lock (store/writer_lock.h) until
// it is destroyed; one opened for reading takes no lock and must not write.
// Thread-safety: PutBlob/ReadBlob/BlobPath and ReadFrames(blob, location) may run on any thread
// concurrently; AddItem, AppendFrames, CommitBatch, catalog(), ReadFrames(blob) and settings
// calls belong to one thread (the serial catalog node).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/image_settings.h"
#include "core/status.h"
#include "store/catalog.h"
#include "store/frame_segments.h"
#include "store/writer_lock.h"

namespace memes::store {

// The image settings the frames cache was made with (core/image_settings.h), recorded in the
// catalog's meta table. A change means every frame must be rebuilt from its blob (ResetFrames,
// then AddFrames per item).
using ImageSettings = ::memes::ImageSettings;

// One kept frame with its fitted pixels.
struct FrameData {
  FrameRecord record;
  // Planar RGB, 3×S×S bytes: S·S red (row-major), then green, then blue.
  std::span<const uint8_t> pixels;
  // The frame's perceptual hash in all eight orientations (transform::PerceptualHashes), which
  // near-duplicate grouping probes founders with; empty: record.phash alone (no rotated or
  // mirrored match).
  std::span<const uint64_t> orientation_hashes = {};
  // The frame's verification thumbnail in the same eight orientations (kThumbBytes each,
  // transform::ContentThumbsOf), or empty. record.thumb is orientation 0.
  std::span<const uint8_t> orientation_thumbs = {};
  // The second candidate hash in the same eight orientations (transform::BandHashes), or
  // empty. record.phash2 is orientation 0.
  std::span<const uint64_t> orientation_seconds = {};
  // Its verification thumbnail in the same eight orientations (kThumbBytes each,
  // transform::BandThumbsOf), or empty. record.thumb2 is orientation 0.
  std::span<const uint8_t> orientation_second_thumbs = {};
};

// The frames of one item as read from frames/.
struct ItemFrames {
  int image_size = 0;
  int count = 0;
  std::vector<uint8_t> pixels;  // count × 3×S×S, frame k at k·3·S·S
  std::span<const uint8_t> Frame(int k) const {
    const size_t bytes = 3u * image_size * image_size;
    return {pixels.data() + k * bytes, bytes};
  }
};

enum class StoreAccess {
  kWrite,  // takes the store's writer lock (crawl, label changes, pack, demo)
  kRead,   // no lock: verify, preview, label list/export/log; such a Store must not write
};

struct StoreOptions {
  StoreAccess access = StoreAccess::kWrite;
  CatalogOptions catalog;
  // Settings recorded in a new store. An existing store keeps its own (see image_settings()).
  ImageSettings image_settings;
};

struct StoreCheck {
  int64_t items = 0;
  int64_t blobs_missing = 0;
  int64_t frames_missing = 0;       // packable items whose frames file is absent or wrong-sized
  int64_t temp_files = 0;           // leftovers of killed writers (harmless; removed by Clean)
  std::vector<std::string> faults;  // one line each, naming the file
};

class Store {
 public:
  // Opens STORE (creating the folder, the catalog and blobs/, frames/ when missing). For
  // kWrite, first takes the writer lock: a second writer gets an error naming the holder's PID.
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& dir,
                                             StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  Catalog& catalog() { return *catalog_; }

  // --- blobs --------------------------------------------------------------------------------
  // Stores `bytes` under their SHA-256 (exact dedupe: an existing blob is not rewritten) and
  // returns the 64-character hex hash.
  Result<std::string> PutBlob(std::span<const uint8_t> bytes);
  bool HasBlob(const std::string& hash) const;
  std::filesystem::path BlobPath(const std::string& hash) const;
  Result<std::vector<uint8_t>> ReadBlob(const std::string& hash) const;

  // --- frames cache ---------------------------------------------------------------------------
  const ImageSettings& image_settings() const { return settings_; }
  // Drops the whole frames cache and records `settings` as the new ones. Items keep their
  // blobs, labels and groups; they become packable again once AddFrames has run for them.
  Status ResetFrames(const ImageSettings& settings);
  // The old layout's per-item frames file of `blob` (stores before schema 3).
  std::filesystem::path FramesPath(const std::string& blob) const;
  // Appends the frames' pixels as one record to the open segment. Not durable until
  // SyncFrames() (CommitBatch and AddItem outside a batch do it before their COMMIT).
  // Requires: every frame has image_settings().frame_bytes() pixels; indices ascending.
  Result<FramesLocation> AppendFrames(const std::string& blob, std::span<const FrameData> frames);
  Status SyncFrames();
  // The frames of `blob` stored at `location` (PackEntry::frames_at…). Any thread.
  Result<ItemFrames> ReadFrames(const std::string& blob, const FramesLocation& location) const;
  // The same, looking the location up in the catalog (the catalog's thread only).
  Result<ItemFrames> ReadFrames(const std::string& blob) const;
  // Appends the frames of an already-catalogued item, syncs them, then sets its frame rows.
  Status AddFrames(const std::string& blob, std::span<const FrameData> frames);

  // --- the crawl's one call per item -----------------------------------------------------------
  // Appends the frames record (a new item only) and commits item, source, frame rows, group and
  // label in one catalog transaction, or in CommitBatch's one when inside it. Outside a batch
  // the record is synced first; inside, CommitBatch syncs once for all. `item.blob` must
  // already be in blobs/ (PutBlob).
  Result<AddResult> AddItem(const ItemRecord& item, const SourceRecord* source,
                            std::span<const FrameData> frames,
                            const std::optional<std::string>& label);

  // Runs `body` (AddItem calls, failure records…) as one catalog transaction, so that a batch
  // of items costs one COMMIT and one frames fsync. Invariant: the frames records the batch
  // appended are synced before its COMMIT. On failure nothing of the batch is in the catalog
  // (its records stay in the segment, unreferenced, until compaction).
  Status CommitBatch(const std::function<Status()>& body);

  // --- compaction (`memes store compact`) --------------------------------------------------
  // Rewrites the frames of every item that has some into new segments, in catalog order, moves
  // the catalog to them in one transaction, then deletes the old segments and old-layout
  // files: what remains holds no unreferenced record (failed batches, duplicates, dropped
  // frame caches). Kill-safe: before the transaction the old files are still the ones named.
  struct CompactReport {
    int64_t records = 0;        // items whose frames were copied
    int64_t legacy_files = 0;   // old-layout per-item files migrated into segments
    uint64_t bytes_before = 0;  // of frames/ before
    uint64_t bytes_after = 0;   // of the new segments
  };
  Result<CompactReport> CompactFrames();

  // --- health ---------------------------------------------------------------------------------
  // Catalog integrity, every packable item's blob and frames file present and of the right size.
  Result<StoreCheck> Check();
  // Removes temporary files left by killed writers under blobs/ and frames/.
  Result<int64_t> RemoveTempFiles();

 private:
  Store(std::filesystem::path dir, std::unique_ptr<Catalog> catalog, ImageSettings settings,
        std::optional<WriterLock> lock)
      : dir_(std::move(dir)),
        catalog_(std::move(catalog)),
        settings_(std::move(settings)),
        frames_writer_(dir_ / "frames"),
        frames_reader_(dir_ / "frames"),
        lock_(std::move(lock)) {}
  std::filesystem::path dir_;
  std::unique_ptr<Catalog> catalog_;
  ImageSettings settings_;
  FrameSegmentWriter frames_writer_;
  FrameSegmentReader frames_reader_;
  bool in_batch_ = false;           // inside CommitBatch: AddItem leaves the frames sync to it
  std::optional<WriterLock> lock_;  // held while the Store lives (kWrite); last: released last
};

// Fault injection for tests: the next `count` PutBlob calls that would write a new file fail
// with errno `error_number` (ENOSPC: a full disk) as an IoError, writing nothing. Process-wide;
// FailBlobWritesForTesting(0, 0) turns it off.
void FailBlobWritesForTesting(int count, int error_number);

// True for 64 lower-case hex characters.
bool IsBlobHash(const std::string& text);

}  // namespace memes::store
