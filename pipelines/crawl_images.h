// The image side of the crawl graph, stage by stage: URL dedupe (numbers the images, frees the
// page's limiter slot once all its images are past the image limiter), image fetch (async:
// ingest::Fetcher, or a local read), the fetch-order reorder window, and store-and-decode.
// The commit stage is in crawl_commit.h.
// Internal to pipelines/crawl*. Thread-safety: each functor is the body of one node and holds
// its shared state by pointer (oneTBB copies bodies); catalog calls happen under the crawl's
// catalog mutex; StoreAndDecode is safe to run in parallel (Store::PutBlob is).
#pragma once

#include <tbb/flow_graph.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_set>

#include "ingest/fetcher.h"
#include "pipelines/crawl.h"
#include "pipelines/crawl_reorder.h"
#include "pipelines/crawl_work.h"
#include "store/store.h"
#include "transform/frames.h"

namespace memes::pipelines::crawl {

// Serial: skips URLs fetched by this run or an earlier one, and URLs an earlier run found gone
// for good (404, too large, robots…: recorded with their kind); numbers every message densely.
class UrlDedupe {
 public:
  struct State {
    std::unordered_set<std::string> seen_urls;
    uint64_t next_image = 0;
  };
  // `page_slot_freed` is called once per page, when its last image has been numbered.
  UrlDedupe(State& state, store::Store& store, std::mutex& catalog_mutex, CrawlReport& report,
            std::function<void()> page_slot_freed)
      : state_(&state),
        store_(&store),
        catalog_mutex_(&catalog_mutex),
        report_(&report),
        page_slot_freed_(std::move(page_slot_freed)) {}

  ImagePtr operator()(ImagePtr image);

 private:
  State* state_;
  store::Store* store_;
  std::mutex* catalog_mutex_;
  CrawlReport* report_;
  std::function<void()> page_slot_freed_;
};

// Async: hands the request to the fetcher (or reads a local file) and the result to `gateway`.
class ImageFetch {
 public:
  using Node = tbb::flow::async_node<ImagePtr, ImagePtr>;
  // Folder sources are read here, never more than `max_file_bytes` of a file (a larger one
  // becomes a too-large failure and is never stored).
  ImageFetch(ingest::Fetcher& fetcher, uint64_t max_file_bytes)
      : fetcher_(&fetcher), max_file_bytes_(max_file_bytes) {}
  void operator()(const ImagePtr& image, Node::gateway_type& gateway);

 private:
  ingest::Fetcher* fetcher_;
  uint64_t max_file_bytes_;
};

// Serial: puts the fetched images back in url_dedupe's order, giving up on one that is more
// than the window's deadline late (see crawl_reorder.h), and numbers them densely in the order
// they leave (ImageWork::order: the commit order). A null message is a timer tick.
class FetchOrder {
 public:
  using Ports = tbb::flow::multifunction_node<ImagePtr, std::tuple<ImagePtr>>::output_ports_type;
  struct State {
    State(std::chrono::milliseconds deadline, size_t max_held) : window(deadline, max_held) {}
    ReorderWindow<ImagePtr> window;
    uint64_t next_order = 0;
  };
  explicit FetchOrder(State& state) : state_(&state) {}
  void operator()(const ImagePtr& image, Ports& ports);

 private:
  State* state_;
};

// Parallel: decodes the body into frames, refuses images smaller than min_side (tracking
// pixels, spacers: not stored), stores the blob (durable before the commit names it; here, so
// its fsync runs in parallel rather than in the serial commit; the frames go into a segment in
// the commit, synced once per batch), and frees the body. Port 0 carries the image
// on; port 1 tells the image limiter that the body's memory is free.
class StoreAndDecode {
 public:
  using Node =
      tbb::flow::multifunction_node<ImagePtr, std::tuple<ImagePtr, tbb::flow::continue_msg>>;
  StoreAndDecode(store::Store& store, const transform::DecodeOptions& options, int min_side)
      : store_(&store), options_(&options), min_side_(min_side) {}

  // The work alone, without the graph.
  void Process(ImageWork& image) const;
  void operator()(const ImagePtr& image, Node::output_ports_type& ports) const;

 private:
  store::Store* store_;
  const transform::DecodeOptions* options_;
  int min_side_;
};

}  // namespace memes::pipelines::crawl
