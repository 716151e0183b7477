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

// One CSV field, quoted when it holds a comma, quote, CR or LF (or starts/ends with a space).
std::string CsvField(const std::string& text);

}  // namespace memes::store
