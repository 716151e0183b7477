// `memes crawl PIPELINE.toml` and the quick form `memes crawl --keywords FILE --url TEMPLATE
// --store DIR` (one search source, label<TAB>keyword lines).
#include <iostream>
#include <memory>

#include "core/log.h"
#include "pipelines/crawl.h"
#include "pipelines/crawl_work.h"

namespace memes::pipelines {
namespace {

struct CrawlArgs {
  std::string pipeline;
  std::string keywords;
  std::string url;
  std::string store;
  std::string extract = "html";
  int pages = 1;
  int page_size = 20;
  std::string partition;  // "K/N"; empty: the whole crawl
  // Hidden, for tests that compare a crawl with a merge of its partitions on a loaded machine:
  // how long the reorder windows wait for a late item (CrawlOptions::reorder_deadline).
  int reorder_deadline_ms = 0;  // 0: the default
};

Result<PipelineConfig> ConfigFromArgs(const CrawlArgs& args) {
  if (!args.pipeline.empty()) {
    if (!args.keywords.empty() || !args.url.empty()) {
      return InvalidArgument("give a pipeline file or --keywords/--url, not both");
    }
    MEMES_ASSIGN_OR_RETURN(PipelineConfig config, LoadPipelineFile(args.pipeline));
    if (!args.store.empty()) config.store = args.store;
    return config;
  }
  if (args.keywords.empty() || args.url.empty() || args.store.empty()) {
    return InvalidArgument(
        "give a pipeline file, or all of --keywords FILE --url TEMPLATE --store DIR");
  }
  PipelineConfig config;
  config.file = args.keywords;
  config.store = args.store;
  MEMES_ASSIGN_OR_RETURN(config.classes, LoadKeywordList(args.keywords));
  // Without {keyword} every keyword fetches the same page, and its images would be labelled
  // with whichever class came first.
  size_t keywords = 0;
  for (const ClassSpec& spec : config.classes) keywords += spec.keywords.size();
  if (args.url.find("{keyword}") == std::string::npos && keywords > 1) {
    return InvalidArgument("--url has no {keyword}, so each of the " + std::to_string(keywords) +
                           " keywords would fetch the same page; put {keyword} where the search "
                           "term goes, or give a single keyword");
  }
  Source source;
  source.kind = SourceKind::kSearch;
  source.name = "search-1";
  source.url_template = args.url;
  source.pages = args.pages;
  source.page_size = args.page_size;
  source.extract = args.extract;
  config.sources.push_back(source);
  return config;
}

int RunCrawlCommand(const CrawlArgs& args) {
  auto config = ConfigFromArgs(args);
  if (!config.ok()) {
    std::cerr << "memes crawl: " << config.status().ToString() << "\n";
    return kExitUsage;
  }
  CrawlOptions options;
  options.progress = LogEnabled(LogLevel::kInfo);
  if (!args.partition.empty()) {
    auto partition = crawl::ParsePartition(args.partition);
    if (!partition.ok()) {
      std::cerr << "memes crawl: " << partition.status().ToString() << "\n";
      return kExitUsage;
    }
    options.partition = partition->index;
    options.partitions = partition->count;
  }
  if (args.reorder_deadline_ms > 0) {
    options.reorder_deadline = std::chrono::milliseconds(args.reorder_deadline_ms);
  }
  auto report = RunCrawl(*config, options);
  if (!report.ok()) {
    std::cerr << "memes crawl: " << report.status().ToString() << "\n";
    return kExitUsage;
  }
  std::cout << report->Summary(config->store);
  std::cout << "stats: " << (config->store / "stats.json").string() << "\n";
  return report->failures() > 0 ? kExitItemsFailed : kExitOk;
}

}  // namespace

void AddCrawlCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "crawl", "Crawl keyword lists into a store (search pages, image URLs, downloads, frames)");
  auto args = std::make_shared<CrawlArgs>();
  command->add_option("pipeline", args->pipeline, "The pipeline file (TOML)");
  command->add_option("--keywords", args->keywords, "Quick form: label<TAB>keyword lines");
  command->add_option("--url", args->url,
                      "Quick form: search URL template with {keyword}, {page}, {offset}");
  command->add_option("--store", args->store, "The store folder (overrides the pipeline file)");
  command->add_option("--extract", args->extract, "Quick form: html, json:KEY or regex:PATTERN")
      ->capture_default_str();
  // Bounded at parse time: every page of every keyword is a task listed up front.
  command->add_option("--pages", args->pages, "Quick form: pages per keyword (1..1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command
      ->add_option("--page-size", args->page_size,
                   "Quick form: results per page, for {offset} (1..10000)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  command->add_option("--partition", args->partition,
                      "Crawl only partition K of N (K/N): a stable 1/N of the keywords and "
                      "URL-list slices, into its own store; per-host limits are divided by N. "
                      "Join the stores with `memes store merge`");
  command->add_option("--reorder-deadline-ms", args->reorder_deadline_ms)
      ->check(CLI::Range(1, 600000))
      ->group("");  // hidden: a test hook
  registry.Add(command, [args] { return RunCrawlCommand(*args); });
}

}  // namespace memes::pipelines
