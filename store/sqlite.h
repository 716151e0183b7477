// A thin RAII layer over SQLite for the catalog: Database owns a sqlite3*, Statement owns a
// prepared sqlite3_stmt* and turns SQLite errors into Status values naming the database file.
// Thread-safety: none; one Database per thread (the catalog is written by one serial node).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace memes::store {

class Statement;

class Database {
 public:
  // Opens (creating) the file in WAL mode with a busy timeout, foreign keys on and
  // synchronous=FULL (a committed transaction survives a power cut; kill -9 never corrupts).
  static Result<std::unique_ptr<Database>> Open(const std::filesystem::path& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results (schema, pragmas, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Prepares one statement. Requires: `sql` is a single statement.
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // A Status for the connection's last error.
  Status Error(std::string_view what) const;

 private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::filesystem::path path_;
};

// A prepared statement. Bind with 1-based indices, Step() until it returns false, Reset() to
// reuse. Column getters read the current row (0-based).
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, const void* data, size_t size);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::optional<std::string>& text);

  // true: a row is ready; false: done. Errors are returned as Status.
  Result<bool> Step();
  // Steps to completion, expecting no rows (INSERT/UPDATE/DELETE).
  Status Run();
  void Reset();  // also clears bindings

  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Database;
  Statement(const Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  const Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on Begin(); ROLLBACK on destruction unless Commit() succeeded. Begun while
// another transaction is open on the connection, it is a SAVEPOINT instead: Commit() releases
// it (durable only when the outer transaction commits), destruction rolls back its changes
// alone. So a catalog call that is one transaction on its own joins a caller's batch.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Begin();
  Status Commit();

 private:
  Database& db_;
  bool open_ = false;
  bool nested_ = false;
};

}  // namespace memes::store
