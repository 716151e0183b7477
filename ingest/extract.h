// URL extraction from fetched search pages: "html" (gumbo), "json:KEY" (nlohmann-json) and
// "regex:PATTERN" (RE2). Pages are untrusted: malformed HTML or JSON never crashes, patterns run
// in linear time, and every URL found is resolved against the page URL and normalised.
// Thread-safety: an UrlExtractor is immutable once created; Extract may run on many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace re2 {
class RE2;
}

namespace memes::ingest {

class UrlExtractor {
 public:
  enum class Kind { kHtml, kJson, kRegex };

  // URLs taken from one page unless the caller says otherwise (pipeline key
  // sources[].max_urls_per_page): a hostile page cannot queue a million images.
  static constexpr int kDefaultMaxUrls = 1000;

  // Parses a rule: "html", "json:KEY" or "regex:PATTERN". An unknown kind, an empty key, a
  // pattern RE2 rejects or one without a capture group is kInvalidArgument saying why.
  // Requires: max_urls >= 1.
  static Result<UrlExtractor> Create(std::string_view rule, int max_urls = kDefaultMaxUrls);

  // The absolute http(s) URLs found in `body`, resolved against `page_url`, without fragments,
  // duplicates removed, in page order.
  //   html:  <img src|data-src|data-original|srcset>, <source srcset>, <a href> to an
  //          image-like file (.gif .png .jpg .jpeg .webp .bmp .avif, query ignored); <base href>
  //          is honoured.
  //   json:  every string under KEY anywhere in the document (a string value, or all strings
  //          inside an array/object value).
  //   regex: the first capture group of every match, JSON string escapes (\/ \uXXXX…) undone.
  // Only a body that is not JSON at all (json rule) is an error (kCorrupt naming the page);
  // references that do not resolve to http(s) are skipped.
  // At most max_urls() distinct URLs are returned, the first in page order; when the page holds
  // more, extraction stops there, a warning names the page, and *truncated (if given) is set.
  // HTML nested deeper than kMaxHtmlNesting (html_nesting.h) is flattened before parsing, so
  // any nesting depth is safe.
  Result<std::vector<std::string>> Extract(std::string_view body, std::string_view page_url,
                                           bool* truncated = nullptr) const;

  Kind kind() const { return kind_; }
  const std::string& rule() const { return rule_; }
  int max_urls() const { return max_urls_; }

 private:
  UrlExtractor() = default;

  Kind kind_ = Kind::kHtml;
  std::string rule_;
  int max_urls_ = kDefaultMaxUrls;
  std::string json_key_;
  std::shared_ptr<const re2::RE2> regex_;
};

// Undoes JSON string escapes (\" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs, to UTF-8).
// A malformed escape is kept as written.
std::string UnescapeJsonString(std::string_view text);

// True when the path of `url` ends in an image-like extension (case-insensitive).
bool LooksLikeImageUrl(std::string_view url);

}  // namespace memes::ingest
