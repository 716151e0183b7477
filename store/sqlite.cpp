#include "store/sqlite.h"

#include <sqlite3.h>

#include "store/file_util.h"

namespace memes::store {

Result<std::unique_ptr<Database>> Database::Open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return IoError("cannot open catalog: " + message, path.string());
  }
  std::unique_ptr<Database> db(new Database(raw, path));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  // synchronous=OFF only for bulk loads (see SetDurableWrites); kill -9 safety holds either way.
  MEMES_RETURN_IF_ERROR(db->Exec(DurableWrites()
                                     ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"));
  MEMES_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON;"));
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Error(std::string_view what) const {
  return IoError(std::string(what) + ": " + sqlite3_errmsg(db_), path_.string());
}

Status Database::Exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = message ? message : "unknown error";
    sqlite3_free(message);
    return IoError("sql failed: " + error + " in: " + text.substr(0, 80), path_.string());
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Error("cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
  }
  return Statement(this, stmt);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}
Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}
Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int index, const void* data, size_t size) {
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("sql step failed");
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) {
      Reset();
      return row.status();
    }
    if (!*row) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Status Transaction::Begin() {
  // Inside an open transaction (a batch of commits), this one is a savepoint: its rollback
  // undoes its own changes only, and its changes become durable with the outer COMMIT.
  nested_ = sqlite3_get_autocommit(db_.handle()) == 0;
  MEMES_RETURN_IF_ERROR(db_.Exec(nested_ ? "SAVEPOINT memes_nested" : "BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  MEMES_RETURN_IF_ERROR(db_.Exec(nested_ ? "RELEASE memes_nested" : "COMMIT"));
  open_ = false;
  return Status::Ok();
}

Transaction::~Transaction() {
  if (!open_) return;
  if (nested_) {
    (void)db_.Exec("ROLLBACK TO memes_nested");
    (void)db_.Exec("RELEASE memes_nested");
  } else {
    (void)db_.Exec("ROLLBACK");
  }
}

}  // namespace memes::store
