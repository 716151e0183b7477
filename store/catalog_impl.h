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
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/catalog.h"
#include "store/near_dup_index.h"
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

// What the near-duplicate lookup before an item's transaction found.
struct LookedUp {
  int64_t group = 0;        // 0: none, the item founds a group
  bool represents = false;  // it becomes one of the group's representatives
  // Groups the item bridges (BridgeMerges), {from, into} in order; `group` is the last `into`.
  std::vector<std::pair<int64_t, int64_t>> merges;
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
  // The kept frames' hashes of every group founder (groups.key), tagged with the group id;
  // loaded on the first lookup (commands that never add items never pay for it).
  // Also the frames of the groups' other representatives (items.representative), and per
  // group how many representatives it has, the founder counted.
  std::unique_ptr<NearDupIndex> founders;
  std::unordered_map<int64_t, int> representatives;
  // Groups that absorbed another (groups.absorbed), loaded with the index.
  std::unordered_set<int64_t> absorbed;
  bool founders_loaded = false;

  Result<int> UserVersion() {
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("PRAGMA user_version"));
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    return row ? static_cast<int>(stmt->Int(0)) : 0;
  }

  // Runs the migrations up to kCatalogSchemaVersion (catalog.cpp).
  Status Migrate();

  // Nested calls are savepoints (sqlite.h, Transaction). Invariant: when any level fails, the
  // founder index is dropped, since a founder it learnt inside may have been rolled back.
  Status InTransaction(const std::function<Status()>& body) {
    Status status = [&]() -> Status {
      Transaction txn(*db);
      MEMES_RETURN_IF_ERROR(txn.Begin());
      MEMES_RETURN_IF_ERROR(body());
      return txn.Commit();
    }();
    if (!status.ok()) InvalidateFounderIndex();
    return status;
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

  // Loads the founders' and representatives' frame hashes into `founders` unless loaded
  // already.
  Status LoadFounderIndex() {
    if (founders_loaded) return Status::Ok();
    founders = std::make_unique<NearDupIndex>(options.rule.IndexRadius());
    representatives.clear();
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached(
            "SELECT f.phash, g.id, f.thumb, f.phash2, 1, f.thumb2 FROM groups g "
            "JOIN frames f ON f.blob=g.key "
            "UNION ALL SELECT f.phash, i.group_id, f.thumb, f.phash2, 0, f.thumb2 FROM items i "
            "JOIN frames f ON f.blob=i.blob WHERE i.representative=1 AND i.group_id IS NOT NULL"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
      if (!row) break;
      const std::string thumb = stmt->IsNull(2) ? std::string() : stmt->Text(2);
      const std::string thumb2 = stmt->IsNull(5) ? std::string() : stmt->Text(5);
      auto bytes = [](const std::string& blob) {
        return blob.size() == kThumbBytes
                   ? std::span(reinterpret_cast<const uint8_t*>(blob.data()), blob.size())
                   : std::span<const uint8_t>();
      };
      const std::optional<uint64_t> second =
          stmt->IsNull(3) ? std::nullopt
                          : std::optional<uint64_t>(static_cast<uint64_t>(stmt->Int(3)));
      founders->Add(static_cast<uint64_t>(stmt->Int(0)), stmt->Int(1), bytes(thumb),
                    /*defer=*/true, second, /*founder=*/stmt->Int(4) != 0,
                    second ? bytes(thumb2) : std::span<const uint8_t>());
    }
    founders->Flush();
    MEMES_ASSIGN_OR_RETURN(StatementLease count,
                           Cached("SELECT group_id, COUNT(*) FROM items WHERE representative=1 "
                                  "AND group_id IS NOT NULL GROUP BY group_id"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, count->Step());
      if (!row) break;
      representatives[count->Int(0)] = static_cast<int>(count->Int(1));
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease merged,
                           Cached("SELECT id FROM groups WHERE absorbed<>0"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, merged->Step());
      if (!row) break;
      absorbed.insert(merged->Int(0));
    }
    founders_loaded = true;
    return Status::Ok();
  }
  // A group's representatives, the founder counted.
  int RepresentativesOf(int64_t group) const {
    const auto it = representatives.find(group);
    return 1 + (it == representatives.end() ? 0 : it->second);
  }
  // Inside the write transaction of an item that joined `group` as a representative: its
  // frames attract from now on (the same invariant as JoinOrFound's).
  void AddRepresentative(int64_t group, std::span<const FrameRecord> frames) {
    if (!founders_loaded) return;
    IndexFrames(group, frames, /*founder=*/false);
    ++representatives[group];
  }
  // Puts `frames` into the loaded founder index for `group`.
  void IndexFrames(int64_t group, std::span<const FrameRecord> frames, bool founder) {
    for (const FrameRecord& frame : frames) {
      founders->Add(frame.phash, group,
                    frame.thumb.size() == kThumbBytes ? std::span<const uint8_t>(frame.thumb)
                                                      : std::span<const uint8_t>(),
                    /*defer=*/false, frame.phash2, founder,
                    frame.phash2 && frame.thumb2.size() == kThumbBytes
                        ? std::span<const uint8_t>(frame.thumb2)
                        : std::span<const uint8_t>());
    }
  }
  // Forgets the founder index (groups changed, or a transaction that added founders rolled
  // back); the next lookup reloads it from the catalog.
  void InvalidateFounderIndex() {
    founders.reset();
    representatives.clear();
    absorbed.clear();
    founders_loaded = false;
  }

  // Inside the write transaction of the item that bridges them: merges group `from` into
  // `into` (LookedUp::merges). `from`'s members move, its founder becomes a representative of
  // `into` (its frames keep attracting, as a representative's), `into` is marked absorbed, and
  // the loaded index answers `from`'s frames as `into`'s.
  Status MergeGroups(int64_t from, int64_t into) {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease founder,
        Cached("UPDATE items SET representative=1 WHERE blob=(SELECT key FROM groups WHERE id=?)"));
    MEMES_RETURN_IF_ERROR(founder->Bind(1, from).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease move,
                           Cached("UPDATE items SET group_id=? WHERE group_id=?"));
    MEMES_RETURN_IF_ERROR(move->Bind(1, into).Bind(2, from).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease erase, Cached("DELETE FROM groups WHERE id=?"));
    MEMES_RETURN_IF_ERROR(erase->Bind(1, from).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease mark, Cached("UPDATE groups SET absorbed=1 WHERE id=?"));
    MEMES_RETURN_IF_ERROR(mark->Bind(1, into).Run());
    if (founders_loaded) {
      founders->Merge(from, into);
      absorbed.insert(into);
      representatives[into] += RepresentativesOf(from);
      representatives.erase(from);
    }
    return Status::Ok();
  }

  Status InsertFrames(const std::string& blob, std::span<const FrameRecord> frames) {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached("INSERT OR REPLACE INTO frames(blob, frame_index, timestamp_ms, phash, thumb, "
               "phash2, thumb2, phash_rule) VALUES(?,?,?,?,?,?,?,?)"));
    for (const FrameRecord& frame : frames) {
      stmt->Bind(1, blob)
          .Bind(2, int64_t{frame.index})
          .Bind(3, frame.timestamp_ms)
          .Bind(4, static_cast<int64_t>(frame.phash));
      if (frame.thumb.size() == kThumbBytes) {
        stmt->BindBlob(5, frame.thumb.data(), frame.thumb.size());
      } else {
        stmt->BindNull(5);
      }
      if (frame.phash2) {
        stmt->Bind(6, static_cast<int64_t>(*frame.phash2));
      } else {
        stmt->BindNull(6);
      }
      if (frame.phash2 && frame.thumb2.size() == kThumbBytes) {
        stmt->BindBlob(7, frame.thumb2.data(), frame.thumb2.size());
      } else {
        stmt->BindNull(7);
      }
      if (frame.phash_current) {
        stmt->Bind(8, int64_t{1});
      } else {
        stmt->BindNull(8);
      }
      MEMES_RETURN_IF_ERROR(stmt->Run());
    }
    return Status::Ok();
  }

  Status SetFramesLocation(const std::string& blob, const FramesLocation& location) {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        Cached("UPDATE items SET frames_segment=?, frames_offset=?, frames_length=? WHERE blob=?"));
    return stmt->Bind(1, int64_t{location.segment})
        .Bind(2, static_cast<int64_t>(location.offset))
        .Bind(3, static_cast<int64_t>(location.length))
        .Bind(4, blob)
        .Run();
  }

  // The group whose representative accepts `probes` best (the lookup half of
  // Catalog::AddItem; group 0: none), and whether the item would become one of its representatives
  // (MayRepresent). Memory only once the index is loaded: callers run it before taking the write
  // lock. Probe data of the wrong size is left out (thumbnails: one per probe; second hashes: one
  // per probe, with one second thumbnail each).
  // `frames`: how many frames the probes are of (probes of 8 orientations a frame, each frame's
  // unturned first: the turned ones are read at the rule's turned radius and bridges looked for
  // through each frame's unturned band, NearDupIndex::NearestAccepted).
  Result<LookedUp> LookupGroup(std::span<const uint64_t> probes,
                               std::span<const uint8_t> probe_thumbs,
                               std::span<const uint64_t> second_probes = {},
                               std::span<const uint8_t> second_probe_thumbs = {},
                               size_t frames = 0) {
    MEMES_RETURN_IF_ERROR(LoadFounderIndex());
    if (probe_thumbs.size() != probes.size() * kThumbBytes) probe_thumbs = {};
    if (second_probes.size() != probes.size() ||
        second_probe_thumbs.size() != probes.size() * kThumbBytes) {
      second_probes = {};
      second_probe_thumbs = {};
    }
    const MatchRule rule = options.rule;
    std::vector<NearDupIndex::Match> bridges;
    const auto match = founders->NearestAccepted(
        probes, probe_thumbs, rule, second_probes, second_probe_thumbs,
        rule.Bridges() ? &bridges : nullptr, ProbeOrientations(probes.size(), frames));
    if (!match) return LookedUp{};
    LookedUp found{match->group, false, BridgeMerges(*match, bridges, rule, [&](int64_t group) {
                     return absorbed.count(group) != 0;
                   })};
    // The representatives the item's group will hold once the merges are made (MergeGroups).
    int count = RepresentativesOf(match->group);
    for (const auto& [from, into] : found.merges) count += RepresentativesOf(from);
    if (!found.merges.empty()) found.group = found.merges.back().second;
    // Merged into another group, whose founder did not accept the item as `match` says: the
    // item does not represent it.
    found.represents = found.group == match->group && MayRepresent(*match, count, rule);
    return found;
  }

  // Inside the item's write transaction: `looked_up` when LookupGroup found one, else a new
  // group keyed by `blob`, whose frames become founder hashes at once (so the next item of the
  // same transaction sees them). Invariant: a caller whose transaction fails calls
  // InvalidateFounderIndex, so the index never holds a founder the catalog does not.
  Result<int64_t> JoinOrFound(const std::string& blob, const LookedUp& looked_up,
                              std::span<const FrameRecord> frames) {
    if (looked_up.group != 0) {
      for (const auto& [from, into] : looked_up.merges) {
        MEMES_RETURN_IF_ERROR(MergeGroups(from, into));
      }
      return looked_up.group;
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease stmt, Cached("INSERT INTO groups(key) VALUES(?)"));
    MEMES_RETURN_IF_ERROR(stmt->Bind(1, blob).Run());
    const int64_t group = db->LastInsertRowId();
    if (founders_loaded) IndexFrames(group, frames, /*founder=*/true);
    return group;
  }
};

}  // namespace memes::store
