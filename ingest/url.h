// URL helpers of ingest/: resolution against a base URL and normalisation (libcurl's CURLU
// API), percent-encoding of UTF-8 keywords, and search URL template expansion.
// Thread-safety: free functions without shared state; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace memes::ingest {

// The parts of an http(s) URL the fetcher schedules by.
struct UrlParts {
  std::string normalized;  // scheme://host[:port]/path?query, no fragment
  std::string origin;      // scheme://host[:port], lower-case: the key of per-host limits
  std::string host;        // lower-case name or IP literal (IPv6 in brackets), no port
  std::string path_query;  // "/path?query", what robots.txt rules match against
};

// Parses and normalises an absolute http or https URL. Anything else (ftp:, file:, data:,
// a relative reference, garbage) is kInvalidArgument naming the URL.
Result<UrlParts> ParseHttpUrl(std::string_view url);

// Resolves `reference` (as found in a page: relative, protocol-relative or absolute) against
// `base`, drops the fragment and normalises ("a/../b", case of scheme and host, spaces and
// non-ASCII percent-encoded). Only http and https results are returned; others are
// kInvalidArgument.
Result<std::string> ResolveUrl(std::string_view base, std::string_view reference);

// Percent-encodes every byte of `text` except RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~): "蘑菇头 1" -> "%E8%98%91%E8%8F%87%E5%A4%B4%201".
std::string PercentEncode(std::string_view text);

// Expands a search URL template: {keyword} -> PercentEncode(keyword), {page} -> page (1-based),
// {offset} -> (page - 1) * page_size. Any other {name} is kInvalidArgument, and so is a result
// that is not an http(s) URL.
// Requires: page >= 1, page_size >= 0.
Result<std::string> ExpandSearchUrl(std::string_view url_template, std::string_view keyword,
                                    int page, int page_size);

// Checks a template once, before a crawl starts (placeholders known, http(s) after expansion).
Status CheckSearchTemplate(std::string_view url_template);

}  // namespace memes::ingest
