#include "store/label_csv.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/text.h"
#include "store/file_util.h"
#include "store/store.h"

namespace memes::store {

namespace fs = std::filesystem;

std::string CsvField(const std::string& text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<int64_t> ExportLabelCsv(Catalog& catalog, const fs::path& path) {
  std::string csv = "hash,label,url,dropped\n";
  int64_t rows = 0;
  MEMES_RETURN_IF_ERROR(catalog.ForEachLabelRow([&](const LabelRow& row) -> Status {
    csv += row.blob + "," + CsvField(row.label) + "," + CsvField(row.url) + "," +
           (row.dropped ? "1" : "0") + "\n";
    ++rows;
    return Status::Ok();
  }));
  MEMES_RETURN_IF_ERROR(WriteFileAtomic(path, csv));
  return rows;
}

namespace {

// Splits CSV text into records of fields; each record remembers the line it started on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

Result<std::vector<CsvRecord>> ParseCsv(const std::string& text, const std::string& name) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    CsvRecord record;
    record.line = line;
    std::string field;
    bool in_quotes = false, quoted = false;
    for (;;) {
      if (i >= text.size()) {
        if (in_quotes) {
          return InvalidArgument("unterminated quoted field",
                                 name + ":" + std::to_string(record.line));
        }
        record.fields.push_back(field);
        break;
      }
      const char c = text[i++];
      if (in_quotes) {
        if (c == '"') {
          if (i < text.size() && text[i] == '"') {
            field += '"';
            ++i;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
        }
      } else if (c == '"' && field.empty() && !quoted) {
        in_quotes = quoted = true;
      } else if (c == ',') {
        record.fields.push_back(field);
        field.clear();
        quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
        ++line;
        record.fields.push_back(field);
        break;
      } else if (quoted) {
        return InvalidArgument("text after a closing quote", name + ":" + std::to_string(line));
      } else {
        field += c;
      }
    }
    if (!(record.fields.size() == 1 && record.fields[0].empty())) records.push_back(record);
  }
  return records;
}

bool IsReviewHeader(const std::vector<std::string>& header) {
  static const char* const kColumns[] = {"hash", "label", "suggested", "score", "url", "action"};
  if (header.size() < std::size(kColumns)) return false;
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    if (header[i] != kColumns[i]) return false;
  }
  return true;
}

// One row of `memes review`'s suspects.csv as the change it asks for (see label_csv.h for the
// rule). `current_label` holds every catalogued item's label now.
Result<LabelRow> ReviewRow(const std::vector<std::string>& fields, size_t header_columns,
                           const std::map<std::string, std::string>& current_label,
                           const std::string& where) {
  // A spreadsheet may leave off a trailing empty action cell: five fields are an empty action.
  if (fields.size() < 5 || fields.size() > std::max<size_t>(header_columns, 6)) {
    return InvalidArgument(
        std::to_string(fields.size()) + " fields; expected hash,label,suggested,score,url,action",
        where);
  }
  LabelRow row;
  row.blob = fields[0];
  if (!IsBlobHash(row.blob)) {
    return InvalidArgument("'" + row.blob + "' is not a blob hash (64 lower-case hex)", where);
  }
  auto now = current_label.find(row.blob);
  if (now == current_label.end()) {
    return NotFound("no item " + row.blob.substr(0, 12) + "… in this store", where);
  }
  const std::string& label = fields[1];
  const std::string& suggested = fields[2];
  row.url = fields[4];
  std::string action = fields.size() > 5 ? fields[5] : "";
  std::transform(action.begin(), action.end(), action.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string* text : {&label, &suggested}) {
    if (text->find_first_of("\t\r\n") != std::string::npos) {
      return InvalidArgument("a label cannot hold tabs or line breaks", where);
    }
  }
  const bool edited = label != now->second;
  row.label = now->second;
  row.dropped_given = false;
  if (action == "relabel") {
    row.label = edited ? label : suggested;
    if (row.label.empty()) {
      return InvalidArgument("relabel, but both the label and the suggested cells are empty",
                             where);
    }
  } else if (action == "keep" || action == "drop" || action.empty()) {
    // An edited label is applied only with relabel: anything else would silently skip an edit.
    if (edited) {
      return InvalidArgument("the label was changed from '" + now->second + "' to '" + label +
                                 "' but the action is " +
                                 (action.empty() ? "empty" : "'" + action + "'") +
                                 "; write relabel to apply it, or restore the label",
                             where);
    }
    if (action == "drop") row.dropped = row.dropped_given = true;
  } else {
    return InvalidArgument("action must be keep, relabel, drop or empty, not '" + fields[5] + "'",
                           where);
  }
  return row;
}

// ReadLabelCsv, also giving the line each row starts on (when `lines` is not null) and whether
// the file is a review suspects.csv (when `review_format` is not null).
Result<std::vector<LabelRow>> ReadRows(Catalog& catalog, const fs::path& path,
                                       std::vector<int>* lines, bool* review_format) {
  MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadWholeFile(path));
  std::string text(bytes.begin(), bytes.end());
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // a UTF-8 BOM from spreadsheets
  const std::string name = path.string();
  MEMES_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text, name));
  // Spreadsheets add spaces, CRs and BOMs around cells; none belongs to a hash, label or flag.
  for (CsvRecord& record : records) {
    for (std::string& field : record.fields) field = std::string(TrimText(field));
  }
  if (records.empty() || records[0].fields.size() < 2 || records[0].fields[0] != "hash" ||
      records[0].fields[1] != "label") {
    return InvalidArgument(
        "the first line must be the header hash,label,url[,dropped] (label export) or "
        "hash,label,suggested,score,url,action (review)",
        name + ":1");
  }
  const bool has_dropped = records[0].fields.size() >= 4 && records[0].fields[3] == "dropped";
  const bool review = IsReviewHeader(records[0].fields);
  if (review_format) *review_format = review;
  std::map<std::string, std::string> current_label;  // review format: blob -> label now
  if (review) {
    MEMES_RETURN_IF_ERROR(catalog.ForEachLabelRow([&](const LabelRow& row) -> Status {
      current_label.emplace(row.blob, row.label);
      return Status::Ok();
    }));
  }
  std::vector<LabelRow> rows;
  std::set<std::string> seen;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const std::string where = name + ":" + std::to_string(record.line);
    if (review) {
      MEMES_ASSIGN_OR_RETURN(
          LabelRow row, ReviewRow(record.fields, records[0].fields.size(), current_label, where));
      if (!seen.insert(row.blob).second) {
        return InvalidArgument("item " + row.blob.substr(0, 12) + "… appears twice", where);
      }
      rows.push_back(std::move(row));
      if (lines) lines->push_back(record.line);
      continue;
    }
    if (record.fields.size() < 2 || record.fields.size() > 4) {
      return InvalidArgument(
          std::to_string(record.fields.size()) + " fields; expected hash,label,url[,dropped]",
          where);
    }
    LabelRow row;
    row.blob = record.fields[0];
    row.label = record.fields[1];
    if (record.fields.size() > 2) row.url = record.fields[2];
    if (!IsBlobHash(row.blob)) {
      return InvalidArgument("'" + row.blob + "' is not a blob hash (64 lower-case hex)", where);
    }
    if (row.label.find_first_of("\t\r\n") != std::string::npos) {
      return InvalidArgument("a label cannot hold tabs or line breaks", where);
    }
    // Invariant: a row changes the dropped flag only when it says 0 or 1.
    row.dropped_given = false;
    if (has_dropped && record.fields.size() == 4) {
      const std::string& dropped = record.fields[3];
      if (dropped != "0" && dropped != "1" && !dropped.empty()) {
        return InvalidArgument("dropped must be 0 or 1, not '" + dropped + "'", where);
      }
      row.dropped = dropped == "1";
      row.dropped_given = !dropped.empty();
    }
    if (!seen.insert(row.blob).second) {
      return InvalidArgument("item " + row.blob.substr(0, 12) + "… appears twice", where);
    }
    MEMES_ASSIGN_OR_RETURN(const bool known, catalog.HasItem(row.blob));
    if (!known) return NotFound("no item " + row.blob.substr(0, 12) + "… in this store", where);
    rows.push_back(std::move(row));
    if (lines) lines->push_back(record.line);
  }
  return rows;
}

}  // namespace

Result<std::vector<LabelRow>> ReadLabelCsv(Catalog& catalog, const fs::path& path) {
  return ReadRows(catalog, path, nullptr, nullptr);
}

Result<std::vector<std::string>> KnownClasses(Catalog& catalog) {
  MEMES_ASSIGN_OR_RETURN(std::vector<LabelInfo> labels, catalog.Labels());
  std::vector<std::string> names;
  for (const LabelInfo& label : labels) {
    if (!label.retired) names.push_back(label.name);
  }
  return names;
}

std::optional<std::string> ClosestClass(const std::string& name,
                                        const std::vector<std::string>& known) {
  std::optional<std::string> best;
  int best_distance = 0;
  for (const std::string& candidate : known) {
    const int distance = EditDistance(name, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // A likely typo: at most three edits, touching fewer than half of the name's characters
  // (柴大 is not a typo of 柴犬; mushroom_haed is one of mushroom_head).
  const int length = static_cast<int>(DecodeUtf8(name).size());
  if (!best || best_distance > 3 || 2 * best_distance >= length) return std::nullopt;
  return best;
}

Status CheckKnownClass(const std::string& name, const std::vector<std::string>& known,
                       const std::string& create_flag) {
  if (std::find(known.begin(), known.end(), name) != known.end()) return Status::Ok();
  std::string message = "no class '" + name + "'";
  if (auto closest = ClosestClass(name, known)) message += " (did you mean '" + *closest + "'?)";
  message += "; known classes: ";
  if (known.empty()) message += "none";
  for (size_t i = 0; i < known.size(); ++i) message += (i ? ", " : "") + known[i];
  message += "; add " + create_flag + " to create it";
  return NotFound(message);
}

Result<ImportReport> ImportLabelCsv(Catalog& catalog, const fs::path& path,
                                    const ImportOptions& options) {
  std::vector<int> lines;
  bool review = false;
  MEMES_ASSIGN_OR_RETURN(std::vector<LabelRow> rows, ReadRows(catalog, path, &lines, &review));
  std::map<std::string, LabelRow> current;  // blob -> label and dropped now
  MEMES_RETURN_IF_ERROR(catalog.ForEachLabelRow([&](const LabelRow& row) -> Status {
    current.emplace(row.blob, row);
    return Status::Ok();
  }));
  MEMES_ASSIGN_OR_RETURN(const std::vector<std::string> known, KnownClasses(catalog));
  const std::set<std::string> known_set(known.begin(), known.end());

  ImportReport report;
  report.rows = static_cast<int64_t>(rows.size());
  report.review = review;
  std::vector<LabelRow> changes;
  std::map<std::string, size_t> first_row_of_new;  // new class -> index of the first row
  for (size_t r = 0; r < rows.size(); ++r) {
    const LabelRow& row = rows[r];
    const LabelRow& now = current.at(row.blob);  // ReadLabelCsv checked that it exists
    const std::string short_hash = row.blob.substr(0, 12);
    bool changed = false;
    if (row.label != now.label) {
      changed = true;
      ++report.relabelled;
      report.diff.push_back(short_hash + "  " + (now.label.empty() ? "(none)" : now.label) +
                            " -> " + (row.label.empty() ? "(none)" : row.label));
      if (!row.label.empty() && !known_set.count(row.label) &&
          first_row_of_new.emplace(row.label, r).second) {
        report.new_classes.push_back(row.label);
      }
    }
    if (row.dropped_given && row.dropped != now.dropped) {
      changed = true;
      ++(row.dropped ? report.dropped : report.undropped);
      report.diff.push_back(short_hash + "  " + (row.dropped ? "drop" : "undrop"));
    }
    if (changed) {
      changes.push_back(row);
    } else {
      ++report.unchanged;
    }
  }
  if (!report.new_classes.empty() && !options.create_classes) {
    const auto unknown = static_cast<int64_t>(report.new_classes.size());
    std::string message = CountOf(unknown, "label names", "labels name") + " no class (a typo?): ";
    for (size_t i = 0; i < report.new_classes.size(); ++i) {
      const std::string& label = report.new_classes[i];
      message += (i ? ", " : "") +
                 ("'" + label + "' (line " + std::to_string(lines[first_row_of_new[label]]));
      if (auto closest = ClosestClass(label, known))
        message += ", did you mean '" + *closest + "'?";
      message += ")";
    }
    message += "; known classes: ";
    if (known.empty()) message += "none";
    for (size_t i = 0; i < known.size(); ++i) message += (i ? ", " : "") + known[i];
    message += "; add --create-classes to create them";
    return NotFound(message, path.string());
  }
  if (!options.dry_run && !changes.empty()) {
    MEMES_RETURN_IF_ERROR(catalog.ImportLabels(changes, review ? "import review" : "import"));
  }
  return report;
}

Result<GroupCsvReport> ApplyGroupCsv(Catalog& catalog, const fs::path& path) {
  MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadWholeFile(path));
  std::string text(bytes.begin(), bytes.end());
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  const std::string name = path.string();
  MEMES_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text, name));
  size_t first = 0;
  if (!records.empty() && records[0].fields.size() == 2 &&
      (records[0].fields[0] == "url" || records[0].fields[0] == "hash") &&
      records[0].fields[1] == "group") {
    first = 1;
  }
  GroupCsvReport report;
  std::map<std::string, std::set<std::string>> members;  // group key -> blobs
  for (size_t r = first; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const std::string where = name + ":" + std::to_string(record.line);
    if (record.fields.size() != 2) {
      return InvalidArgument(
          std::to_string(record.fields.size()) + " fields; expected url,group or hash,group",
          where);
    }
    const std::string& item = record.fields[0];
    const std::string& key = record.fields[1];
    if (item.empty() || key.empty()) return InvalidArgument("empty item or group key", where);
    ++report.rows;
    std::optional<std::string> blob;
    if (IsBlobHash(item)) {
      MEMES_ASSIGN_OR_RETURN(const bool known, catalog.HasItem(item));
      if (known) blob = item;
    } else {
      MEMES_ASSIGN_OR_RETURN(blob, catalog.ItemByUrl(item));
    }
    if (!blob) {
      report.unknown.push_back(
          where + ": no item " +
          (IsBlobHash(item) ? item.substr(0, 12) + "…" : "fetched from " + item) +
          " in this store");
      continue;
    }
    members[key].insert(*blob);
  }
  std::vector<GroupMerge> merges;
  for (auto& [key, blobs] : members) {
    merges.push_back({key, std::vector<std::string>(blobs.begin(), blobs.end())});
  }
  report.groups = static_cast<int64_t>(merges.size());
  MEMES_ASSIGN_OR_RETURN(report.moved, catalog.MergeGroups(merges));
  return report;
}

}  // namespace memes::store
