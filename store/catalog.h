// The catalog (catalog.sqlite, SQLite in WAL mode): items, their sources, labels, kept frames,
// near-duplicate groups, fetch errors, pages read and the label-change log. Schema versioned
// (PRAGMA user_version) with forward migrations; every write is one transaction, so a kill -9 at
// any moment leaves either the old or the new state.
// Thread-safety: none. One Catalog per thread; in a flow graph, writes go through one serial node.
// Several processes may open the same catalog (SQLite locking, 10 s busy timeout).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/frame_segments.h"
#include "store/near_dup_index.h"

namespace memes::store {

inline constexpr int kCatalogSchemaVersion = 11;
inline constexpr int kDefaultNearDuplicateDistance = 6;

// Item status values.
inline constexpr const char* kItemOk = "ok";          // decoded; frames kept
inline constexpr const char* kItemFailed = "failed";  // fetched but unusable; `error` says why

struct ItemRecord {
  std::string blob;    // sha256 hex of the raw bytes (the item's identity)
  uint64_t bytes = 0;  // size of the blob
  std::string format;  // "gif", "png", "webp", …
  int width = 0;
  int height = 0;
  int frame_count = 0;  // frames in the source file (kept frames are fewer or equal)
  std::string status = kItemOk;
  std::string error;  // empty unless status is failed
};

struct SourceRecord {
  std::string url;       // the image URL
  std::string page_url;  // the page it was found on (may be empty)
  std::string keyword;
  std::string source_name;  // the pipeline file's source name
  int64_t fetched_at = 0;   // unix seconds
  int http_status = 0;
};

struct FrameRecord {
  int index = 0;             // frame index in the source animation
  int64_t timestamp_ms = 0;  // presentation time
  uint64_t phash = 0;        // 64-bit perceptual hash
  // Verification thumbnail (kThumbBytes, near_dup_index.h) or empty: a store written before
  // schema 4 until `memes dedupe` recomputes it; such a founder is matched by hash alone.
  std::vector<uint8_t> thumb;
  // The second candidate hash (transform::BandHashes), or none: a store written before
  // schema 7 until `memes dedupe` recomputes it.
  std::optional<uint64_t> phash2;
  // The second hash's verification thumbnail (kThumbBytes, transform::BandThumbsOf) or empty;
  // a frame without one is never a candidate of the second source.
  std::vector<uint8_t> thumb2;
  // Whether `phash` is by the content hash's current rule (transform::ContentHash, bits above a
  // margin, schema 10); false for a frame catalogued before (bits at the median) until `memes
  // dedupe` recomputes it: such a hash is stored and indexed as it is, but a probe of the same
  // picture lies many bits from it.
  bool phash_current = true;
};

struct AddResult {
  bool new_item = false;  // false: the blob was already catalogued (exact duplicate)
  int64_t group = 0;      // near-duplicate group id; 0 when the item has no frames
  // Where AddItem's time went (steady clock): the near-duplicate lookup before the write
  // transaction, and the transaction itself (BEGIN to COMMIT), so benchmarks can tell a lookup
  // that grows with the store from a commit that does (bench/dedupe_bench).
  double lookup_seconds = 0, transaction_seconds = 0;
};

struct LabelInfo {
  int64_t id = 0;  // stable: a new label appends; ids never shuffle
  std::string name;
  bool retired = false;  // merged away; kept so ids stay stable
  int64_t items = 0;     // items with this label that are not dropped
  int64_t dropped = 0;   // dropped items with this label
};

// What pack needs to know of one packable item (status ok, labelled, not dropped, has frames).
struct PackEntry {
  std::string blob;
  int64_t label_id = 0;
  std::string group_key;  // the blob hash that founded the item's near-duplicate group
  int kept_frames = 0;
  std::vector<int> frame_indices;  // kept frames' indices in the animation, ascending
  FramesLocation frames_at;        // segment 0: the old layout's per-item file
};

// One row of `memes label export`.
struct LabelRow {
  std::string blob;
  std::string label;  // empty: unlabelled
  std::string url;    // the first source URL (may be empty)
  bool dropped = false;
  bool dropped_given = true;  // ImportLabels: false leaves the item's dropped flag as it is
};

enum class UrlState { kUnknown, kFetched, kFailed };

// One recorded failure, for `memes errors`.
struct ErrorRecord {
  int64_t time = 0;      // unix seconds
  std::string stage;     // "page", "fetch", "store", "commit" (errors table) or "decode" (items)
  std::string kind;      // as the crawl counted it: "http-404", "page: network", "decode"…
  std::string url;       // the page or image
  std::string reason;    // what went wrong
  std::string page_url;  // the page that listed the image, when known
  std::string keyword;   // the keyword that found it, when known
};

// One set of items that must share a near-duplicate group (`memes label group`).
struct GroupMerge {
  std::string name;                // the caller's group key (logged)
  std::vector<std::string> blobs;  // existing items
};

// One item with the rows that belong to it alone, as `memes store merge` copies it from one
// store into another (catalog_merge.cpp). Sources are copied one by one (an item may have
// sources in several stores); groups are recomputed after the merge (store/regroup.h).
struct ItemRows {
  struct LogRow {
    int64_t time = 0;
    std::optional<std::string> old_label, new_label;
    std::string action;
  };
  ItemRecord item;
  std::optional<std::string> label;  // by name: label ids differ between stores
  bool dropped = false;
  std::vector<FrameRecord> frames;
  std::vector<LogRow> log;  // its label_log rows, oldest first
};

struct CatalogOptions {
  // How a new item joins a group: near_dup_index.h MatchRule, whose defaults come from
  // bench/dedupe_bench (docs/benchmarks.md). Pairs without thumbnails always use its hash-only
  // radius (rule.distance). Requires (Open checks): rule.distance, and with rule.verify
  // rule.candidate_distance, within 0..kMaxNearDuplicateDistance; rule.second_distance within
  // -1..kMaxNearDuplicateDistance; rule.representatives >= 1.
  MatchRule rule;
  // False: AddItem ignores the orientation probes and matches the frames' own hashes only
  // (a rotated or mirrored re-upload then founds a group of its own).
  bool probe_orientations = true;
};

// One grouped item as `memes dedupe` regroups it (Catalog::GroupingItems).
struct GroupingItem {
  std::string blob;
  std::string group_key;          // its group's founder blob now
  bool merged = false;            // moved by `memes label group` (a label_log "group …" row)
  std::vector<uint64_t> phashes;  // its kept frames' hashes, by frame index
};

// Hamming distance of two 64-bit perceptual hashes.
inline int PhashDistance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

class Catalog {
 public:
  // Opens or creates the catalog, running migrations up to kCatalogSchemaVersion.
  // A catalog written by a newer memes is refused with a message that says so.
  static Result<std::unique_ptr<Catalog>> Open(const std::filesystem::path& path,
                                               CatalogOptions options = {});
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  int schema_version() const;

  // --- crawl side -------------------------------------------------------------------------
  // Records an item, one source of it (may be null), its kept frames and (when the item has no
  // label yet) its label, in one transaction. An exact duplicate (same blob) only gains the
  // source. A new item with frames joins the group whose representative (its founder, or one of
  // up to CatalogOptions::rule.representatives - 1 members the founder accepted) accepts it best
  // (MatchRule, ties: the lowest group id), or founds a group of its own (keyed by its blob)
  // whose founder hashes are its frames' phashes; it becomes a representative itself when
  // store::MayRepresent says so (items.representative). Members that joined through another
  // representative never attract: a chain of items each near the last does not grow one group
  // past two steps from its founder (FORMAT.md, "Near-duplicate groups").
  // `probes`: the kept frames' hashes in all eight orientations (transform::ContentHashes),
  // so a rotated or mirrored re-upload joins; empty means the frames' phashes alone.
  // `probe_thumbs`: one verification thumbnail per probe (kThumbBytes each) or empty; with
  // CatalogOptions::rule.verify the match is the verified rule (near_dup_index.h MatchRule).
  // `second_probes`: each probe's second hash (transform::BandHashes, parallel to `probes`), or
  // empty (then the frames' phash2 when every frame has one and `probes` is empty), with
  // `second_probe_thumbs` one second thumbnail per probe (kThumbBytes each; without them the
  // second source is not used).
  // The lookup reads an in-memory index (loaded from the catalog on first use, updated by each
  // founding item) before the write transaction begins.
  // Requires: item.blob is 64 lower-case hex characters; frames sorted by index.
  Result<AddResult> AddItem(const ItemRecord& item, const SourceRecord* source,
                            std::span<const FrameRecord> frames,
                            const std::optional<std::string>& label,
                            std::span<const uint64_t> probes = {},
                            std::span<const uint8_t> probe_thumbs = {},
                            std::span<const uint64_t> second_probes = {},
                            std::span<const uint8_t> second_probe_thumbs = {});
  // Replaces the kept frames of an existing item (after a frames-cache rebuild) and where their
  // pixels are.
  Status SetFrames(const std::string& blob, std::span<const FrameRecord> frames,
                   const FramesLocation& location = {});
  // Records where the pixels of `blob`'s kept frames are (Store::AddItem, in the item's
  // transaction).
  Status SetFramesLocation(const std::string& blob, const FramesLocation& location);
  // Where the pixels of `blob`'s kept frames are (segment 0: the old per-item file, or none).
  Result<FramesLocation> FramesLocationOf(const std::string& blob);
  // Every item with kept frames and where they are, ordered by (segment, offset): what
  // compaction copies. Memory: one pair per item.
  Result<std::vector<std::pair<std::string, FramesLocation>>> FramesIndex();
  // Moves the frames records of many items at once (compaction), in one transaction.
  Status SetFramesLocations(std::span<const std::pair<std::string, FramesLocation>> moved);
  // A failure of `url` at `stage` ("fetch", "store", "commit", "page"…). `kind` names it for
  // stats ("http-404", "timeout", "too-small"…); a `final` failure is the server's or the
  // file's last word (404, too large, robots, too small): LookupUrl reports it as kFailed and a
  // rerun does not fetch the URL again. Others (timeouts, a full disk…) are retried.
  Status RecordFailure(const std::string& url, const std::string& stage, const std::string& kind,
                       const std::string& message, bool final);
  // RecordFailure with no kind, not final.
  Status RecordError(const std::string& url, const std::string& stage, const std::string& message);
  // kFetched when a source has this URL, kFailed when a final failure names it, else kUnknown.
  Result<UrlState> LookupUrl(const std::string& url);
  Status MarkPageRead(const std::string& url, int http_status);
  Result<bool> PageRead(const std::string& url);

  // --- labels -----------------------------------------------------------------------------
  // Creates the labels of `names` that do not exist yet, in that order (a crawl calls it with
  // its classes first, so label ids follow the pipeline file, not the first commit). Existing
  // labels, retired or not, are left as they are.
  Status EnsureLabels(std::span<const std::string> names);
  Result<std::vector<LabelInfo>> Labels();
  // Full blob hashes starting with `prefix` (at most `limit`).
  Result<std::vector<std::string>> ResolvePrefix(const std::string& prefix, int limit = 2);
  // Sets the label of each item (creating the label when new). Logged as `action`.
  Status SetLabel(std::span<const std::string> blobs, const std::string& label,
                  const std::string& action = "set");
  Status ClearLabel(std::span<const std::string> blobs, const std::string& action = "clear");
  Status RenameLabel(const std::string& old_name, const std::string& new_name);
  // Moves every item of `from` to `into` (created if new) and retires `from`.
  Status MergeLabels(const std::string& from, const std::string& into);
  Status SetDropped(std::span<const std::string> blobs, bool dropped);
  // Applies exported rows (label, dropped) in one transaction; only changes are logged.
  // Requires: every blob exists (callers validate first, to name the offending line).
  Status ImportLabels(std::span<const LabelRow> rows, const std::string& action = "import");
  // Puts all items of the groups of each merge's blobs into one group: the lowest-numbered of
  // them, so its key (and its split side) stays; emptied groups are deleted. Items without a
  // group (no frames) are left alone. One transaction for all merges; every item that changes
  // group is logged (label unchanged) with action "group <name>". Returns the number of such
  // moves (an item moved by two merges counts twice).
  // Requires: every blob exists (NotFound otherwise, nothing changed).
  Result<int64_t> MergeGroups(std::span<const GroupMerge> merges);
  // Every item with a group, in the order it was catalogued (the founding order). Memory: one
  // GroupingItem per item.
  Result<std::vector<GroupingItem>> GroupingItems();
  // Rewrites the groups in one transaction: each (blob, founder blob) pair puts the item in the
  // group keyed by that founder (created when new; a group whose key stays keeps its id and so
  // its split side); groups left empty are deleted. Items not named keep their group. Returns
  // the number of items whose group key changed.
  // `representatives`: the members (not founders) whose frames attract for their group from now
  // on (items.representative); every other item's mark is cleared.
  // `absorbing`: the founders whose groups absorbed another (groups.absorbed,
  // MatchRule::bridge_distance); every other group's mark is cleared.
  // Requires: every blob exists and every founder is itself named as its own founder.
  Result<int64_t> Regroup(std::span<const std::pair<std::string, std::string>> founder_of,
                          std::span<const std::string> representatives = {},
                          std::span<const std::string> absorbing = {});
  // Replaces the stored hashes of items' kept frames (frames.phash, by frame index order) in one
  // transaction, e.g. with a new signature recomputed from the frames cache; drops the founder
  // index so the next lookup reloads it. Returns the number of frames whose hash changed.
  // The hashes must be by the current rule (transform::ContentHash): every frame of an item
  // named is marked so (FrameRecord::phash_current), changed or not.
  // Requires: each item's vector has one hash per stored frame (InvalidArgument otherwise,
  // nothing changed).
  // `thumbs` (optional, parallel to `hashes`): kThumbBytes per frame, stored beside them.
  // `seconds` (optional, parallel to `hashes`): each frame's second hash (frames.phash2); an
  // empty vector leaves that item's second hashes as they are. `second_thumbs` (optional,
  // parallel to `seconds`): kThumbBytes per frame, stored beside each written second hash
  // (frames.thumb2; NULL where an item's vector is empty).
  Result<int64_t> RewriteFrameHashes(
      std::span<const std::pair<std::string, std::vector<uint64_t>>> hashes,
      std::span<const std::vector<uint8_t>> thumbs = {},
      std::span<const std::vector<uint64_t>> seconds = {},
      std::span<const std::vector<uint8_t>> second_thumbs = {});
  // Sources beyond each item's first: downloads whose bytes were already stored.
  Result<int64_t> ExactDuplicateSources();
  // The item fetched from `url` (its first source), if any.
  Result<std::optional<std::string>> ItemByUrl(const std::string& url);
  // Rows of the label-change log: "time\tblob\told\tnew\taction", time as local ISO 8601
  // (FormatLocalTime; the catalog stores unix seconds).
  Result<std::vector<std::string>> LabelLog();

  // --- readers ----------------------------------------------------------------------------
  // Every packable item, ordered by blob. Memory: one PackEntry per item.
  Result<std::vector<PackEntry>> PackIndex();
  // Every item (any status) for export, ordered by blob.
  Status ForEachLabelRow(const std::function<Status(const LabelRow&)>& visit);
  Result<std::vector<FrameRecord>> Frames(const std::string& blob);
  // Items with status ok but no kept-frame rows (after Store::ResetFrames): the ones whose
  // frames must be rebuilt from their blobs. Ordered by blob.
  Result<std::vector<std::string>> ItemsWithoutFrames();
  Result<bool> HasItem(const std::string& blob);
  // Every recorded failure, oldest first: the errors table (pages and images that could not be
  // fetched or stored; RecordError's message is "KIND: REASON") and the items that were
  // fetched but could not be decoded (kind "decode", with their first source's page and
  // keyword). Memory: one ErrorRecord per failure.
  Result<std::vector<ErrorRecord>> Errors();
  Result<int64_t> CountItems();
  // Frames without this memes's signatures: no verification thumbnail (catalogued before
  // schema 4), no band hash (dropped by the migrations to 7 and 9), or a content hash by the rule
  // before schema 10 (FrameRecord::phash_current). Grouping finds new copies of their pictures
  // through what is left until `memes dedupe` recomputes them.
  Result<int64_t> CountFramesWithoutSignatures();

  // --- merging stores (catalog_merge.cpp; `memes store merge`) ----------------------------
  // Every source row in the order it was committed (its id), with its item's blob.
  Status ForEachSource(
      const std::function<Status(int64_t id, const std::string& blob, const SourceRecord&)>& visit);
  // The source row `id` (from ForEachSource) and its item's blob.
  Result<std::pair<std::string, SourceRecord>> SourceById(int64_t id);
  // Items that have no source row (made by tests and tools, not by a crawl), in the order they
  // were catalogued.
  Result<std::vector<std::string>> ItemsWithoutSources();
  // NotFound when there is no such item.
  Result<ItemRows> ReadItemRows(const std::string& blob);
  // Call inside InTransaction. Inserts a new item with its label (by name, created when new),
  // dropped flag, frame rows and label-log rows. An item with frames founds a group of its
  // own: the caller regroups the store afterwards (RegroupStore), in catalogue order.
  // Requires: the item is not in the catalog; its blob and frames are on disk.
  Status InsertItemRows(const ItemRows& rows);
  // Call inside InTransaction. Adds one source of an existing item; a (blob, url) pair that is
  // already there is left as it is (the earlier row wins).
  Status InsertSource(const std::string& blob, const SourceRecord& source);
  // Copies the failures and the pages read of `from` that this catalog does not hold yet (a
  // row identical in every column counts as held), in one transaction. Returns rows added.
  Result<int64_t> CopyFailuresAndPages(Catalog& from);

  // --- settings and health ----------------------------------------------------------------
  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);
  // Deletes every kept-frame row (the frames cache is being rebuilt) and stores `meta` pairs.
  Status ResetFrames(std::span<const std::pair<std::string, std::string>> meta);
  // PRAGMA integrity_check.
  Status CheckIntegrity();

  // Runs `body` inside one transaction (BEGIN IMMEDIATE … COMMIT; rollback on error). Every
  // write call above may run inside it (each becomes a savepoint: a failed one undoes its own
  // changes only), so a caller can commit a batch of items with one COMMIT (one WAL fsync).
  Status InTransaction(const std::function<Status()>& body);

 private:
  struct Impl;
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace memes::store
