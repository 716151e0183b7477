// `memes pack`: store → CIFAR-10-layout shards (data_batch_N.bin, test_batch.bin,
// batches.meta.txt, dataset.json, index.tsv; see store/FORMAT.md).
//
// Reads only the catalog and frames/ (never decodes, never fetches). Memory holds the index
// (one small entry per item) and one item's frames; records stream to the writers. The whole
// output folder is written to a temporary sibling and swapped in with one atomic rename
// exchange, so a failed or killed pack leaves the previous shards in place, and so does a pack
// that could not read some items (unless PackOptions::replace_despite_failures).
// The output folder must be new, empty, or hold a previous shard set (dataset.json with
// "format": "memes-cifar"); anything else (the store itself, a folder above it, the current
// folder, a folder with other files) is refused, so a typo in --out never deletes data.
// Thread-safety: one pack per output folder at a time (an flock on "<out>.lock" enforces it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/shard_writer.h"
#include "store/store.h"

namespace memes::store {

inline constexpr int kRecordsPerBatch = 10000;
inline constexpr int kMaxClasses = 256;  // one label byte

// What the train/test split assigns a side to (store/split.h).
enum class SplitUnit {
  kGroup,  // the near-duplicate group: leak-free (the default)
  kImage,  // each item on its own: near-duplicates may straddle the split (only to measure leakage)
};

struct PackOptions {
  std::filesystem::path out;   // the shards folder (replaced whole; see CheckOutput rules above)
  bool rot4 = true;            // --augment rot4 (true) or none
  bool rotate_test = false;    // also rotate the test split
  double test_fraction = 0.2;  // of groups, by the deterministic split hash
  uint64_t seed = 0;           // changes the split and the record order
  SplitUnit split_unit = SplitUnit::kGroup;
  // Balance each class's test share (store/split.h BalancedSplit); false: each unit's side
  // from its hash alone (SplitOf), which never moves when other items are added or relabelled.
  bool balance_split = true;
  int64_t max_per_class = 0;  // items per class (0: no cap), chosen by seeded hash order
  int records_per_batch = kRecordsPerBatch;
  int min_test_items = 5;  // fewer test items in a class draws a warning
  bool progress = true;    // a progress bar on stderr
  // Replace the output even when some items' frames could not be read (they are left out).
  bool replace_despite_failures = false;
  // Called after each item is written (items done, items selected), on the packing thread;
  // `memes serve` reports it through its API. Empty: not called.
  std::function<void(int64_t done, int64_t total)> on_progress;
  // When set, replaces the split: an item is on the test side iff test_group(its group key)
  // (`memes review` packs one fold of near-duplicate groups as the test split this way).
  std::function<bool(const std::string& group_key)> test_group;
};

struct ClassReport {
  std::string name;
  int64_t train_items = 0, test_items = 0;
  int64_t train_records = 0, test_records = 0;
  int64_t capped = 0;  // items left out by --max-per-class
};

struct PackReport {
  std::vector<ClassReport> classes;  // in label-byte order
  std::vector<std::string> warnings;
  std::vector<std::string> failures;  // items whose frames could not be read (skipped)
  bool replaced = false;  // the output folder now holds this pack (false: previous one kept)
  std::vector<WrittenFile> files;
  int64_t train_records = 0, test_records = 0;
  uint64_t bytes_written = 0;
  double seconds = 0;
  // A table of counts per class and split, for the CLI.
  std::string Table() const;
};

// Errors: kInvalidArgument for an output folder that is not safe to replace (naming it), no
// packable items, more than 256 classes; I/O failures. Items whose frames file is missing or
// damaged are listed in report.failures; the output is then replaced only when
// options.replace_despite_failures (report.replaced says which).
Result<PackReport> Pack(Store& store, const PackOptions& options);

}  // namespace memes::store
