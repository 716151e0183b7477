// Catalog: reading and rewriting near-duplicate groups wholesale (`memes dedupe`).
#include <cstdlib>
#include <map>
#include <set>

#include "store/catalog.h"
#include "store/catalog_impl.h"

namespace memes::store {

Result<std::vector<GroupingItem>> Catalog::GroupingItems() {
  // Blobs that a `label group` merge moved (label_log has no index on blob: one pass).
  std::set<std::string> merged;
  {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        impl_->Cached("SELECT DISTINCT blob FROM label_log WHERE action LIKE 'group %'"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
      if (!row) break;
      merged.insert(stmt->Text(0));
    }
  }
  // added_at then rowid: the order items were committed in, which is the order that chose
  // founders (rowid alone could be renumbered by a VACUUM).
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT i.blob, g.key, "
                    "  (SELECT group_concat(phash) FROM "
                    "     (SELECT phash FROM frames f WHERE f.blob=i.blob ORDER BY frame_index)) "
                    "FROM items i JOIN groups g ON g.id=i.group_id "
                    "ORDER BY i.added_at, i.rowid"));
  std::vector<GroupingItem> items;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    GroupingItem item{stmt->Text(0), stmt->Text(1), false, {}};
    item.merged = merged.count(item.blob) != 0;
    const std::string hashes = stmt->IsNull(2) ? std::string() : stmt->Text(2);
    for (const char* at = hashes.c_str(); *at != '\0';) {
      char* end = nullptr;
      item.phashes.push_back(static_cast<uint64_t>(std::strtoll(at, &end, 10)));
      at = *end == ',' ? end + 1 : end;
    }
    items.push_back(std::move(item));
  }
  return items;
}

Result<int64_t> Catalog::ExactDuplicateSources() {
  MEMES_ASSIGN_OR_RETURN(StatementLease stmt,
                         impl_->Cached("SELECT COUNT(*) - COUNT(DISTINCT blob) FROM sources"));
  MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
  return row ? stmt->Int(0) : 0;
}

Result<int64_t> Catalog::Regroup(std::span<const std::pair<std::string, std::string>> founder_of,
                                 std::span<const std::string> representatives,
                                 std::span<const std::string> absorbing) {
  int64_t changed = 0;
  const Status status = impl_->InTransaction([&]() -> Status {
    MEMES_RETURN_IF_ERROR(
        impl_->db->Exec("UPDATE items SET representative=0 WHERE representative<>0"));
    MEMES_ASSIGN_OR_RETURN(StatementLease represent,
                           impl_->Cached("UPDATE items SET representative=1 WHERE blob=?"));
    for (const std::string& blob : representatives) {
      represent->Reset();
      MEMES_RETURN_IF_ERROR(represent->Bind(1, blob).Run());
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease find_group,
                           impl_->Cached("SELECT id FROM groups WHERE key=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease add_group,
                           impl_->Cached("INSERT INTO groups(key) VALUES(?)"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease current,
        impl_->Cached("SELECT COALESCE(g.key, '') FROM items i LEFT JOIN groups g "
                      "ON g.id=i.group_id WHERE i.blob=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease move,
                           impl_->Cached("UPDATE items SET group_id=? WHERE blob=?"));
    std::map<std::string, int64_t> group_ids;  // founder blob -> group id
    for (const auto& [blob, founder] : founder_of) {
      auto it = group_ids.find(founder);
      if (it == group_ids.end()) {
        find_group->Reset();
        find_group->Bind(1, founder);
        MEMES_ASSIGN_OR_RETURN(const bool found, find_group->Step());
        int64_t id = 0;
        if (found) {
          id = find_group->Int(0);
        } else {
          add_group->Reset();
          MEMES_RETURN_IF_ERROR(add_group->Bind(1, founder).Run());
          id = impl_->db->LastInsertRowId();
        }
        find_group->Reset();
        it = group_ids.emplace(founder, id).first;
      }
      current->Reset();
      current->Bind(1, blob);
      MEMES_ASSIGN_OR_RETURN(const bool exists, current->Step());
      if (!exists) return NotFound("no item with this hash", blob);
      const bool moves = current->Text(0) != founder;
      current->Reset();
      if (!moves) continue;
      move->Reset();
      MEMES_RETURN_IF_ERROR(move->Bind(1, it->second).Bind(2, blob).Run());
      ++changed;
    }
    MEMES_RETURN_IF_ERROR(
        impl_->db->Exec("DELETE FROM groups WHERE id NOT IN "
                        "(SELECT group_id FROM items WHERE group_id IS NOT NULL)"));
    MEMES_RETURN_IF_ERROR(impl_->db->Exec("UPDATE groups SET absorbed=0 WHERE absorbed<>0"));
    MEMES_ASSIGN_OR_RETURN(StatementLease absorbs,
                           impl_->Cached("UPDATE groups SET absorbed=1 WHERE key=?"));
    for (const std::string& founder : absorbing) {
      absorbs->Reset();
      MEMES_RETURN_IF_ERROR(absorbs->Bind(1, founder).Run());
    }
    return Status::Ok();
  });
  impl_->InvalidateFounderIndex();
  if (!status.ok()) return status;
  return changed;
}

Result<int64_t> Catalog::RewriteFrameHashes(
    std::span<const std::pair<std::string, std::vector<uint64_t>>> hashes,
    std::span<const std::vector<uint8_t>> thumbs, std::span<const std::vector<uint64_t>> seconds,
    std::span<const std::vector<uint8_t>> second_thumbs) {
  if (!thumbs.empty() && thumbs.size() != hashes.size()) {
    return InvalidArgument("thumbnails for " + std::to_string(thumbs.size()) + " of " +
                           std::to_string(hashes.size()) + " items");
  }
  if (!seconds.empty() && seconds.size() != hashes.size()) {
    return InvalidArgument("second hashes for " + std::to_string(seconds.size()) + " of " +
                           std::to_string(hashes.size()) + " items");
  }
  if (!second_thumbs.empty() && second_thumbs.size() != seconds.size()) {
    return InvalidArgument("second thumbnails for " + std::to_string(second_thumbs.size()) +
                           " of " + std::to_string(seconds.size()) + " items");
  }
  int64_t changed = 0;
  const Status status = impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease frames,
        impl_->Cached("SELECT frame_index, phash, thumb FROM frames WHERE blob=? "
                      "ORDER BY frame_index"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease update,
        impl_->Cached("UPDATE frames SET phash=? WHERE blob=? AND frame_index=?"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease update_thumb,
        impl_->Cached("UPDATE frames SET thumb=? WHERE blob=? AND frame_index=?"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease update_second,
        impl_->Cached("UPDATE frames SET phash2=?, thumb2=? WHERE blob=? AND frame_index=?"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease mark_current,
        impl_->Cached("UPDATE frames SET phash_rule=1 WHERE blob=? AND phash_rule IS NULL"));
    for (size_t item = 0; item < hashes.size(); ++item) {
      const auto& [blob, new_hashes] = hashes[item];
      std::vector<std::pair<int64_t, uint64_t>> stored;  // frame index, hash
      std::vector<std::string> stored_thumbs;
      frames->Reset();
      frames->Bind(1, blob);
      for (;;) {
        MEMES_ASSIGN_OR_RETURN(const bool row, frames->Step());
        if (!row) break;
        stored.emplace_back(frames->Int(0), static_cast<uint64_t>(frames->Int(1)));
        stored_thumbs.push_back(frames->IsNull(2) ? std::string() : frames->Text(2));
      }
      frames->Reset();
      if (stored.size() != new_hashes.size()) {
        return InvalidArgument(std::to_string(new_hashes.size()) + " hashes for " +
                                   std::to_string(stored.size()) + " stored frames",
                               blob);
      }
      const std::vector<uint8_t>* new_thumbs = thumbs.empty() ? nullptr : &thumbs[item];
      if (new_thumbs && new_thumbs->size() != stored.size() * kThumbBytes) {
        return InvalidArgument(std::to_string(new_thumbs->size()) + " thumbnail bytes for " +
                                   std::to_string(stored.size()) + " stored frames",
                               blob);
      }
      const std::vector<uint64_t>* new_seconds =
          seconds.empty() || seconds[item].empty() ? nullptr : &seconds[item];
      if (new_seconds && new_seconds->size() != stored.size()) {
        return InvalidArgument(std::to_string(new_seconds->size()) + " second hashes for " +
                                   std::to_string(stored.size()) + " stored frames",
                               blob);
      }
      const std::vector<uint8_t>* new_second_thumbs =
          new_seconds && !second_thumbs.empty() && !second_thumbs[item].empty()
              ? &second_thumbs[item]
              : nullptr;
      if (new_second_thumbs && new_second_thumbs->size() != stored.size() * kThumbBytes) {
        return InvalidArgument(std::to_string(new_second_thumbs->size()) +
                                   " second thumbnail bytes for " + std::to_string(stored.size()) +
                                   " stored frames",
                               blob);
      }
      for (size_t k = 0; k < stored.size() && new_seconds; ++k) {
        update_second->Reset();
        update_second->Bind(1, static_cast<int64_t>((*new_seconds)[k]));
        if (new_second_thumbs) {
          update_second->BindBlob(2, new_second_thumbs->data() + k * kThumbBytes, kThumbBytes);
        } else {
          update_second->BindNull(2);
        }
        MEMES_RETURN_IF_ERROR(update_second->Bind(3, blob).Bind(4, stored[k].first).Run());
      }
      for (size_t k = 0; k < stored.size() && new_thumbs; ++k) {
        const uint8_t* thumb = new_thumbs->data() + k * kThumbBytes;
        if (stored_thumbs[k] ==
            std::string_view(reinterpret_cast<const char*>(thumb), kThumbBytes)) {
          continue;
        }
        update_thumb->Reset();
        MEMES_RETURN_IF_ERROR(update_thumb->BindBlob(1, thumb, kThumbBytes)
                                  .Bind(2, blob)
                                  .Bind(3, stored[k].first)
                                  .Run());
      }
      mark_current->Reset();
      MEMES_RETURN_IF_ERROR(mark_current->Bind(1, blob).Run());
      for (size_t k = 0; k < stored.size(); ++k) {
        if (stored[k].second == new_hashes[k]) continue;
        update->Reset();
        MEMES_RETURN_IF_ERROR(update->Bind(1, static_cast<int64_t>(new_hashes[k]))
                                  .Bind(2, blob)
                                  .Bind(3, stored[k].first)
                                  .Run());
        ++changed;
      }
    }
    return Status::Ok();
  });
  impl_->InvalidateFounderIndex();
  if (!status.ok()) return status;
  return changed;
}

}  // namespace memes::store
