// `memes errors --store DIR [--kind K] [--json]`: every failure a crawl recorded in the store's
// catalog (pages and images that could not be fetched, stored or decoded), with kind, URL,
// reason, time and, when known, the page and keyword that led to it. Reads only.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "pipelines/command.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& dir);  // cmd_pack.cpp

namespace {

struct ErrorsArgs {
  std::string store_dir;
  std::string kind;
  bool json = false;
};

// `--kind K` selects a kind exactly ("http-404", "page: network"), a kind family (the part
// before ": ": "page", "decode") or a stage ("fetch", "page", "decode").
bool KindMatches(const store::ErrorRecord& error, const std::string& wanted) {
  if (wanted.empty() || error.kind == wanted || error.stage == wanted) return true;
  return error.kind.starts_with(wanted + ": ");
}

int RunErrors(const ErrorsArgs& args) {
  auto store = OpenExistingStore(args.store_dir);
  if (!store.ok()) {
    std::cerr << "memes errors: " << store.status().ToString() << "\n";
    return kExitUsage;
  }
  auto errors = (*store)->catalog().Errors();
  if (!errors.ok()) {
    std::cerr << "memes errors: " << errors.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  std::map<std::string, int64_t> per_kind;
  int64_t shown = 0;
  for (const store::ErrorRecord& error : *errors) {
    if (!KindMatches(error, args.kind)) continue;
    ++shown;
    ++per_kind[error.kind];
    if (args.json) {
      nlohmann::ordered_json line;
      line["time"] = FormatLocalTime(error.time);
      line["unix_time"] = error.time;
      line["stage"] = error.stage;
      line["kind"] = error.kind;
      line["url"] = error.url;
      line["reason"] = error.reason;
      if (!error.page_url.empty()) line["page"] = error.page_url;
      if (!error.keyword.empty()) line["keyword"] = error.keyword;
      // A URL or reason from a hostile server may hold invalid UTF-8: replace, never throw.
      std::cout << line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                << "\n";
      continue;
    }
    std::cout << FormatLocalTime(error.time) << "  " << error.kind << "  " << error.url << "\n";
    std::string reason = error.reason;
    if (reason.starts_with(error.url + ": ")) reason.erase(0, error.url.size() + 2);
    std::cout << "    " << reason;
    if (!error.keyword.empty()) std::cout << " (keyword " << error.keyword << ")";
    if (!error.page_url.empty()) std::cout << " (page " << error.page_url << ")";
    std::cout << "\n";
  }
  if (!args.json) {
    std::cout << shown << (shown == 1 ? " error" : " errors");
    if (!args.kind.empty()) std::cout << " of kind '" << args.kind << "'";
    const char* separator = ": ";
    for (const auto& [kind, count] : per_kind) {
      std::cout << separator << kind << " " << count;
      separator = ", ";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddErrorsCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "errors", "List the failures crawls recorded in a store (URL, kind, reason, time)");
  auto args = std::make_shared<ErrorsArgs>();
  command->add_option("--store", args->store_dir, "The store folder")->required();
  command->add_option("--kind", args->kind,
                      "Only this kind (http-404, timeout, page: network…), family (page, "
                      "decode) or stage (fetch, store, commit)");
  command->add_flag("--json", args->json,
                    "One JSON object per line: time, unix_time, stage, kind, url, reason, "
                    "page, keyword");
  command->footer(
      "Lists every failure, oldest first, and a count per kind. Exit status 0 whether or not\n"
      "there are failures (the crawl's own exit status says whether it had any).");
  registry.Add(command, [args] { return RunErrors(*args); });
}

}  // namespace memes::pipelines
