// CrawlReport's outputs: STORE/stats.json and the terminal summary.
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/log.h"
#include "core/progress.h"
#include "pipelines/crawl.h"

namespace memes::pipelines {

std::string CrawlReport::ToJson() const {
  nlohmann::ordered_json json;
  json["pages"] = {{"read", pages_read},
                   {"skipped", pages_skipped},
                   {"failed", pages_failed},
                   {"past_end", pages_past_end}};
  json["urls"] = {{"found", urls_found}, {"skipped", urls_skipped}};
  json["images"] = {{"fetched", images_fetched},  {"failed", images_failed},
                    {"new", items_new},           {"duplicate", items_duplicate},
                    {"unusable", items_unusable}, {"refused", items_refused},
                    {"late", late_images}};
  json["bytes"] = bytes;
  json["seconds"] = seconds;
  json["kept_per_class"] = kept_per_class;
  json["kept_per_keyword"] = kept_per_keyword;
  json["fetched_per_host"] = fetched_per_host;
  json["errors_per_kind"] = errors_per_kind;
  if (!dedupe_json.empty()) {
    json["dedupe"] =
        nlohmann::ordered_json::parse(dedupe_json, nullptr, /*allow_exceptions=*/false);
  }
  // Invalid UTF-8 in a keyword must not throw out of the report: replace it.
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void CrawlReport::AddFailure(const std::string& kind, const std::string& url,
                             const std::string& reason) {
  ++errors_per_kind[kind];
  if (first_failures.size() < kListedFailures) first_failures.push_back({kind, url, reason});
  MEMES_LOG(kDebug) << "failed (" << kind << "): " << url << ": " << reason;
}

std::string CrawlReport::Summary(const std::filesystem::path& store) const {
  std::ostringstream out;
  out << "pages: " << pages_read << " read, " << pages_skipped << " already read, " << pages_failed
      << " failed";
  if (pages_past_end > 0) out << ", " << pages_past_end << " past the last results (not read)";
  out << "\n"
      << "images: " << images_fetched << " fetched (" << HumanBytes(bytes) << "), " << items_new
      << " new, " << items_duplicate << " exact duplicates, " << items_unusable
      << " not decodable, " << images_failed << " failed, " << urls_skipped
      << " URLs skipped (listed twice or fetched before)";
  if (items_refused > 0) out << ", " << items_refused << " refused (smaller than image.min_side)";
  out << "\n";
  if (late_images > 0) {
    out << "note: " << late_images
        << " images arrived after the reorder deadline and were committed out of order\n";
  }
  for (const auto& [label, count] : kept_per_class) {
    out << "  " << label << ": " << count << " new\n";
  }
  if (!errors_per_kind.empty()) {
    int64_t errors = 0;
    out << "errors:";
    for (const auto& [kind, count] : errors_per_kind) {
      out << " " << kind << " " << count << ";";
      errors += count;
    }
    out << "\n";
    // The reason is what a person acts on ("Could not resolve host"), so show a few in full.
    for (const CrawlFailure& failure : first_failures) {
      // The reason of a page or image usually starts with its URL already.
      std::string reason = failure.reason;
      if (reason.starts_with(failure.url + ": ")) reason.erase(0, failure.url.size() + 2);
      out << "  " << failure.kind << "  " << failure.url << "\n    " << reason << "\n";
    }
    const std::string store_arg = store.empty() ? "STORE" : store.string();
    if (errors > static_cast<int64_t>(first_failures.size())) {
      out << "  … " << errors - static_cast<int64_t>(first_failures.size())
          << " more: `memes errors --store " << store_arg << "` lists them all\n";
    } else {
      out << "  (`memes errors --store " << store_arg << "` lists them with times)\n";
    }
  }
  out << "in " << HumanDuration(seconds) << "\n";
  return out.str();
}

}  // namespace memes::pipelines
