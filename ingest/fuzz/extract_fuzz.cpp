// libFuzzer target over one URL extractor (ingest/extract.h), built three times with
// MEMES_EXTRACT_KIND 0, 1, 2 for the rules "html", "json:thumb" and a regex like a search
// engine's "murl" pattern. The input's first line is
// the page URL (so resolution against hostile bases is fuzzed too), the rest the page body.
// Besides "no crash, no sanitizer report" it checks the result's invariants: at most
// max_urls() URLs, no duplicates, each an absolute http(s) URL that parses again unchanged.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "ingest/extract.h"
#include "ingest/html_nesting.h"
#include "ingest/url.h"

#if !defined(MEMES_EXTRACT_KIND) || MEMES_EXTRACT_KIND < 0 || MEMES_EXTRACT_KIND > 2
#error "define MEMES_EXTRACT_KIND: 0 html, 1 json, 2 regex"
#endif

namespace {
constexpr const char* kRules[] = {"html", "json:thumb", R"re(regex:"(?:murl|objURL)":"([^"]+)")re"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memes::ingest;
  static const UrlExtractor extractor = [] {
    auto created = UrlExtractor::Create(kRules[MEMES_EXTRACT_KIND], 64);
    if (!created.ok()) std::abort();
    return std::move(created).value();
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view page_url = newline == std::string_view::npos
                                        ? std::string_view("http://example.com/s")
                                        : input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  if (extractor.kind() == UrlExtractor::Kind::kHtml) {
    const auto capped = CapHtmlNesting(body, 8);
    if (capped && capped->size() >= body.size()) std::abort();  // only ever removes tags
  }
  bool truncated = false;
  const auto urls = extractor.Extract(body, page_url, &truncated);
  if (!urls.ok()) {
    if (extractor.kind() != UrlExtractor::Kind::kJson) std::abort();  // only JSON can fail
    return 0;
  }
  if (urls->size() > static_cast<size_t>(extractor.max_urls())) std::abort();
  if (truncated && urls->size() != static_cast<size_t>(extractor.max_urls())) std::abort();
  std::set<std::string> seen;
  for (const std::string& url : *urls) {
    if (!seen.insert(url).second) std::abort();
    const auto parts = ParseHttpUrl(url);
    if (!parts.ok()) std::abort();
  }
  return 0;
}
