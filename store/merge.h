// `memes store merge A B … --into S`: joins stores (typically the partitions of one crawl,
// `memes crawl --partition K/N`) into one, through the store's API: blobs are hard-linked
// (or copied across file systems) once, frames are read from the input and written into S,
// catalog rows are copied with labels mapped by name, and near-duplicate groups are recomputed
// over the merged store. Format and guarantees: store/FORMAT.md, "Merging stores".
// Thread-safety: MergeStores runs one merge and blocks; it holds S's writer lock throughout and
// opens the inputs read-only (no lock: they may be read while something else writes them, but
// the merge then sees a snapshot per query, so merge finished partitions).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/regroup.h"
#include "store/store.h"

namespace memes::store {

struct MergeOptions {
  // The near-duplicate threshold the groups are recomputed with (bits).
  int near_duplicate_distance = kDefaultNearDuplicateDistance;
  // The hashes an item of S is regrouped with (from S's frames, in all eight orientations:
  // transform/ computes them, which store/ may not call). Null: stored hashes only.
  std::function<Result<ItemHashes>(Store& into, const GroupingItem& item)> hashes_of;
  // Source rows (each adding its item when new) per catalog transaction. A kill loses at most
  // the open batch; a rerun redoes it (see MergeStores).
  int batch_items = 256;
  // Test hook: called after each item's rows are written, before its batch commits, with the
  // number of items inserted so far (a test kills the process from here).
  std::function<void(int64_t)> after_item;
};

struct MergeReport {
  int64_t inputs = 0;
  int64_t items_added = 0;              // items new to S
  int64_t items_present = 0;            // source rows whose item S already held
  int64_t sources_seen = 0;             // source rows read from the inputs
  int64_t blobs_linked = 0;             // hard links made
  int64_t blobs_copied = 0;             // copied (another file system, or linking refused)
  int64_t label_conflicts = 0;          // an input labelled an item S holds otherwise (S's kept)
  int64_t failures_and_pages = 0;       // errors and pages rows added
  int64_t items_failed = 0;             // not merged: blob or frames unreadable in the input
  std::vector<std::string> faults;      // one line per failed item, naming the input and blob
  std::vector<std::string> partitions;  // "K/N plan P" of each partitioned input
  std::string coverage;                 // which partitions of a plan are merged and missing
  RegroupReport regroup;
};

// Merges `inputs` into the store at `into` (created, with the first input's image settings,
// when missing). Order: items go into S in the order one crawl of the whole plan would have
// committed them (URL-list and folder entries by their place in the lists, then search
// keywords in pipeline-file order, each partition's items of a keyword in its commit order);
// inputs that are not partitions follow, in argument order. So labels of items found twice
// (the earliest wins) and the founders that regrouping picks are those of the single crawl.
// Idempotent: rows S holds already are skipped, so merging an input again changes nothing.
// Safe to kill: blob and frames files are written before the batch of catalog rows naming them
// commits; a rerun skips what committed and redoes the rest, in the same order.
// Errors: an input that is not a store, image settings that differ, S locked by another
// writer. Items whose blob or frames are unreadable are counted in the report and skipped.
Result<MergeReport> MergeStores(const std::vector<std::filesystem::path>& inputs,
                                const std::filesystem::path& into, const MergeOptions& options);

}  // namespace memes::store
