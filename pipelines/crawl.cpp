// The crawl flow graph (oneTBB). The picture:
//
//   page_source (URL-list slices, then search pages) ─► page_limiter ─► page_fetch (async:
//   ingest::Fetcher) ─► page_order (sequencer) ─► extract (serial) ─► image_queue
//   ─► image_limiter ─► url_dedupe (serial, catalog; numbers the images) ─► image_fetch (async:
//   Fetcher, or a local read) ─► store_and_decode (parallel: blob store + transform)
//   ─► commit_order (sequencer) ─► commit (serial, catalog) ─► image_limiter's decrement
//   page_limiter gets its decrement when the last image of a page is committed.
//
// The two sequencers make the catalog's order, and so its labels and near-duplicate groups,
// the same for the same responses however the network and the threads interleave (DESIGN.md:
// writers are serial behind a sequencer). The price is head-of-line waiting: a slow image holds
// the commits behind it, at most images_in_flight of them, and bodies are freed before that
// wait, so what waits is a few 32×32 frames each.
//
// Every catalog call happens under `catalog_mutex` (the Store is not thread-safe for them);
// only url_dedupe, page_fetch's resume check and commit make them.
#include "pipelines/crawl.h"

#include <tbb/flow_graph.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <mutex>
#include <unordered_set>

#include "core/log.h"
#include "core/progress.h"
#include "ingest/fetcher.h"
#include "ingest/url.h"
#include "pipelines/crawl_work.h"
#include "store/file_util.h"
#include "store/store.h"
#include "transform/frames.h"

namespace memes::pipelines {
namespace {

namespace flow = tbb::flow;
using crawl::ImagePtr;
using crawl::ImageWork;
using crawl::PagePtr;
using crawl::PageState;
using crawl::PageWork;

transform::DecodeOptions ToDecodeOptions(const ImageSettings& image) {
  transform::DecodeOptions o;
  o.size = image.size;
  o.fit = image.fit == FitMode::kCrop      ? transform::FitMode::kCrop
          : image.fit == FitMode::kStretch ? transform::FitMode::kStretch
                                           : transform::FitMode::kPad;
  std::copy(std::begin(image.background), std::end(image.background), o.background);
  o.max_frames = image.max_frames;
  o.max_file_bytes = image.max_file_bytes;
  o.max_canvas_pixels = image.max_canvas_pixels;
  o.max_decoded_frames = image.max_decoded_frames;
  o.time_budget_ms = image.decode_time_budget_ms;
  return o;
}

store::ImageSettings ToStoreSettings(const ImageSettings& image) {
  store::ImageSettings s;
  s.image_size = image.size;
  s.fit = FitModeName(image.fit);
  char hex[7];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x", image.background[0], image.background[1],
                image.background[2]);
  s.background = hex;
  return s;
}

std::string HostOf(const std::string& url) {
  auto parts = ingest::ParseHttpUrl(url);
  return parts.ok() ? parts->origin : "local";
}

// The serial commit node's body: one catalog transaction per image, then the bookkeeping that
// closes pages and feeds the report.
class Committer {
 public:
  Committer(store::Store& store, std::mutex& catalog_mutex, CrawlReport& report,
            ProgressBar* progress, flow::limiter_node<PagePtr>& page_limiter)
      : store_(store),
        mutex_(catalog_mutex),
        report_(report),
        progress_(progress),
        page_limiter_(page_limiter) {}

  void operator()(const ImagePtr& image) {
    bool page_closed = false;
    {
      std::lock_guard lock(mutex_);
      if (!image->page_marker && !image->skip) Commit(*image);
      if (image->page) page_closed = ClosePageImage(*image, *image->page);
      if (progress_ && !image->page_marker) {
        progress_->Add();
        progress_->SetDetail("pages " + std::to_string(report_.pages_read) + " new " +
                             std::to_string(report_.items_new) + " failed " +
                             std::to_string(report_.failures()));
      }
    }
    // Outside the catalog lock: the freed slot may start the next page's resume check.
    if (page_closed) page_limiter_.decrementer().try_put(flow::continue_msg());
  }

 private:
  void Record(const std::string& url, const std::string& stage, const std::string& kind,
              const std::string& message) {
    ++report_.errors_per_kind[kind];
    if (Status s = store_.catalog().RecordError(url, stage, kind + ": " + message); !s.ok()) {
      MEMES_LOG(kError) << "catalog: " << s.ToString();
    }
  }

  void Commit(ImageWork& image) {
    if (image.fetch.ok()) {
      ++report_.images_fetched;
      report_.bytes += image.body_bytes;
      ++report_.fetched_per_host[HostOf(image.url)];
    } else {
      ++report_.images_failed;
      Record(image.url, "fetch", ingest::ErrorLabel(image.fetch), image.fetch.status.ToString());
      return;
    }
    if (!image.stage_error.ok()) {
      ++report_.images_failed;
      Record(image.url, "store", "store", image.stage_error.ToString());
      return;
    }
    store::ItemRecord item;
    item.blob = image.blob;
    item.bytes = image.body_bytes;
    std::vector<store::FrameData> frames;
    const Result<transform::Decoded>& decoded = *image.decoded;
    if (decoded.ok()) {
      item.format = decoded->format;
      item.width = decoded->width;
      item.height = decoded->height;
      item.frame_count = decoded->frames_in_file;
      for (const transform::Frame& frame : decoded->frames) {
        store::FrameData data;
        data.record.index = frame.index;
        data.record.timestamp_ms = static_cast<int64_t>(frame.time_seconds * 1000);
        data.record.phash = frame.phash;
        data.pixels = frame.planar;
        frames.push_back(data);
      }
    } else {
      item.status = store::kItemFailed;
      item.error = decoded.status().ToString();
    }
    store::SourceRecord source;
    source.url = image.url;
    source.page_url = image.page_url;
    source.keyword = image.keyword;
    source.source_name = image.source_name;
    source.fetched_at = static_cast<int64_t>(std::time(nullptr));
    source.http_status = image.fetch.http_status;
    auto added = store_.AddItem(item, &source, frames, image.label);
    if (!added.ok()) {
      ++report_.images_failed;
      Record(image.url, "commit", "commit", added.status().ToString());
      return;
    }
    if (!decoded.ok()) {
      ++report_.items_unusable;
      ++report_.errors_per_kind["decode: " + std::string(StatusCodeName(decoded.status().code()))];
    } else if (added->new_item) {
      ++report_.items_new;
      ++report_.kept_per_class[image.label];
      if (!image.keyword.empty()) ++report_.kept_per_keyword[image.keyword];
    } else {
      ++report_.items_duplicate;
    }
  }

  // Returns true when this was the page's last image.
  bool ClosePageImage(const ImageWork& image, PageState& page) {
    if (!image.page_marker && !image.skip && !image.fetch.ok() &&
        ingest::IsRetryable(image.fetch.error, image.fetch.http_status)) {
      page.retry_later = true;
    }
    if (--page.remaining > 0) return false;
    if (!page.error.ok()) {
      ++report_.pages_failed;
      ++report_.errors_per_kind["page: " + std::string(StatusCodeName(page.error.code()))];
      if (Status s = store_.catalog().RecordError(page.url, "page", page.error.ToString());
          !s.ok()) {
        MEMES_LOG(kError) << "catalog: " << s.ToString();
      }
    } else if (page.already_read) {
      ++report_.pages_skipped;
    } else if (page.mark_read) {
      ++report_.pages_read;
    }
    // A page with a retryable failure (timeout, reset, 5xx…) stays unread, so a rerun reads it
    // again and retries those images; the URLs already fetched are skipped then.
    if (page.mark_read && !page.retry_later) {
      if (Status s = store_.catalog().MarkPageRead(page.url, page.http_status); !s.ok()) {
        MEMES_LOG(kError) << "catalog: " << s.ToString();
      }
    }
    return true;
  }

  store::Store& store_;
  std::mutex& mutex_;
  CrawlReport& report_;
  ProgressBar* progress_;
  flow::limiter_node<PagePtr>& page_limiter_;
};

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
  const ingest::FetchSettings& fetch_settings = config.politeness;
  MEMES_RETURN_IF_ERROR(ingest::CheckFetchSettings(fetch_settings).At(config.file.string()));

  store::StoreOptions store_options;
  store_options.image_settings = ToStoreSettings(config.image);
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                         store::Store::Open(config.store, store_options));
  if (!(store->image_settings() == store_options.image_settings)) {
    return InvalidArgument("the store's frames were made with other image settings (size " +
                               std::to_string(store->image_settings().image_size) + ", fit " +
                               store->image_settings().fit + ") than the pipeline file asks for",
                           config.store.string());
  }
  const transform::DecodeOptions decode_options = ToDecodeOptions(config.image);
  const int images_in_flight =
      options.images_in_flight > 0 ? options.images_in_flight : 2 * config.politeness.max_transfers;

  CrawlReport report;
  std::mutex catalog_mutex;
  std::optional<ProgressBar> progress;
  if (options.progress) progress.emplace("crawl", 0);
  ingest::Fetcher fetcher(fetch_settings);

  flow::graph graph;
  // URL lists and folders enter as slices of kDirectSlice images, ahead of the search pages,
  // so they share the page limiter (bounded queue) and the page order.
  constexpr size_t kDirectSlice = 64;
  const size_t direct_pages = (direct_images.size() + kDirectSlice - 1) / kDirectSlice;
  size_t next_page = 0;
  flow::input_node<PagePtr> page_source(graph, [&](tbb::flow_control& control) -> PagePtr {
    if (next_page >= direct_pages + page_tasks.size()) {
      control.stop();
      return {};
    }
    auto page = std::make_shared<PageWork>();
    page->seq = next_page++;
    if (page->seq < direct_pages) {
      page->is_direct = true;
      const size_t begin = page->seq * kDirectSlice;
      const size_t end = std::min(direct_images.size(), begin + kDirectSlice);
      page->direct.assign(std::make_move_iterator(direct_images.begin() + begin),
                          std::make_move_iterator(direct_images.begin() + end));
      return page;
    }
    const crawl::PageTask& task = page_tasks[page->seq - direct_pages];
    auto url = ingest::ExpandSearchUrl(task.source->url_template, task.keyword, task.page,
                                       task.source->page_size);
    page->url = url.ok() ? *url : task.source->url_template;  // checked in ListPageTasks
    page->label = task.label;
    page->keyword = task.keyword;
    page->source_name = task.source->name;
    page->extractor = task.extractor;
    return page;
  });
  // Limits pages in flight (see CrawlOptions::pages_in_flight).
  flow::limiter_node<PagePtr> page_limiter(graph, std::max(1, options.pages_in_flight));

  using PageFetchNode = flow::async_node<PagePtr, PagePtr>;
  PageFetchNode page_fetch(
      graph, flow::unlimited, [&](const PagePtr& page, PageFetchNode::gateway_type& gateway) {
        if (page->is_direct) {
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

  // Pages leave the fetcher in any order; extraction sees them in input order.
  flow::sequencer_node<PagePtr> page_order(graph, [](const PagePtr& page) { return page->seq; });

  // URL extraction: serial, so the images enter the queue in page order (parsing a page is
  // about a millisecond; decoding, not this, is the CPU work of a crawl).
  using ExtractNode = flow::multifunction_node<PagePtr, std::tuple<ImagePtr>>;
  ExtractNode extract(
      graph, flow::serial, [&](const PagePtr& page, ExtractNode::output_ports_type& ports) {
        auto state = std::make_shared<PageState>();
        if (page->is_direct) {
          state->is_direct = true;
          state->remaining = static_cast<int>(page->direct.size());
          for (const ImagePtr& image : page->direct) {
            image->page = state;
            std::get<0>(ports).try_put(image);
          }
          return;
        }
        state->url = page->url;
        state->http_status = page->fetch.http_status;
        state->already_read = page->already_read;
        std::vector<std::string> urls;
        if (page->already_read) {
          // Nothing to do; the marker below only releases the page's limiter slot.
        } else if (!page->fetch.ok()) {
          state->error = page->fetch.status;
        } else {
          auto found = page->extractor->Extract(
              page->fetch.body, page->fetch.final_url.empty() ? page->url : page->fetch.final_url);
          if (found.ok()) {
            urls = std::move(found).value();
            state->mark_read = true;
          } else {
            state->error = found.status();
          }
        }
        state->remaining = urls.empty() ? 1 : static_cast<int>(urls.size());
        if (urls.empty()) {
          auto marker = std::make_shared<ImageWork>();
          marker->page_marker = true;
          marker->page = state;
          std::get<0>(ports).try_put(marker);
          return;
        }
        for (std::string& url : urls) {
          auto image = std::make_shared<ImageWork>();
          image->url = std::move(url);
          image->label = page->label;
          image->keyword = page->keyword;
          image->source_name = page->source_name;
          image->page_url = page->url;
          image->page = state;
          std::get<0>(ports).try_put(image);
        }
      });

  flow::queue_node<ImagePtr> image_queue(graph);
  // Limits images in flight (see CrawlOptions::images_in_flight): bodies and frames in memory.
  flow::limiter_node<ImagePtr> image_limiter(graph, images_in_flight);

  // URL dedupe: serial, because it reads the catalog and the run's own set of URLs.
  std::unordered_set<std::string> seen_urls;
  uint64_t next_image = 0;
  flow::function_node<ImagePtr, ImagePtr> url_dedupe(graph, flow::serial, [&](ImagePtr image) {
    image->seq = next_image++;  // every message, markers too: the commit sequencer needs them all
    if (image->page_marker) return image;
    std::lock_guard lock(catalog_mutex);
    ++report.urls_found;
    if (!seen_urls.insert(image->url).second) {
      image->skip = true;
    } else {
      auto state = store->catalog().LookupUrl(image->url);
      image->skip = state.ok() && *state == store::UrlState::kFetched;
    }
    if (image->skip) ++report.urls_skipped;
    return image;
  });

  using ImageFetchNode = flow::async_node<ImagePtr, ImagePtr>;
  ImageFetchNode image_fetch(
      graph, flow::unlimited, [&](const ImagePtr& image, ImageFetchNode::gateway_type& gateway) {
        if (image->page_marker || image->skip) {
          gateway.try_put(image);
          return;
        }
        if (!image->local_file.empty()) {
          std::ifstream in(image->local_file, std::ios::binary);
          std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          image->fetch.url = image->url;
          if (!in.good() && !in.eof()) {
            image->fetch.error = ingest::FetchError::kOther;
            image->fetch.status = IoError("cannot read", image->local_file.string());
          } else {
            image->fetch.body = std::move(bytes);
          }
          gateway.try_put(image);
          return;
        }
        gateway.reserve_wait();
        fetcher.Submit(image->url, [image, &gateway](ingest::FetchResult result) {
          image->fetch = std::move(result);
          gateway.try_put(image);
          gateway.release_wait();
        });
      });

  // Blob store + decode: parallel (SHA-256, file writes and decoding are CPU and disk work).
  flow::function_node<ImagePtr, ImagePtr> store_and_decode(
      graph, flow::unlimited, [&](ImagePtr image) {
        if (image->page_marker || image->skip || !image->fetch.ok()) return image;
        const auto* data = reinterpret_cast<const uint8_t*>(image->fetch.body.data());
        const std::span<const uint8_t> bytes(data, image->fetch.body.size());
        auto blob = store->PutBlob(bytes);
        if (!blob.ok()) {
          image->stage_error = blob.status();
          return image;
        }
        image->blob = std::move(blob).value();
        image->decoded = transform::DecodeToFrames(bytes, decode_options);
        if (!image->decoded->ok()) {
          image->decoded = Result<transform::Decoded>(image->decoded->status().At(image->url));
        }
        // The blob is in the store now: free the body before the commit sequencer's wait.
        image->body_bytes = image->fetch.body.size();
        std::string().swap(image->fetch.body);
        return image;
      });

  // Commits happen in url_dedupe's order (see the picture at the top).
  flow::sequencer_node<ImagePtr> commit_order(graph,
                                              [](const ImagePtr& image) { return image->seq; });

  Committer committer(*store, catalog_mutex, report, progress ? &*progress : nullptr, page_limiter);
  flow::function_node<ImagePtr, flow::continue_msg> commit(graph, flow::serial,
                                                           [&](const ImagePtr& image) {
                                                             committer(image);
                                                             image->decoded.reset();
                                                             return flow::continue_msg();
                                                           });

  flow::make_edge(page_source, page_limiter);
  flow::make_edge(page_limiter, page_fetch);
  flow::make_edge(page_fetch, page_order);
  flow::make_edge(page_order, extract);
  flow::make_edge(flow::output_port<0>(extract), image_queue);
  flow::make_edge(image_queue, image_limiter);
  flow::make_edge(image_limiter, url_dedupe);
  flow::make_edge(url_dedupe, image_fetch);
  flow::make_edge(image_fetch, store_and_decode);
  flow::make_edge(store_and_decode, commit_order);
  flow::make_edge(commit_order, commit);
  flow::make_edge(commit, image_limiter.decrementer());

  page_source.activate();
  graph.wait_for_all();
  fetcher.WaitIdle();

  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress->Finish();
  if (Status s = WriteStats(store->dir(), report); !s.ok()) {
    MEMES_LOG(kWarning) << s.ToString();
  }
  return report;
}

}  // namespace memes::pipelines
