// The catalog side of `memes store merge` (store/merge.h): reading one item with its rows out
// of a store and inserting it into another, plus failures and pages. Kept apart from the
// crawl's commit path (catalog.cpp), which it does not change.
#include <utility>

#include "store/catalog.h"
#include "store/catalog_impl.h"
#include "store/sqlite.h"

namespace memes::store {

namespace {

SourceRecord SourceFromRow(Statement& stmt, int first) {
  SourceRecord source;
  source.url = stmt.Text(first);
  source.page_url = stmt.Text(first + 1);
  source.keyword = stmt.Text(first + 2);
  source.source_name = stmt.Text(first + 3);
  source.fetched_at = stmt.Int(first + 4);
  source.http_status = static_cast<int>(stmt.Int(first + 5));
  return source;
}

std::optional<std::string> OptionalText(Statement& stmt, int column) {
  if (stmt.IsNull(column)) return std::nullopt;
  return stmt.Text(column);
}

}  // namespace

Status Catalog::ForEachSource(
    const std::function<Status(int64_t id, const std::string& blob, const SourceRecord&)>& visit) {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT id, blob, url, page_url, keyword, source_name, fetched_at, "
                    "http_status FROM sources ORDER BY id"));
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    MEMES_RETURN_IF_ERROR(visit(stmt->Int(0), stmt->Text(1), SourceFromRow(*stmt.operator->(), 2)));
  }
  return Status::Ok();
}

Result<std::pair<std::string, SourceRecord>> Catalog::SourceById(int64_t id) {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT blob, url, page_url, keyword, source_name, fetched_at, http_status "
                    "FROM sources WHERE id=?"));
  stmt->Bind(1, id);
  MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
  if (!row) return NotFound("no source row " + std::to_string(id), impl_->db->path().string());
  return std::make_pair(stmt->Text(0), SourceFromRow(*stmt.operator->(), 1));
}

Result<std::vector<std::string>> Catalog::ItemsWithoutSources() {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT blob FROM items i WHERE NOT EXISTS "
                    "(SELECT 1 FROM sources s WHERE s.blob=i.blob) ORDER BY added_at, rowid"));
  std::vector<std::string> blobs;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    blobs.push_back(stmt->Text(0));
  }
  return blobs;
}

Result<ItemRows> Catalog::ReadItemRows(const std::string& blob) {
  ItemRows rows;
  {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        impl_->Cached("SELECT i.bytes, i.format, i.width, i.height, i.frame_count, i.status, "
                      "i.error, l.name, i.dropped FROM items i "
                      "LEFT JOIN labels l ON l.id=i.label_id WHERE i.blob=?"));
    stmt->Bind(1, blob);
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) return NotFound("no item with this hash", blob);
    rows.item.blob = blob;
    rows.item.bytes = static_cast<uint64_t>(stmt->Int(0));
    rows.item.format = stmt->Text(1);
    rows.item.width = static_cast<int>(stmt->Int(2));
    rows.item.height = static_cast<int>(stmt->Int(3));
    rows.item.frame_count = static_cast<int>(stmt->Int(4));
    rows.item.status = stmt->Text(5);
    rows.item.error = stmt->Text(6);
    rows.label = OptionalText(*stmt.operator->(), 7);
    rows.dropped = stmt->Int(8) != 0;
  }
  MEMES_ASSIGN_OR_RETURN(rows.frames, Frames(blob));
  MEMES_ASSIGN_OR_RETURN(
      StatementLease log,
      impl_->Cached("SELECT time, old_label, new_label, action FROM label_log WHERE blob=? "
                    "ORDER BY id"));
  log->Bind(1, blob);
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, log->Step());
    if (!row) break;
    rows.log.push_back({log->Int(0), OptionalText(*log.operator->(), 1),
                        OptionalText(*log.operator->(), 2), log->Text(3)});
  }
  return rows;
}

Status Catalog::InsertItemRows(const ItemRows& rows) {
  const ItemRecord& item = rows.item;
  if (item.blob.size() != 64) {
    return InvalidArgument("blob hash must be 64 hex characters", item.blob);
  }
  int64_t group = 0;
  if (!rows.frames.empty()) {
    // Its own group for now; RegroupStore, run after the merge, puts it where the founder rule
    // puts it. Founding here leaves the in-memory founder index stale: forget it.
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt,
                           impl_->Cached("INSERT OR IGNORE INTO groups(key) VALUES(?)"));
    MEMES_RETURN_IF_ERROR(stmt->Bind(1, item.blob).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease find, impl_->Cached("SELECT id FROM groups WHERE key=?"));
    find->Bind(1, item.blob);
    MEMES_ASSIGN_OR_RETURN(const bool found, find->Step());
    if (!found) return Internal("group row vanished", item.blob);
    group = find->Int(0);
    impl_->InvalidateFounderIndex();
  }
  std::optional<int64_t> label_id;
  if (rows.label) {
    MEMES_ASSIGN_OR_RETURN(label_id, impl_->EnsureLabel(*rows.label));
  }
  MEMES_ASSIGN_OR_RETURN(
      StatementLease insert,
      impl_->Cached("INSERT INTO items(blob, bytes, format, width, height, frame_count, status, "
                    "error, label_id, dropped, group_id, added_at) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"));
  insert->Bind(1, item.blob)
      .Bind(2, static_cast<int64_t>(item.bytes))
      .Bind(3, item.format)
      .Bind(4, int64_t{item.width})
      .Bind(5, int64_t{item.height})
      .Bind(6, int64_t{item.frame_count})
      .Bind(7, item.status)
      .Bind(8, item.error);
  if (label_id) {
    insert->Bind(9, *label_id);
  } else {
    insert->BindNull(9);
  }
  insert->Bind(10, int64_t{rows.dropped ? 1 : 0});
  if (group != 0) {
    insert->Bind(11, group);
  } else {
    insert->BindNull(11);
  }
  MEMES_RETURN_IF_ERROR(insert->Bind(12, CatalogNow()).Run());
  MEMES_RETURN_IF_ERROR(impl_->InsertFrames(item.blob, rows.frames));
  MEMES_ASSIGN_OR_RETURN(StatementLease log,
                         impl_->Cached("INSERT INTO label_log(time, blob, old_label, new_label, "
                                       "action) VALUES(?,?,?,?,?)"));
  for (const ItemRows::LogRow& row : rows.log) {
    MEMES_RETURN_IF_ERROR(log->Bind(1, row.time)
                              .Bind(2, item.blob)
                              .Bind(3, row.old_label)
                              .Bind(4, row.new_label)
                              .Bind(5, row.action)
                              .Run());
    log->Reset();
  }
  return Status::Ok();
}

Status Catalog::InsertSource(const std::string& blob, const SourceRecord& source) {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease insert,
      impl_->Cached("INSERT OR IGNORE INTO sources(blob, url, page_url, keyword, source_name, "
                    "fetched_at, http_status) VALUES(?,?,?,?,?,?,?)"));
  return insert->Bind(1, blob)
      .Bind(2, source.url)
      .Bind(3, source.page_url)
      .Bind(4, source.keyword)
      .Bind(5, source.source_name)
      .Bind(6, source.fetched_at)
      .Bind(7, int64_t{source.http_status})
      .Run();
}

Result<int64_t> Catalog::CopyFailuresAndPages(Catalog& from) {
  int64_t added = 0;
  const Status status = impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease read,
        from.impl_->Cached(
            "SELECT time, url, stage, message, kind, final FROM errors ORDER BY id"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease insert,
        impl_->Cached("INSERT INTO errors(time, url, stage, message, kind, final) "
                      "SELECT ?1,?2,?3,?4,?5,?6 WHERE NOT EXISTS (SELECT 1 FROM errors WHERE "
                      "url=?2 AND time=?1 AND stage=?3 AND message=?4 AND kind=?5 AND final=?6)"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, read->Step());
      if (!row) break;
      MEMES_RETURN_IF_ERROR(insert->Bind(1, read->Int(0))
                                .Bind(2, read->Text(1))
                                .Bind(3, read->Text(2))
                                .Bind(4, read->Text(3))
                                .Bind(5, read->Text(4))
                                .Bind(6, read->Int(5))
                                .Run());
      added += impl_->db->Changes();
      insert->Reset();
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease pages,
                           from.impl_->Cached("SELECT url, read_at, http_status FROM pages"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease insert_page,
        impl_->Cached("INSERT OR IGNORE INTO pages(url, read_at, http_status) VALUES(?,?,?)"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, pages->Step());
      if (!row) break;
      MEMES_RETURN_IF_ERROR(
          insert_page->Bind(1, pages->Text(0)).Bind(2, pages->Int(1)).Bind(3, pages->Int(2)).Run());
      added += impl_->db->Changes();
      insert_page->Reset();
    }
    return Status::Ok();
  });
  MEMES_RETURN_IF_ERROR(status);
  return added;
}

}  // namespace memes::store
