// What `memes serve` reads from a store: classes, items with filters, one item's detail (frames,
// sources, group, label history), near neighbours by perceptual hash, thumbnails, and a change
// counter. Reads only: the SQL queries run on a read connection of catalog.sqlite and never
// take the writer lock, so `memes label`, `memes crawl` and serve's own writes (serve_api.h)
// go on while a page is open; SQLite's WAL gives each query a consistent snapshot.
// Thread-safety: none; the server serialises calls (one mutex per StoreView).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace memes::pipelines::serve {

struct ItemSummary {
  std::string hash;
  std::string label;     // empty: unlabelled
  int64_t label_id = 0;  // 0: unlabelled
  bool dropped = false;
  int frames = 0;          // kept frames
  int64_t group_size = 0;  // items in its near-duplicate group (1 when alone or ungrouped)
};

struct ItemFilter {
  std::optional<int64_t> label_id;  // 0: unlabelled only; unset: every class
  std::optional<bool> dropped;      // unset: both
  std::string keyword;              // substring of a source's keyword or source name; empty: any
  int64_t min_group_size = 0;
};

struct SourceInfo {
  std::string url, page_url, keyword, source_name;
  int64_t fetched_at = 0;
};

struct HistoryRow {
  int64_t time = 0;  // unix seconds
  std::string old_label, new_label, action;
};

struct ItemDetail {
  ItemSummary summary;
  std::string format;
  int width = 0, height = 0, frame_count = 0;
  std::vector<store::FrameRecord> frames;  // kept frames, by index
  std::vector<SourceInfo> sources;
  std::vector<std::string> group_members;  // other items of its group, catalogue order
  std::vector<HistoryRow> history;         // oldest first
};

struct Neighbour {
  ItemSummary item;
  int distance = 0;  // smallest Hamming distance between any kept frames of the two items
};

class StoreView {
 public:
  // Opens STORE for reading (no lock). Errors: no catalog there, unreadable catalog.
  static Result<std::unique_ptr<StoreView>> Open(const std::filesystem::path& store_dir);

  const std::filesystem::path& dir() const { return store_->dir(); }
  Result<std::vector<store::LabelInfo>> Classes();
  // Items with status ok matching `filter`, in catalogue order (the order they were added).
  Result<std::vector<ItemSummary>> Items(const ItemFilter& filter);
  // Requires: IsBlobHash(hash). NotFound when the catalog has no such item.
  Result<ItemSummary> Summary(const std::string& hash);
  Result<ItemDetail> Detail(const std::string& hash);
  Result<std::vector<ItemSummary>> SameGroup(const std::string& hash);
  // The `limit` items nearest to `hash` by perceptual hash (a linear scan of every kept frame's
  // hash: a 100 000-item store is a few million popcounts), nearest first, ties by hash.
  Result<std::vector<Neighbour>> Similar(const std::string& hash, int limit);
  // A PNG of kept frame `frame` of the item, scaled `scale`× by nearest neighbour.
  // NotFound for an unknown item or a frame past the kept ones.
  Result<std::vector<uint8_t>> Thumbnail(const std::string& hash, int frame, int scale);
  // Changes whenever any process commits to the catalog (PRAGMA data_version of this
  // connection, plus the label log's length so a page loaded before a restart still sees news).
  Result<int64_t> Version();

 private:
  StoreView(std::unique_ptr<store::Store> store, std::unique_ptr<store::Database> db)
      : store_(std::move(store)), db_(std::move(db)) {}
  // Items whose row matches `where` (SQL over items i), `bind` binding its parameters.
  Result<std::vector<ItemSummary>> Query(const std::string& where,
                                         const std::function<void(store::Statement&)>& bind);
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace memes::pipelines::serve
