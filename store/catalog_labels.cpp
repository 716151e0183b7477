// Catalog: labels, drops, the label CSV import, group merges and the label-change log.
#include <cctype>
#include <set>

#include "core/text.h"
#include "store/catalog.h"
#include "store/catalog_impl.h"

namespace memes::store {

Result<std::vector<LabelInfo>> Catalog::Labels() {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT l.id, l.name, l.retired, "
                    "  (SELECT COUNT(*) FROM items i WHERE i.label_id=l.id AND i.dropped=0), "
                    "  (SELECT COUNT(*) FROM items i WHERE i.label_id=l.id AND i.dropped=1) "
                    "FROM labels l ORDER BY l.id"));
  std::vector<LabelInfo> labels;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    labels.push_back({stmt->Int(0), stmt->Text(1), stmt->Int(2) != 0, stmt->Int(3), stmt->Int(4)});
  }
  return labels;
}

Result<std::vector<std::string>> Catalog::ResolvePrefix(const std::string& prefix, int limit) {
  for (char c : prefix) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c))) {
      return InvalidArgument("an item is named by lower-case hex (a blob hash or its prefix)",
                             prefix);
    }
  }
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT blob FROM items WHERE blob >= ? AND blob < ? ORDER BY blob LIMIT ?"));
  stmt->Bind(1, prefix).Bind(2, prefix + "g").Bind(3, int64_t{limit});
  std::vector<std::string> blobs;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    blobs.push_back(stmt->Text(0));
  }
  return blobs;
}

Status Catalog::SetLabel(std::span<const std::string> blobs, const std::string& label,
                         const std::string& action) {
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(const int64_t label_id, impl_->EnsureLabel(label));
    MEMES_ASSIGN_OR_RETURN(StatementLease update,
                           impl_->Cached("UPDATE items SET label_id=? WHERE blob=?"));
    for (const std::string& blob : blobs) {
      MEMES_ASSIGN_OR_RETURN(auto old_label, impl_->ItemLabel(blob));
      if (old_label && *old_label == label) continue;
      MEMES_RETURN_IF_ERROR(update->Bind(1, label_id).Bind(2, blob).Run());
      MEMES_RETURN_IF_ERROR(impl_->Log(blob, old_label, label, action));
    }
    return Status::Ok();
  });
}

Status Catalog::ClearLabel(std::span<const std::string> blobs, const std::string& action) {
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(StatementLease update,
                           impl_->Cached("UPDATE items SET label_id=NULL WHERE blob=?"));
    for (const std::string& blob : blobs) {
      MEMES_ASSIGN_OR_RETURN(auto old_label, impl_->ItemLabel(blob));
      if (!old_label) continue;
      MEMES_RETURN_IF_ERROR(update->Bind(1, blob).Run());
      MEMES_RETURN_IF_ERROR(impl_->Log(blob, old_label, std::nullopt, action));
    }
    return Status::Ok();
  });
}

Status Catalog::RenameLabel(const std::string& old_name, const std::string& new_name) {
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(auto old_id, impl_->LabelId(old_name));
    if (!old_id) return NotFound("no label named '" + old_name + "'");
    MEMES_ASSIGN_OR_RETURN(auto new_id, impl_->LabelId(new_name));
    if (new_id) {
      return InvalidArgument("label '" + new_name + "' exists already; use `label merge " +
                             old_name + " " + new_name + "`");
    }
    if (new_name.empty() || new_name.find_first_of("\t\n\r") != std::string::npos) {
      return InvalidArgument("bad label name '" + new_name + "'");
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease update,
                           impl_->Cached("UPDATE labels SET name=? WHERE id=?"));
    MEMES_RETURN_IF_ERROR(update->Bind(1, new_name).Bind(2, *old_id).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease items,
                           impl_->Cached("SELECT blob FROM items WHERE label_id=?"));
    items->Bind(1, *old_id);
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, items->Step());
      if (!row) break;
      MEMES_RETURN_IF_ERROR(impl_->Log(items->Text(0), old_name, new_name, "rename"));
    }
    return Status::Ok();
  });
}

Status Catalog::MergeLabels(const std::string& from, const std::string& into) {
  if (from == into) return InvalidArgument("cannot merge a label into itself: '" + from + "'");
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(auto from_id, impl_->LabelId(from));
    if (!from_id) return NotFound("no label named '" + from + "'");
    MEMES_ASSIGN_OR_RETURN(const int64_t into_id, impl_->EnsureLabel(into));
    MEMES_ASSIGN_OR_RETURN(StatementLease items,
                           impl_->Cached("SELECT blob FROM items WHERE label_id=?"));
    items->Bind(1, *from_id);
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, items->Step());
      if (!row) break;
      MEMES_RETURN_IF_ERROR(impl_->Log(items->Text(0), from, into, "merge"));
    }
    MEMES_ASSIGN_OR_RETURN(StatementLease move,
                           impl_->Cached("UPDATE items SET label_id=? WHERE label_id=?"));
    MEMES_RETURN_IF_ERROR(move->Bind(1, into_id).Bind(2, *from_id).Run());
    MEMES_ASSIGN_OR_RETURN(StatementLease retire,
                           impl_->Cached("UPDATE labels SET retired=1 WHERE id=?"));
    return retire->Bind(1, *from_id).Run();
  });
}

Status Catalog::SetDropped(std::span<const std::string> blobs, bool dropped) {
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(StatementLease update,
                           impl_->Cached("UPDATE items SET dropped=? WHERE blob=?"));
    for (const std::string& blob : blobs) {
      MEMES_ASSIGN_OR_RETURN(auto label, impl_->ItemLabel(blob));
      MEMES_RETURN_IF_ERROR(update->Bind(1, int64_t{dropped ? 1 : 0}).Bind(2, blob).Run());
      MEMES_RETURN_IF_ERROR(impl_->Log(blob, label, label, dropped ? "drop" : "undrop"));
    }
    return Status::Ok();
  });
}

Status Catalog::ImportLabels(std::span<const LabelRow> rows, const std::string& action) {
  return impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(StatementLease label_update,
                           impl_->Cached("UPDATE items SET label_id=? WHERE blob=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease dropped_query,
                           impl_->Cached("SELECT dropped FROM items WHERE blob=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease dropped_update,
                           impl_->Cached("UPDATE items SET dropped=? WHERE blob=?"));
    for (const LabelRow& row : rows) {
      MEMES_ASSIGN_OR_RETURN(auto old_label, impl_->ItemLabel(row.blob));
      const std::optional<std::string> new_label =
          row.label.empty() ? std::nullopt : std::optional<std::string>(row.label);
      if (old_label != new_label) {
        if (new_label) {
          MEMES_ASSIGN_OR_RETURN(const int64_t id, impl_->EnsureLabel(*new_label));
          label_update->Bind(1, id);
        } else {
          label_update->BindNull(1);
        }
        MEMES_RETURN_IF_ERROR(label_update->Bind(2, row.blob).Run());
        MEMES_RETURN_IF_ERROR(impl_->Log(row.blob, old_label, new_label, action));
      }
      if (!row.dropped_given) continue;  // the CSV says nothing about dropping this item
      dropped_query->Reset();
      dropped_query->Bind(1, row.blob);
      MEMES_ASSIGN_OR_RETURN(const bool found, dropped_query->Step());
      if (found && (dropped_query->Int(0) != 0) != row.dropped) {
        dropped_query->Reset();
        MEMES_RETURN_IF_ERROR(
            dropped_update->Bind(1, int64_t{row.dropped ? 1 : 0}).Bind(2, row.blob).Run());
        MEMES_RETURN_IF_ERROR(
            impl_->Log(row.blob, new_label, new_label, row.dropped ? "drop" : "undrop"));
      }
      dropped_query->Reset();
    }
    return Status::Ok();
  });
}

Result<int64_t> Catalog::MergeGroups(std::span<const GroupMerge> merges) {
  int64_t moved = 0;
  const Status status = impl_->InTransaction([&]() -> Status {
    MEMES_ASSIGN_OR_RETURN(StatementLease group_of,
                           impl_->Cached("SELECT group_id FROM items WHERE blob=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease members,
                           impl_->Cached("SELECT blob FROM items WHERE group_id=? ORDER BY blob"));
    MEMES_ASSIGN_OR_RETURN(
        StatementLease move,
        impl_->Cached("UPDATE items SET group_id=?, representative=0 WHERE group_id=?"));
    MEMES_ASSIGN_OR_RETURN(StatementLease remove, impl_->Cached("DELETE FROM groups WHERE id=?"));
    for (const GroupMerge& merge : merges) {
      std::set<int64_t> groups;
      for (const std::string& blob : merge.blobs) {
        group_of->Reset();
        group_of->Bind(1, blob);
        MEMES_ASSIGN_OR_RETURN(const bool row, group_of->Step());
        if (!row) return NotFound("no item with this hash", blob);
        if (!group_of->IsNull(0)) groups.insert(group_of->Int(0));
      }
      group_of->Reset();
      if (groups.size() < 2) continue;
      const int64_t target = *groups.begin();
      for (auto it = std::next(groups.begin()); it != groups.end(); ++it) {
        std::vector<std::string> blobs;
        members->Reset();
        members->Bind(1, *it);
        for (;;) {
          MEMES_ASSIGN_OR_RETURN(const bool row, members->Step());
          if (!row) break;
          blobs.push_back(members->Text(0));
        }
        members->Reset();
        for (const std::string& blob : blobs) {
          MEMES_ASSIGN_OR_RETURN(auto label, impl_->ItemLabel(blob));
          MEMES_RETURN_IF_ERROR(impl_->Log(blob, label, label, "group " + merge.name));
        }
        MEMES_RETURN_IF_ERROR(move->Bind(1, target).Bind(2, *it).Run());
        MEMES_RETURN_IF_ERROR(remove->Bind(1, *it).Run());
        moved += static_cast<int64_t>(blobs.size());
      }
    }
    return Status::Ok();
  });
  // Groups were deleted under the founder index: reload it when next needed.
  impl_->InvalidateFounderIndex();
  if (!status.ok()) return status;
  return moved;
}

Result<std::optional<std::string>> Catalog::ItemByUrl(const std::string& url) {
  MEMES_ASSIGN_OR_RETURN(StatementLease stmt,
                         impl_->Cached("SELECT blob FROM sources WHERE url=? ORDER BY id LIMIT 1"));
  stmt->Bind(1, url);
  MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->Text(0));
}

Result<std::vector<std::string>> Catalog::LabelLog() {
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT time, blob, COALESCE(old_label,''), COALESCE(new_label,''), "
                    "action FROM label_log ORDER BY id"));
  std::vector<std::string> rows;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    rows.push_back(FormatLocalTime(stmt->Int(0)) + "\t" + stmt->Text(1) + "\t" + stmt->Text(2) +
                   "\t" + stmt->Text(3) + "\t" + stmt->Text(4));
  }
  return rows;
}

}  // namespace memes::store
