// The crawl flow graph (oneTBB): the wiring only; each node's body is a named functor in the
// file of its stage (crawl_pages.h, crawl_images.h, crawl_commit.h). The picture:
//
//   page_source ─► page_limiter ─► page_fetch (async: Fetcher) ─► extract (serial; reorder
//   window; paging stops at a keyword's last page) ─► image_queue ─► image_limiter
//   ─► url_dedupe (serial, catalog; numbers the images; frees the page's slot) ─► image_fetch
//   (async: Fetcher, or a local read) ─► fetch_order (serial reorder window) ─► store_and_decode
//   (parallel: decode, min_side, blob store) ─► commit_order (sequencer) ─► commit (serial)
//   store_and_decode ─► image_limiter's decrement (the body is freed)
//   a ticker thread ─► extract, fetch_order (lets a window give up on a gap when nothing comes)
//
// Determinism without head-of-line blocking: the order that decides labels' and near-duplicate
// groups' outcomes is url_dedupe's numbering, and two reorder windows (crawl_reorder.h) restore
// it after the network has shuffled pages and images. A late page or image waits the others at
// most CrawlOptions::reorder_deadline, once; then they go on and it is placed on arrival. So
// the catalog is the same for the same responses whenever none is later than the deadline, and
// a stalled URL costs its own transfer slot for its own timeout and the rest at most the
// deadline. Label ids come from the pipeline file's class order, not from the first commit.
// After fetch_order the wait for order is for decoding only (commit_order), bounded by the
// decode time budget, and holds frames, not bodies.
//
// Every catalog call happens under `catalog_mutex` (the Store is not thread-safe for them);
// only url_dedupe, page_fetch's resume check and commit make them.
#include "pipelines/crawl.h"

#include <tbb/flow_graph.h>

#include <cassert>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/progress.h"
#include "ingest/fetcher.h"
#include "ingest/url.h"
#include "pipelines/crawl_commit.h"
#include "pipelines/crawl_images.h"
#include "pipelines/crawl_pages.h"
#include "pipelines/crawl_work.h"
#include "store/file_util.h"
#include "store/regroup.h"
#include "store/store.h"
#include "transform/frames.h"

namespace memes::pipelines {
// stats.json's "dedupe" object and `memes dedupe --report`'s dedupe.json (cmd_dedupe.cpp).
nlohmann::ordered_json DedupeJson(const store::GroupSummary& groups,
                                  const store::CatalogOptions* options);

namespace {

namespace flow = tbb::flow;
using crawl::ImagePtr;
using crawl::PagePtr;

transform::DecodeOptions ToDecodeOptions(const ImageSettings& image) {
  transform::DecodeOptions o;
  static_cast<::memes::ImageSettings&>(o) = image;  // size, fit, background, max_frames
  o.max_file_bytes = image.max_file_bytes;
  o.max_canvas_pixels = image.max_canvas_pixels;
  o.max_decoded_frames = image.max_decoded_frames;
  o.time_budget_ms = image.decode_time_budget_ms;
  return o;
}

Status WriteStats(const std::filesystem::path& dir, const CrawlReport& report) {
  // The store's own temp + fsync + rename, with a unique temp name: two processes never write
  // one temp file, and a kill never leaves a half-written stats.json.
  return store::WriteFileAtomic(dir / "stats.json", report.ToJson() + "\n");
}

}  // namespace

Result<CrawlReport> RunCrawl(const PipelineConfig& config, const CrawlOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  MEMES_ASSIGN_OR_RETURN(std::vector<ingest::UrlExtractor> extractors,
                         crawl::MakeExtractors(config));
  MEMES_ASSIGN_OR_RETURN(std::vector<crawl::PageTask> page_tasks,
                         crawl::ListPageTasks(config, extractors));
  MEMES_ASSIGN_OR_RETURN(std::vector<ImagePtr> direct_images, crawl::ListDirectImages(config));
  const crawl::Partition partition{options.partition, options.partitions};
  const std::string partition_record = crawl::SelectPartition(partition, page_tasks, direct_images);
  ingest::FetchSettings fetch_settings = config.politeness;
  crawl::SharePoliteness(fetch_settings, partition);
  crawl::AddSourceHosts(config, direct_images, fetch_settings.allow_private_hosts);
  MEMES_RETURN_IF_ERROR(ingest::CheckFetchSettings(fetch_settings).At(config.file.string()));

  store::StoreOptions store_options;
  store_options.image_settings = config.image;
  store_options.catalog.rule = config.dedupe.Rule();
  store_options.catalog.probe_orientations = config.dedupe.orientations;
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                         store::Store::Open(config.store, store_options));
  if (!(store->image_settings() == store_options.image_settings)) {
    return InvalidArgument("the store's frames were made with other image settings (" +
                               DescribeImageSettings(store->image_settings()) +
                               ") than the pipeline file asks for (" +
                               DescribeImageSettings(config.image) + ")",
                           config.store.string());
  }
  // A store written by an older memes lacks signatures this one matches with (FORMAT.md, "Older
  // stores"): say so once per crawl rather than let captioned copies of old pictures found
  // groups of their own unexplained.
  if (const Result<int64_t> stale_frames = store->catalog().CountFramesWithoutSignatures();
      stale_frames.ok() && *stale_frames > 0) {
    MEMES_LOG(kWarning) << config.store.string() << ": " << *stale_frames
                        << " stored frames lack a verification thumbnail, a band hash or a "
                           "content hash by this memes's rule (catalogued by an older memes): "
                           "`memes dedupe --store "
                        << config.store.string()
                        << "` recomputes them from the frames cache; until then new copies of "
                           "those pictures may found groups of their own";
  }
  MEMES_RETURN_IF_ERROR(
      crawl::RecordPartition(store->catalog(), partition, partition_record, config.store.string()));
  const transform::DecodeOptions decode_options = ToDecodeOptions(config.image);
  const int images_in_flight =
      options.images_in_flight > 0 ? options.images_in_flight : 2 * config.politeness.max_transfers;

  CrawlReport report;
  std::mutex catalog_mutex;
  std::optional<ProgressBar> progress;
  if (options.progress) progress.emplace("crawl", 0);
  ingest::Fetcher fetcher(fetch_settings);
  // Labels in the pipeline file's class order, before any image: label ids (and so the label
  // bytes of pack) never depend on which image happens to be committed first.
  {
    std::vector<std::string> class_names;
    for (const ClassSpec& spec : config.classes) class_names.push_back(spec.name);
    MEMES_RETURN_IF_ERROR(store->catalog().EnsureLabels(class_names));
  }

  const size_t keywords = page_tasks.empty() ? 0 : page_tasks.back().keyword_index + 1;
  crawl::KeywordPaging paging(keywords);
  crawl::PageSource::State source_state{std::move(page_tasks), std::move(direct_images)};
  // At most this many pages at once: a page holds its slot from the source until its last image
  // is past the image limiter, so this bounds the URLs waiting in image_queue.
  const int pages_in_flight = std::max(
      1, options.pages_in_flight > 0 ? options.pages_in_flight : config.politeness.pages_in_flight);
  // A page may wait this long for the pages before it; the window never holds more than all
  // the pages in flight, so it is bounded by the limiter, not by the deadline.
  crawl::PageExtractor::State extract_state(options.reorder_deadline,
                                            static_cast<size_t>(pages_in_flight), keywords);
  // Fetched images wait for the ones before them at most the deadline, and the window holds at
  // most images_in_flight - max_transfers of them, so the fetcher always has
  // max_transfers images to work on however late one is.
  crawl::FetchOrder::State fetch_order_state(
      options.reorder_deadline,
      static_cast<size_t>(std::max(1, images_in_flight - config.politeness.max_transfers)));
  crawl::UrlDedupe::State dedupe_state;

  flow::graph graph;
  flow::input_node<PagePtr> page_source(graph, crawl::PageSource(source_state, paging));
  flow::limiter_node<PagePtr> page_limiter(graph, pages_in_flight);

  using PageFetchNode = flow::async_node<PagePtr, PagePtr>;
  PageFetchNode page_fetch(
      graph, flow::unlimited, [&](const PagePtr& page, PageFetchNode::gateway_type& gateway) {
        if (page->is_direct || !paging.Wanted(page->keyword_index, page->page_number)) {
          gateway.try_put(page);
          return;
        }
        {
          std::lock_guard lock(catalog_mutex);
          auto read = store->catalog().PageRead(page->url);
          page->already_read = read.ok() && *read;
        }
        if (page->already_read) {
          gateway.try_put(page);
          return;
        }
        gateway.reserve_wait();
        ingest::FetchRequest request(page->url);
        request.accept = "text/html,application/json;q=0.9,*/*;q=0.5";
        fetcher.Submit(std::move(request), [page, &gateway](ingest::FetchResult result) {
          page->fetch = std::move(result);
          gateway.try_put(page);
          gateway.release_wait();
        });
      });

  // Serial: extraction is about a millisecond a page, and serial is what keeps the images of
  // the pages in page order.
  flow::multifunction_node<PagePtr, std::tuple<ImagePtr>> extract(
      graph, flow::serial, crawl::PageExtractor(extract_state, paging));
  flow::queue_node<ImagePtr> image_queue(graph);
  // Images between the URL dedupe and the end of decoding (see CrawlOptions::images_in_flight):
  // each may hold a body of up to max_body_bytes.
  flow::limiter_node<ImagePtr> image_limiter(graph, images_in_flight);
  // Serial: it reads and extends the run's set of URLs and numbers the images.
  flow::function_node<ImagePtr, ImagePtr> url_dedupe(
      graph, flow::serial,
      crawl::UrlDedupe(dedupe_state, *store, catalog_mutex, report, [&page_limiter] {
        page_limiter.decrementer().try_put(flow::continue_msg());
      }));
  // Unlimited: concurrency is the fetcher's (max_transfers), bounded upstream by image_limiter.
  crawl::ImageFetch::Node image_fetch(graph, flow::unlimited,
                                      crawl::ImageFetch(fetcher, config.image.max_file_bytes));
  flow::multifunction_node<ImagePtr, std::tuple<ImagePtr>> fetch_order(
      graph, flow::serial, crawl::FetchOrder(fetch_order_state));
  // Unlimited: SHA-256, decoding and blob writes are the crawl's CPU work, on every core;
  // image_limiter bounds how many bodies it holds.
  crawl::StoreAndDecode::Node store_and_decode(
      graph, flow::unlimited, crawl::StoreAndDecode(*store, decode_options, config.image.min_side));
  // Decoding ends out of order; commits happen in the order images left fetch_order. The wait
  // here is one decode at most (bounded by the decode time budget), and what waits is a few
  // 32x32 frames.
  flow::sequencer_node<ImagePtr> commit_order(graph,
                                              [](const ImagePtr& image) { return image->order; });
  crawl::CommitBatching batching;
  batching.max_items = static_cast<size_t>(std::max(1, options.commit_batch_items));
  batching.max_wait = options.commit_batch_wait;
  crawl::Committer committer(*store, catalog_mutex, report, progress ? &*progress : nullptr,
                             options.on_commit, batching);
  flow::function_node<ImagePtr> commit(graph, flow::serial, [&](const ImagePtr& image) {
    committer(image);
    return flow::continue_msg();
  });

  flow::make_edge(page_source, page_limiter);
  flow::make_edge(page_limiter, page_fetch);
  flow::make_edge(page_fetch, extract);
  flow::make_edge(flow::output_port<0>(extract), image_queue);
  flow::make_edge(image_queue, image_limiter);
  flow::make_edge(image_limiter, url_dedupe);
  flow::make_edge(url_dedupe, image_fetch);
  flow::make_edge(image_fetch, fetch_order);
  flow::make_edge(flow::output_port<0>(fetch_order), store_and_decode);
  flow::make_edge(flow::output_port<0>(store_and_decode), commit_order);
  flow::make_edge(flow::output_port<1>(store_and_decode), image_limiter.decrementer());
  flow::make_edge(commit_order, commit);

  // The reorder windows give up on a gap only when something reaches them, and a commit batch
  // closes on time only when something reaches the commit; this tick reaches them when nothing
  // else does (everything else waiting behind one stalled transfer).
  std::mutex tick_mutex;
  std::condition_variable tick_wake;
  bool ticking = true;
  std::thread ticker([&] {
    std::unique_lock lock(tick_mutex);
    const auto period = std::max(std::chrono::milliseconds(10),
                                 std::min(options.reorder_deadline / 5, batching.max_wait / 2));
    while (!tick_wake.wait_for(lock, period, [&] { return !ticking; })) {
      extract.try_put(PagePtr());
      fetch_order.try_put(ImagePtr());
      committer.FlushIfDue();
    }
  });

  page_source.activate();
  graph.wait_for_all();
  {
    std::lock_guard lock(tick_mutex);
    ticking = false;
  }
  tick_wake.notify_all();
  ticker.join();
  graph.wait_for_all();  // a last tick may have started work
  committer.Flush();     // the last batch, however small
  fetcher.WaitIdle();
  // Invariant: every number reaches the windows exactly once, so both are empty at the end.
  assert(extract_state.window.held() == 0 && fetch_order_state.window.held() == 0);
  report.pages_past_end = extract_state.pages_past_end;
  // Pages past a keyword's end are recorded as read (HTTP status 0: never asked for), so a
  // rerun, which skips the pages read before and so cannot see where the end was, does not
  // request them either.
  for (const crawl::PageTask& task : source_state.tasks) {
    if (paging.Wanted(task.keyword_index, task.page)) continue;
    auto url = ingest::ExpandSearchUrl(task.source->url_template, task.keyword, task.page,
                                       task.source->page_size);
    if (!url.ok()) continue;
    if (Status s = store->catalog().MarkPageRead(*url, 0); !s.ok()) {
      MEMES_LOG(kWarning) << "catalog: " << s.ToString();
      break;
    }
  }
  report.late_images = static_cast<int64_t>(fetch_order_state.window.late());

  // The groups of the whole store, as `memes dedupe --report` counts them.
  if (auto groups = store::SummarizeGroups(store->catalog()); groups.ok()) {
    report.dedupe_json = DedupeJson(*groups, &store_options.catalog).dump();
  } else {
    MEMES_LOG(kWarning) << "near-duplicate summary: " << groups.status().ToString();
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress->Finish();
  if (Status s = WriteStats(store->dir(), report); !s.ok()) {
    MEMES_LOG(kWarning) << s.ToString();
  }
  return report;
}

}  // namespace memes::pipelines
