// The label CSV of `memes label export/import`: "hash,label,url,dropped" (RFC 4180 quoting,
// UTF-8), and the class-name check that keeps a typo from making a class (`label set`, `import`,
// `merge`). export → import is lossless: importing an unchanged export changes nothing.
// Thread-safety: functions use the given Catalog; the Catalog's rules apply.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/catalog.h"

namespace memes::store {

// Writes every item (ordered by hash) to `path`, atomically.
Result<int64_t> ExportLabelCsv(Catalog& catalog, const std::filesystem::path& path);

// Parses `path` and checks every row against the catalog. An error names "FILE:LINE" and what
// is wrong (bad hash, unknown item, bad dropped value, unterminated quote, duplicate item).
// Columns: hash and label are required; url is informative (ignored on import); dropped is
// optional: without the column, or with an empty cell, the row leaves the item's dropped flag as
// it is (LabelRow::dropped_given false). Every field is trimmed of spaces, tabs, CR and BOMs
// (TrimText); an empty label means "unlabelled". The first line must be the header.
//
// The same functions read `memes review`'s suspects.csv, recognised by its header
// "hash,label,suggested,score,url,action" (more columns may follow; they are ignored, as are
// suggested's and score's values except as below). Each row's action cell (case-insensitive):
//   empty or keep: no change;
//   drop:          the item becomes dropped, its label stays;
//   relabel:       the label becomes the row's label cell when a person edited it (it differs
//                  from the catalog's label now), else the suggested cell.
// A label cell edited on a row whose action is not relabel is an error (applying it would guess,
// skipping it would lose the edit); so is any other action word. Returned rows are the resulting
// state: label = the label to set, dropped_given only for drop.
Result<std::vector<LabelRow>> ReadLabelCsv(Catalog& catalog, const std::filesystem::path& path);

struct ImportOptions {
  bool create_classes = false;  // a label that names no class creates one (else: an error)
  bool dry_run = false;         // plan and report, change nothing
};

// What an import changes (or, in a dry run, would change).
struct ImportReport {
  int64_t rows = 0;                      // data rows read
  int64_t relabelled = 0;                // items whose label changes
  int64_t unchanged = 0;                 // rows that change nothing
  int64_t dropped = 0;                   // items that become dropped
  int64_t undropped = 0;                 // items that stop being dropped
  std::vector<std::string> new_classes;  // classes created, in the order rows first name them
  bool review = false;  // the file was a review suspects.csv (logged as "import review")
  // One line per changed item: "HASH12  old -> new" (labels; "(none)" when unlabelled),
  // "HASH12  drop" or "HASH12  undrop".
  std::vector<std::string> diff;
};

// ReadLabelCsv, then applies the rows that change something in one transaction (nothing changes
// on any error). A label naming no class (see KnownClasses) is an error listing every such
// label with its first line, unless options.create_classes.
Result<ImportReport> ImportLabelCsv(Catalog& catalog, const std::filesystem::path& path,
                                    const ImportOptions& options = {});

// The class names a label may be set to without creating a class: the catalog's labels that
// are not retired, in label-id order.
Result<std::vector<std::string>> KnownClasses(Catalog& catalog);

// Ok when `name` is among `known`; otherwise kNotFound: "no class 'shbia' (did you mean
// 'shiba'?); known classes: frog, kumamon, shiba; add CREATE_FLAG to create it".
Status CheckKnownClass(const std::string& name, const std::vector<std::string>& known,
                       const std::string& create_flag);

// The closest of `known` to `name` by edit distance, when close enough to be a likely typo.
std::optional<std::string> ClosestClass(const std::string& name,
                                        const std::vector<std::string>& known);

// The outcome of ApplyGroupCsv.
struct GroupCsvReport {
  int64_t rows = 0;                  // data rows read
  int64_t groups = 0;                // distinct group keys with at least one known item
  int64_t moved = 0;                 // group changes of items (Catalog::MergeGroups)
  std::vector<std::string> unknown;  // "FILE:LINE: no item …" for rows naming no catalogued item
};

// `memes label group FILE.csv`: rows "url,group" or "hash,group" (RFC 4180 quoting; a header
// line "url,group" or "hash,group" is optional). A first field of 64 lower-case hex is a blob
// hash, anything else a source URL. Every item named with one group key ends up in one
// near-duplicate group (Catalog::MergeGroups), so the split keeps them on one side.
// Malformed rows (not two fields, empty key) are errors naming FILE:LINE and nothing changes;
// rows naming an unknown URL or hash are listed in report.unknown and skipped, the rest is
// applied in one transaction.
Result<GroupCsvReport> ApplyGroupCsv(Catalog& catalog, const std::filesystem::path& path);

// One CSV field, quoted when it holds a comma, quote, CR or LF (or starts/ends with a space).
std::string CsvField(const std::string& text);

}  // namespace memes::store
