// The messages of the crawl graph and the listing of its inputs (search page tasks from the
// pipeline file, image tasks from URL lists and local folders). Internal to pipelines/crawl*.
// Thread-safety: messages are handed from node to node; one node owns a message at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ingest/extract.h"
#include "ingest/fetcher.h"
#include "pipelines/pipeline_file.h"
#include "store/catalog.h"
#include "transform/frames.h"

namespace memes::pipelines::crawl {

struct ImageWork;

// One search page to read (or a slice of a URL list or folder).
struct PageWork {
  size_t seq = 0;            // dense, in input order: the page reorder window restores this order
  size_t keyword_index = 0;  // PageTask::keyword_index (search pages only)
  int page_number = 0;       // 1-based (search pages only)
  std::string url;
  std::string label;
  std::string keyword;
  std::string source_name;
  const ingest::UrlExtractor* extractor = nullptr;
  bool already_read = false;  // an earlier run read it (catalog)
  ingest::FetchResult fetch;
  // A slice of a URL list or folder source: no fetch, these images are its "extraction".
  std::vector<std::shared_ptr<ImageWork>> direct;
  bool is_direct = false;
};
using PagePtr = std::shared_ptr<PageWork>;

// What the commit node needs to close a page once its last image is done.
// Invariant: `remaining` and `undispatched` are set by the extract node before any image of the
// page is sent; afterwards only the (serial) commit node changes `remaining` and only the
// (serial) URL dedupe node changes `undispatched`.
struct PageState {
  std::string url;
  int http_status = 0;
  bool already_read = false;  // skipped: an earlier run read it
  bool is_direct = false;     // a slice of a URL list or folder: never marked read
  bool mark_read = false;     // fetched and extracted: record it as read when the images are done
  Status error;               // the page itself failed (fetch or extraction)
  bool retry_later = false;   // an image failed in a way a rerun should retry
  int remaining = 0;          // images not yet committed (or recorded as failed)
  int undispatched = 0;       // images not yet past the image limiter: the page's slot
};

// One image URL (or local file) on its way to the store.
struct ImageWork {
  uint64_t seq = 0;    // dense, assigned by url_dedupe: the order fetch_order restores
  uint64_t order = 0;  // dense, assigned by fetch_order as images leave it: the commit order
  std::string url;
  std::string label;
  std::string keyword;
  std::string source_name;
  std::string page_url;
  std::filesystem::path local_file;  // folder sources: read directly, never fetched
  std::shared_ptr<PageState> page;   // null for URL-list and folder sources
  bool page_marker = false;          // carries no image: only closes `page`
  bool skip = false;                 // fetched already (this run or an earlier one)
  ingest::FetchResult fetch;         // body freed once stored and decoded
  uint64_t body_bytes = 0;           // size of the body before it was freed
  std::string blob;                  // sha256 after PutBlob
  Status stage_error;                // blob store failure (a local failure: retried by a rerun)
  std::string refused;               // non-empty: kept out on purpose (e.g. "too-small")
  std::optional<Result<transform::Decoded>> decoded;
};
using ImagePtr = std::shared_ptr<ImageWork>;

// A search page to read: source × class × keyword × page, in file order.
struct PageTask {
  const Source* source = nullptr;
  const ingest::UrlExtractor* extractor = nullptr;
  std::string label;
  std::string keyword;
  int page = 1;
  size_t keyword_index = 0;  // dense over (source, class, keyword): paging stops per keyword
};

// Every page of every search source, each keyword's pages in page order. Bad templates are
// reported, with the source's line.
Result<std::vector<PageTask>> ListPageTasks(const PipelineConfig& config,
                                            const std::vector<ingest::UrlExtractor>& extractors);

// The extractor of each source (index-aligned with config.sources; unused for non-search).
Result<std::vector<ingest::UrlExtractor>> MakeExtractors(const PipelineConfig& config);

// Reads a folder source's file into image.fetch, as a fetch would: never more than `max_bytes`
// in memory. A larger file (by its size, or by what a growing file turns out to hold) is a
// kTooLarge fetch failure naming the file, so it is recorded, never stored or decoded.
void ReadLocalImage(ImageWork& image, uint64_t max_bytes);

// Adds to `hosts` the hosts the pipeline file names itself: those of its search URL templates
// and of the URLs in its URL lists (`direct_images`). The fetcher lets these, and the user's
// [politeness] allow_private_hosts, resolve to private addresses (a NAS, the loopback demo);
// a host that only a fetched page names must be public.
void AddSourceHosts(const PipelineConfig& config, const std::vector<ImagePtr>& direct_images,
                    std::vector<std::string>& hosts);

// Images of `urls` sources (CSV/TSV "label,url") and `folder` sources (subfolder = label).
// A label not among the classes is an error naming file and line; blank and # lines skipped.
Result<std::vector<ImagePtr>> ListDirectImages(const PipelineConfig& config);

// --- partitions (`memes crawl --partition K/N`) ------------------------------------------------
// A work unit is one keyword of one search source with all its pages (where paging stops is
// decided by the keyword's earlier pages, so its pages cannot be split), or one slice of
// kPartitionSlice consecutive entries of a URL list or folder. Partition K of N takes the units
// whose stable hash (the first 8 bytes of SHA-256 of the unit's key) is K - 1 modulo N: the N
// partitions are disjoint and together are the whole crawl, whatever machine lists them.
inline constexpr size_t kPartitionSlice = 64;
inline constexpr const char* kPartitionMetaKey = "partition";

struct Partition {
  int index = 1;  // K, 1-based
  int count = 1;  // N; 1: the whole crawl
  bool whole() const { return count == 1; }
  std::string Name() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "K/N" with 1 <= K <= N <= 1'000'000; an error says what was wrong.
Result<Partition> ParsePartition(const std::string& text);

// 0..count-1: the partition (minus one) that a unit with this key belongs to.
int PartitionOfUnit(std::string_view unit_key, int count);

// Keeps the page tasks and direct images of `partition` (keyword indices made dense again, as
// paging needs) and returns what the merge needs to put the partitions' items back in the
// order one crawl would have committed them: a JSON record (FORMAT.md, "Merging stores") with
// the partition, a fingerprint of the whole crawl's unit list, the global position of each of
// its keywords and of each of its URL-list/folder entries. Empty for the whole crawl.
std::string SelectPartition(const Partition& partition, std::vector<PageTask>& tasks,
                            std::vector<ImagePtr>& direct_images);

// Checks that `catalog` may receive this crawl and records the partition in its meta table:
// a store holds one partition of one crawl plan, or an unpartitioned crawl, never a mix.
Status RecordPartition(store::Catalog& catalog, const Partition& partition,
                       const std::string& record, const std::string& store_dir);

// N partitions run at once against the same hosts: each takes 1/N of every per-host limit
// (rate, burst, transfers; at least 1 transfer and burst), so together they stay within
// what the pipeline file allows one crawler. Logs what it did.
void SharePoliteness(ingest::FetchSettings& settings, const Partition& partition);

}  // namespace memes::pipelines::crawl
