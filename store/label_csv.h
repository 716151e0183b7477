// The label CSV of `memes label export/import`: "hash,label,url,dropped" (RFC 4180 quoting,
// UTF-8). export → import is lossless: importing an unchanged export changes nothing.
// Thread-safety: functions use the given Catalog; the Catalog's rules apply.
#pragma once

#include <filesystem>
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
// optional (absent: 0). The first line must be the header.
Result<std::vector<LabelRow>> ReadLabelCsv(Catalog& catalog, const std::filesystem::path& path);

// ReadLabelCsv, then applies all rows in one transaction (nothing changes on any error).
// Returns the number of rows read.
Result<int64_t> ImportLabelCsv(Catalog& catalog, const std::filesystem::path& path);

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
