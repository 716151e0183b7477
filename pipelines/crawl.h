// `memes crawl`: keyword lists → search pages → image URLs → downloaded images → frames → the
// store, as one oneTBB flow graph (crawl.cpp wires it; the stages live in ingest/, transform/
// and store/). Resumable: pages already read and URLs already fetched are skipped on a rerun,
// and a page counts as read only once every image it listed is committed or recorded as an
// error, so a kill -9 loses nothing that was committed.
// Thread-safety: RunCrawl runs one crawl and blocks; run one per store at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_file.h"

namespace memes::pipelines {

struct CrawlOptions {
  bool progress = true;
  // Search pages being fetched or waiting for their images to pass the image limiter; 0 means
  // the pipeline file's [politeness] pages_in_flight. Each may list up to the extractor's cap of
  // URLs, all queued when it is read: this bounds that queue, so memory does not grow with the
  // number of keywords or the size of a page.
  int pages_in_flight = 0;
  // Images between the URL dedupe and the catalog commit. Each can hold a body of up to
  // max_body_bytes plus its decoded frames; 0 means 2 × politeness.max_transfers, enough to
  // keep every transfer busy while the decoders work on the other half.
  int images_in_flight = 0;
  // How long a fetched page or image may wait for the ones before it (the reorder windows):
  // the order, hence labels and near-duplicate groups, is the same for the same responses when
  // none is later than this; a stalled URL costs the others at most this once.
  std::chrono::milliseconds reorder_deadline{250};
  // `--partition K/N`: crawl only partition K (1-based) of N (crawl_work.h, "partitions"),
  // with every per-host limit divided by N. 1/1 is the whole crawl.
  int partition = 1;
  int partitions = 1;
  // The commit stage commits up to this many images per catalog transaction, waiting at most
  // commit_batch_wait for a batch to fill (crawl_commit.h). 1: one transaction per image.
  int commit_batch_items = 64;
  std::chrono::milliseconds commit_batch_wait{50};
  // Test hook: called on the commit node after each image (not skipped) is committed or
  // recorded as failed, with its URL (once its batch's transaction is over; on the commit node
  // or on the timer thread that closes a batch on time).
  std::function<void(const std::string&)> on_commit;
};

// One failed page or image, as the summary lists it.
struct CrawlFailure {
  std::string kind;    // as counted in errors_per_kind: "http-404", "page: network"…
  std::string url;     // the page or image
  std::string reason;  // what went wrong, e.g. "Could not resolve host: nosuch.invalid"
};

struct CrawlReport {
  int64_t pages_read = 0;
  int64_t pages_skipped = 0;  // read by an earlier run
  int64_t pages_failed = 0;
  int64_t urls_found = 0;
  int64_t urls_skipped = 0;  // fetched by an earlier run, or listed twice in this one
  int64_t images_fetched = 0;
  int64_t images_failed = 0;    // fetch errors (http, timeout, too large, robots…)
  int64_t items_new = 0;        // new blobs that decoded into frames
  int64_t items_duplicate = 0;  // exact duplicates of a blob already in the store
  int64_t items_unusable = 0;   // fetched, but not a decodable image
  int64_t items_refused = 0;    // fetched, decodable, kept out on purpose ([image] min_side)
  int64_t pages_past_end = 0;   // fetched before their keyword's end was known; dropped unread
  int64_t late_images = 0;      // arrived after the reorder deadline: committed out of order
  uint64_t bytes = 0;
  double seconds = 0;
  std::map<std::string, int64_t> kept_per_class;
  std::map<std::string, int64_t> kept_per_keyword;
  std::map<std::string, int64_t> fetched_per_host;
  std::map<std::string, int64_t> errors_per_kind;  // "http-404", "timeout", "decode: corrupt"…
  // stats.json's "dedupe" object (DedupeJson, cmd_dedupe.cpp): the store's near-duplicate
  // groups after the crawl and the rule that made them. Empty: left out.
  std::string dedupe_json;
  // The first kListedFailures failures, in the order the crawl met them (the summary lists
  // them; `memes errors` lists every one from the catalog).
  static constexpr size_t kListedFailures = 5;
  std::vector<CrawlFailure> first_failures;

  int64_t failures() const { return pages_failed + images_failed + items_unusable; }
  // Counts a failure under `kind`, keeps it when among the first kListedFailures, and logs it
  // at debug level (`-v`) as it happens. The caller records it in the catalog as well.
  void AddFailure(const std::string& kind, const std::string& url, const std::string& reason);
  std::string ToJson() const;  // what STORE/stats.json holds
  // A few lines for the terminal; `store` (when given) goes into the `memes errors` hint.
  std::string Summary(const std::filesystem::path& store = {}) const;
};

// Runs the crawl `config` describes into config.store (created when missing). Returns an error
// only when nothing could run (store unopenable, a bad extract rule, a source file missing);
// per-item failures are counted in the report and recorded in the catalog.
Result<CrawlReport> RunCrawl(const PipelineConfig& config, const CrawlOptions& options = {});

// `memes crawl PIPELINE.toml` and the quick form `memes crawl --keywords FILE --url TEMPLATE
// --store DIR`.
void AddCrawlCommand(CLI::App& app, CommandRegistry& registry);

}  // namespace memes::pipelines
