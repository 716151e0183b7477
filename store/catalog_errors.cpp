// Catalog: reading back the failures a crawl recorded (`memes errors`).
#include <algorithm>

#include "store/catalog.h"
#include "store/catalog_impl.h"

namespace memes::store {

namespace {

// Splits a "KIND: REASON" message of a row without a kind column value. Kinds are the crawl's
// counters: one word
// ("http-404", "timeout") or, for pages and decodes, "page: network" / "decode: corrupt".
// Rows written before kinds were recorded this way (a page's message began with its URL) keep
// their stage as the kind and the whole message as the reason.
void SplitKind(const std::string& stage, const std::string& message, ErrorRecord& record) {
  size_t colon = message.find(": ");
  if (colon != std::string::npos &&
      (message.compare(0, colon, "page") == 0 || message.compare(0, colon, "decode") == 0)) {
    colon = message.find(": ", colon + 2);
  }
  const std::string kind = colon == std::string::npos ? "" : message.substr(0, colon);
  if (kind.empty() || kind.size() > 40 || kind.find('/') != std::string::npos) {
    record.kind = stage;
    record.reason = message;
    return;
  }
  record.kind = kind;
  record.reason = message.substr(colon + 2);
}

}  // namespace

Result<std::vector<ErrorRecord>> Catalog::Errors() {
  std::vector<ErrorRecord> errors;
  {
    MEMES_ASSIGN_OR_RETURN(
        StatementLease stmt,
        impl_->Cached("SELECT time, stage, url, message, kind FROM errors ORDER BY time, id"));
    for (;;) {
      MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
      if (!row) break;
      ErrorRecord record;
      record.time = stmt->Int(0);
      record.stage = stmt->Text(1);
      record.url = stmt->Text(2);
      const std::string message = stmt->Text(3);
      record.kind = stmt->Text(4);
      if (record.kind.empty()) {
        // Rows of schema 1 (and RecordError without a kind): the kind lives in the message.
        SplitKind(record.stage, message, record);
      } else {
        const std::string prefix = record.kind + ": ";
        record.reason = message.starts_with(prefix) ? message.substr(prefix.size()) : message;
      }
      errors.push_back(std::move(record));
    }
  }
  MEMES_ASSIGN_OR_RETURN(
      StatementLease stmt,
      impl_->Cached("SELECT i.added_at, i.error, COALESCE(s.url, ''), COALESCE(s.page_url, ''), "
                    "  COALESCE(s.keyword, '') "
                    "FROM items i LEFT JOIN sources s ON s.id = "
                    "  (SELECT MIN(id) FROM sources WHERE blob = i.blob) "
                    "WHERE i.status = 'failed' ORDER BY i.added_at, i.blob"));
  std::vector<ErrorRecord> undecodable;
  for (;;) {
    MEMES_ASSIGN_OR_RETURN(const bool row, stmt->Step());
    if (!row) break;
    ErrorRecord record;
    record.time = stmt->Int(0);
    record.stage = "decode";
    record.kind = "decode";
    record.reason = stmt->Text(1);
    record.url = stmt->Text(2);
    record.page_url = stmt->Text(3);
    record.keyword = stmt->Text(4);
    undecodable.push_back(std::move(record));
  }
  // Both lists are in time order: merge them so the listing reads as the crawl went.
  std::vector<ErrorRecord> all;
  all.reserve(errors.size() + undecodable.size());
  std::merge(std::make_move_iterator(errors.begin()), std::make_move_iterator(errors.end()),
             std::make_move_iterator(undecodable.begin()),
             std::make_move_iterator(undecodable.end()), std::back_inserter(all),
             [](const ErrorRecord& a, const ErrorRecord& b) { return a.time < b.time; });
  return all;
}

}  // namespace memes::store
