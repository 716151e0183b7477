#include "pipelines/serve/store_view.h"

#include <algorithm>
#include <map>

#include "transform/frames.h"

namespace memes::pipelines::serve {

namespace fs = std::filesystem;

namespace {

// Every item query selects these columns, in this order (ReadSummary reads them).
constexpr const char* kSummarySelect =
    "SELECT i.blob, coalesce(l.name, ''), coalesce(i.label_id, 0), i.dropped, "
    "(SELECT count(*) FROM frames f WHERE f.blob = i.blob), "
    "coalesce((SELECT count(*) FROM items g WHERE g.group_id = i.group_id), 1) "
    "FROM items i LEFT JOIN labels l ON l.id = i.label_id WHERE i.status = 'ok' ";

ItemSummary ReadSummary(const store::Statement& row) {
  ItemSummary item;
  item.hash = row.Text(0);
  item.label = row.Text(1);
  item.label_id = row.Int(2);
  item.dropped = row.Int(3) != 0;
  item.frames = static_cast<int>(row.Int(4));
  item.group_size = std::max<int64_t>(1, row.Int(5));
  return item;
}

}  // namespace

Result<std::unique_ptr<StoreView>> StoreView::Open(const fs::path& store_dir) {
  if (!fs::exists(store_dir / "catalog.sqlite")) {
    return NotFound("no store here (catalog.sqlite missing)", store_dir.string());
  }
  store::StoreOptions options;
  options.access = store::StoreAccess::kRead;
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> opened,
                         store::Store::Open(store_dir, options));
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                         store::Database::Open(store_dir / "catalog.sqlite"));
  return std::unique_ptr<StoreView>(new StoreView(std::move(opened), std::move(db)));
}

Result<std::vector<store::LabelInfo>> StoreView::Classes() { return store_->catalog().Labels(); }

Result<std::vector<ItemSummary>> StoreView::Query(
    const std::string& where, const std::function<void(store::Statement&)>& bind) {
  MEMES_ASSIGN_OR_RETURN(store::Statement query, db_->Prepare(std::string(kSummarySelect) + where +
                                                              " ORDER BY i.added_at, i.rowid"));
  bind(query);
  std::vector<ItemSummary> items;
  while (true) {
    MEMES_ASSIGN_OR_RETURN(const bool row, query.Step());
    if (!row) break;
    items.push_back(ReadSummary(query));
  }
  return items;
}

Result<std::vector<ItemSummary>> StoreView::Items(const ItemFilter& filter) {
  std::string where;
  if (filter.label_id) {
    where += *filter.label_id == 0 ? "AND i.label_id IS NULL " : "AND i.label_id = ?1 ";
  }
  if (filter.dropped) where += *filter.dropped ? "AND i.dropped = 1 " : "AND i.dropped = 0 ";
  if (!filter.keyword.empty()) {
    where +=
        "AND EXISTS (SELECT 1 FROM sources s WHERE s.blob = i.blob AND "
        "(instr(s.keyword, ?2) > 0 OR instr(s.source_name, ?2) > 0)) ";
  }
  MEMES_ASSIGN_OR_RETURN(std::vector<ItemSummary> items, Query(where, [&](store::Statement& query) {
                           if (filter.label_id && *filter.label_id != 0) {
                             query.Bind(1, *filter.label_id);
                           }
                           if (!filter.keyword.empty()) query.Bind(2, filter.keyword);
                         }));
  if (filter.min_group_size > 1) {
    std::erase_if(items,
                  [&](const ItemSummary& item) { return item.group_size < filter.min_group_size; });
  }
  return items;
}

Result<ItemSummary> StoreView::Summary(const std::string& hash) {
  MEMES_ASSIGN_OR_RETURN(std::vector<ItemSummary> items,
                         Query("AND i.blob = ?1 ", [&](store::Statement& q) { q.Bind(1, hash); }));
  if (items.empty()) return NotFound("no item with this hash in the catalog", hash);
  return items.front();
}

Result<ItemDetail> StoreView::Detail(const std::string& hash) {
  ItemDetail detail;
  MEMES_ASSIGN_OR_RETURN(detail.summary, Summary(hash));
  {
    MEMES_ASSIGN_OR_RETURN(
        store::Statement item,
        db_->Prepare("SELECT format, width, height, frame_count FROM items WHERE blob = ?1"));
    item.Bind(1, hash);
    MEMES_ASSIGN_OR_RETURN(const bool found, item.Step());
    if (!found) return NotFound("no item with this hash in the catalog", hash);
    detail.format = item.Text(0);
    detail.width = static_cast<int>(item.Int(1));
    detail.height = static_cast<int>(item.Int(2));
    detail.frame_count = static_cast<int>(item.Int(3));
  }
  MEMES_ASSIGN_OR_RETURN(detail.frames, store_->catalog().Frames(hash));
  {
    MEMES_ASSIGN_OR_RETURN(store::Statement sources,
                           db_->Prepare("SELECT url, page_url, keyword, source_name, fetched_at "
                                        "FROM sources WHERE blob = ?1 ORDER BY id"));
    sources.Bind(1, hash);
    while (true) {
      MEMES_ASSIGN_OR_RETURN(const bool row, sources.Step());
      if (!row) break;
      detail.sources.push_back(
          {sources.Text(0), sources.Text(1), sources.Text(2), sources.Text(3), sources.Int(4)});
    }
  }
  MEMES_ASSIGN_OR_RETURN(std::vector<ItemSummary> group, SameGroup(hash));
  for (const ItemSummary& member : group) {
    if (member.hash != hash) detail.group_members.push_back(member.hash);
  }
  {
    MEMES_ASSIGN_OR_RETURN(
        store::Statement log,
        db_->Prepare("SELECT time, coalesce(old_label, ''), coalesce(new_label, ''), action "
                     "FROM label_log WHERE blob = ?1 ORDER BY id"));
    log.Bind(1, hash);
    while (true) {
      MEMES_ASSIGN_OR_RETURN(const bool row, log.Step());
      if (!row) break;
      detail.history.push_back({log.Int(0), log.Text(1), log.Text(2), log.Text(3)});
    }
  }
  return detail;
}

Result<std::vector<ItemSummary>> StoreView::SameGroup(const std::string& hash) {
  MEMES_ASSIGN_OR_RETURN(ItemSummary self, Summary(hash));
  MEMES_ASSIGN_OR_RETURN(std::vector<ItemSummary> items,
                         Query("AND i.group_id IS NOT NULL AND i.group_id = "
                               "(SELECT group_id FROM items WHERE blob = ?1) ",
                               [&](store::Statement& q) { q.Bind(1, hash); }));
  if (items.empty()) items.push_back(self);  // an item without frames has no group
  return items;
}

Result<std::vector<Neighbour>> StoreView::Similar(const std::string& hash, int limit) {
  MEMES_RETURN_IF_ERROR(Summary(hash).status());  // NotFound for an uncatalogued hash
  MEMES_ASSIGN_OR_RETURN(std::vector<store::FrameRecord> own, store_->catalog().Frames(hash));
  if (own.empty()) return std::vector<Neighbour>{};
  MEMES_ASSIGN_OR_RETURN(store::Statement frames,
                         db_->Prepare("SELECT f.blob, f.phash FROM frames f JOIN items i ON "
                                      "i.blob = f.blob WHERE i.status = 'ok' AND f.blob != ?1"));
  frames.Bind(1, hash);
  std::map<std::string, int> nearest;  // blob → smallest distance to any of `own`
  while (true) {
    MEMES_ASSIGN_OR_RETURN(const bool row, frames.Step());
    if (!row) break;
    const uint64_t phash = static_cast<uint64_t>(frames.Int(1));
    int best = 64;
    for (const store::FrameRecord& frame : own) {
      best = std::min(best, store::PhashDistance(frame.phash, phash));
    }
    auto [it, inserted] = nearest.emplace(frames.Text(0), best);
    if (!inserted) it->second = std::min(it->second, best);
  }
  std::vector<std::pair<int, std::string>> ranked;
  ranked.reserve(nearest.size());
  for (const auto& [blob, distance] : nearest) ranked.emplace_back(distance, blob);
  const size_t keep = std::min(ranked.size(), static_cast<size_t>(std::max(limit, 0)));
  std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end());
  std::vector<Neighbour> neighbours;
  for (size_t i = 0; i < keep; ++i) {
    MEMES_ASSIGN_OR_RETURN(ItemSummary item, Summary(ranked[i].second));
    neighbours.push_back({std::move(item), ranked[i].first});
  }
  return neighbours;
}

Result<std::vector<uint8_t>> StoreView::Thumbnail(const std::string& hash, int frame, int scale) {
  MEMES_ASSIGN_OR_RETURN(store::ItemFrames frames, store_->ReadFrames(hash));
  if (frame < 0 || frame >= frames.count) {
    return NotFound("the item has no kept frame " + std::to_string(frame), hash);
  }
  const int size = frames.image_size;
  const std::vector<uint8_t> rgb = transform::PlanarToInterleaved(frames.Frame(frame), size);
  const int big = size * scale;
  std::vector<uint8_t> scaled(size_t(big) * big * 3);
  // Nearest neighbour: a 32×32 sticker shown larger keeps its pixels sharp.
  for (int y = 0; y < big; ++y) {
    for (int x = 0; x < big; ++x) {
      const size_t from = (size_t(y / scale) * size + x / scale) * 3;
      const size_t to = (size_t(y) * big + x) * 3;
      std::copy_n(rgb.begin() + from, 3, scaled.begin() + to);
    }
  }
  std::vector<uint8_t> png = transform::EncodePng(scaled, big, big);
  if (png.empty()) return IoError("could not encode a PNG of the frame", hash);
  return png;
}

Result<int64_t> StoreView::Version() {
  MEMES_ASSIGN_OR_RETURN(store::Statement version, db_->Prepare("PRAGMA data_version"));
  MEMES_ASSIGN_OR_RETURN(const bool row, version.Step());
  const int64_t data_version = row ? version.Int(0) : 0;
  MEMES_ASSIGN_OR_RETURN(store::Statement log,
                         db_->Prepare("SELECT coalesce(max(id), 0) FROM label_log"));
  MEMES_ASSIGN_OR_RETURN(const bool log_row, log.Step());
  const int64_t log_length = log_row ? log.Int(0) : 0;
  return log_length * 1000003 + data_version;
}

}  // namespace memes::pipelines::serve
