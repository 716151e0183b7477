// CrawlReport's outputs: STORE/stats.json and the terminal summary.
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/progress.h"
#include "pipelines/crawl.h"

namespace memes::pipelines {

std::string CrawlReport::ToJson() const {
  nlohmann::ordered_json json;
  json["pages"] = {{"read", pages_read}, {"skipped", pages_skipped}, {"failed", pages_failed}};
  json["urls"] = {{"found", urls_found}, {"skipped", urls_skipped}};
  json["images"] = {{"fetched", images_fetched},
                    {"failed", images_failed},
                    {"new", items_new},
                    {"duplicate", items_duplicate},
                    {"unusable", items_unusable}};
  json["bytes"] = bytes;
  json["seconds"] = seconds;
  json["kept_per_class"] = kept_per_class;
  json["kept_per_keyword"] = kept_per_keyword;
  json["fetched_per_host"] = fetched_per_host;
  json["errors_per_kind"] = errors_per_kind;
  // Invalid UTF-8 in a keyword must not throw out of the report: replace it.
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string CrawlReport::Summary() const {
  std::ostringstream out;
  out << "pages: " << pages_read << " read, " << pages_skipped << " already read, " << pages_failed
      << " failed\n"
      << "images: " << images_fetched << " fetched (" << HumanBytes(bytes) << "), " << items_new
      << " new, " << items_duplicate << " exact duplicates, " << items_unusable
      << " not decodable, " << images_failed << " failed, " << urls_skipped
      << " URLs skipped (listed twice or fetched before)\n";
  for (const auto& [label, count] : kept_per_class) {
    out << "  " << label << ": " << count << " new\n";
  }
  if (!errors_per_kind.empty()) {
    out << "errors:";
    for (const auto& [kind, count] : errors_per_kind) out << " " << kind << " " << count << ";";
    out << "\n";
  }
  out << "in " << HumanDuration(seconds) << "\n";
  return out.str();
}

}  // namespace memes::pipelines
