// Internals shared by catalog.cpp and catalog_labels.cpp: the Catalog's private state and the
// cached-statement lease. Not part of the store's API.
// Thread-safety: as Catalog (none).
#pragma once

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/catalog.h"
#include "store/sqlite.h"

namespace memes::store {

inline int64_t CatalogNow() { return static_cast<int64_t>(std::time(nullptr)); }

// A cached prepared statement, reset when the lease ends so that no finished-with SELECT keeps
// a read transaction (and a stale WAL snapshot) open.
class StatementLease {
 public:
  explicit StatementLease(Statement* statement) : statement_(statement) {}
  StatementLease(StatementLease&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)) {}
  StatementLease& operator=(StatementLease&&) = delete;
  ~StatementLease() {
    if (statement_) statement_->Reset();
  }
  Statement* operator->() { return statement_; }

 private:
  Statement* statement_;
};

struct Catalog::Impl {
  std::unique_ptr<Database> db;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements;

  // The prepared statement for `sql`, prepared once per catalog.
  Result<StatementLease> Cached(std::string_view sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      MEMES_ASSIGN_OR_RETURN(Statement statement, db->Prepare(sql));
      it = statements.emplace(std::string(sql), std::make_unique<Statement>(std::move(statement)))
               .first;
    }
    it->second->Reset();
    return StatementLease(it->second.get());
  }
  CatalogOptions options;
  int version = 0;
  // (phash, group) of every kept frame; loaded on the first AddItem that needs it.
  std::vector<std::pair<uint64_t, int64_t>> phash_index;
  bool phash_loaded = false;

  Result<int> UserVersion() {
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("PRAGMA user_version"));
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    return row ? static_cast<int>(stmt->Int(0)) : 0;
  }

  // Runs the migrations up to kCatalogSchemaVersion (catalog.cpp).
  Status Migrate();

  Status InTransaction(const std::function<Status()>& body) {
    Transaction txn(*db);
    MEMES_RETURN_IF_ERROR(txn.Begin());
    MEMES_RETURN_IF_ERROR(body());
    return txn.Commit();
  }

  Result<std::optional<int64_t>> LabelId(const std::string& name) {
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("SELECT id FROM labels WHERE name=?"));
    stmt->Bind(1, name);
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(stmt->Int(0));
  }

  // The id of `name`, appending a new label when unknown; un-retires a retired one.
  Result<int64_t> EnsureLabel(const std::string& name) {
    if (name.empty()) return InvalidArgument("a label name cannot be empty");
    if (name.find_first_of("\t\n\r") != std::string::npos) {
      return InvalidArgument("a label name cannot hold tabs or line breaks: '" + name + "'");
    }
    MEMES_ASSIGN_OR_RETURN(auto id, LabelId(name));
    if (id) {
      MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("UPDATE labels SET retired=0 WHERE id=?"));
      MEMES_RETURN_IF_ERROR(stmt->Bind(1, *id).Run());
      return *id;
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("INSERT INTO labels(name) VALUES(?)"));
    MEMES_RETURN_IF_ERROR(stmt->Bind(1, name).Run());
    return db->LastInsertRowId();
  }

  Status Log(const std::string& blob, const std::optional<std::string>& old_label,
             const std::optional<std::string>& new_label, const std::string& action) {
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt,
                           Cached("INSERT INTO label_log(time, blob, old_label, new_label, action) "
                                  "VALUES(?,?,?,?,?)"));
    return stmt->Bind(1, CatalogNow())
        .Bind(2, blob)
        .Bind(3, old_label)
        .Bind(4, new_label)
        .Bind(5, action)
        .Run();
  }

  Result<std::optional<std::string>> ItemLabel(const std::string& blob) {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached("SELECT l.name FROM items i LEFT JOIN labels l ON l.id=i.label_id "
               "WHERE i.blob=?"));
    stmt->Bind(1, blob);
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) return NotFound("no item with this hash", blob);
    if (stmt->IsNull(0)) return std::optional<std::string>();
    return std::optional<std::string>(stmt->Text(0));
  }

  Status LoadPhashIndex() {
    if (phash_loaded) return Status::Ok();
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached("SELECT f.phash, i.group_id FROM frames f JOIN items i ON i.blob=f.blob "
               "WHERE i.group_id IS NOT NULL"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
      if (!row) break;
      phash_index.emplace_back(static_cast<uint64_t>(stmt->Int(0)), stmt->Int(1));
    }
    phash_loaded = true;
    return Status::Ok();
  }

  Status InsertFrames(const std::string& blob, std::span<const FrameRecord> frames) {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached("INSERT OR REPLACE INTO frames(blob, frame_index, timestamp_ms, phash) "
               "VALUES(?,?,?,?)"));
    for (const FrameRecord& frame : frames) {
      MEMES_RETURN_IF_ERROR(stmt->Bind(1, blob)
                                .Bind(2, int64_t{frame.index})
                                .Bind(3, frame.timestamp_ms)
                                .Bind(4, static_cast<int64_t>(frame.phash))
                                .Run());
    }
    return Status::Ok();
  }

  // The group a new item with these frames joins, creating one keyed by `blob` if none is near.
  Result<int64_t> AssignGroup(const std::string& blob, std::span<const FrameRecord> frames) {
    MEMES_RETURN_IF_ERROR(LoadPhashIndex());
    int64_t best = 0;
    for (const FrameRecord& frame : frames) {
      for (const auto& [phash, group] : phash_index) {
        if ((best == 0 || group < best) &&
            PhashDistance(phash, frame.phash) <= options.near_duplicate_distance) {
          best = group;
        }
      }
    }
    if (best != 0) return best;
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("INSERT INTO groups(key) VALUES(?)"));
    MEMES_RETURN_IF_ERROR(stmt->Bind(1, blob).Run());
    return db->LastInsertRowId();
  }
};

}  // namespace memes::store
