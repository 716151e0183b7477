// The page side of the crawl graph: the page source (URL-list slices, then search pages) and
// URL extraction, with paging that stops at a keyword's last page.
// Internal to pipelines/crawl*. Thread-safety: KeywordPaging is safe from any thread; each
// functor is the body of one node (PageSource: an input_node; PageExtractor: a serial node) and
// shares its state by reference, so copies (oneTBB copies bodies) act on the same state.
#pragma once

#include <tbb/flow_graph.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "pipelines/crawl_reorder.h"
#include "pipelines/crawl_work.h"

namespace memes::pipelines::crawl {

// The last page worth reading, per keyword (PageTask::keyword_index). Written by extraction
// when a page lists no URL its keyword's earlier pages did not, read by the page source so
// that pages past the end are never requested.
class KeywordPaging {
 public:
  explicit KeywordPaging(size_t keywords);
  bool Wanted(size_t keyword, int page) const;
  // Pages after `page` are past the end of this keyword's results.
  void EndAt(size_t keyword, int page);

 private:
  std::unique_ptr<std::atomic<int>[]> last_page_;
  size_t keywords_;
};

// Emits URL-list/folder slices first (kDirectSlice images each, so they share the page limiter
// and the page order), then the search pages still wanted, numbering what it emits densely.
class PageSource {
 public:
  // URL lists and folders enter as slices of this many images.
  static constexpr size_t kDirectSlice = 64;

  struct State {
    std::vector<PageTask> tasks;
    std::vector<ImagePtr> direct_images;
    size_t next_direct = 0;  // images of direct_images already sliced
    size_t next_task = 0;
    size_t next_seq = 0;
  };
  PageSource(State& state, const KeywordPaging& paging) : state_(&state), paging_(&paging) {}

  // Null when everything has been emitted.
  PagePtr Next();
  PagePtr operator()(tbb::flow_control& control) {
    PagePtr page = Next();
    if (!page) control.stop();
    return page;
  }

 private:
  State* state_;
  const KeywordPaging* paging_;
};

// URL extraction (serial): restores the page order with a reorder window, extracts the image
// URLs of each page and sends them on as ImageWork, each page's images in page order. A page
// that lists no URL new to its keyword ends that keyword's paging; later pages of the keyword
// that were already fetched are dropped unread (`pages_past_end`).
class PageExtractor {
 public:
  using Ports = tbb::flow::multifunction_node<PagePtr, std::tuple<ImagePtr>>::output_ports_type;

  struct State {
    State(std::chrono::milliseconds deadline, size_t max_held, size_t keywords)
        : window(deadline, max_held), seen_per_keyword(keywords) {}
    ReorderWindow<PagePtr> window;
    // Hashes of the URLs each keyword's pages listed in this run.
    std::vector<std::unordered_set<uint64_t>> seen_per_keyword;
    int64_t pages_past_end = 0;
  };
  PageExtractor(State& state, KeywordPaging& paging) : state_(&state), paging_(&paging) {}

  // Extracts one page (in whatever order it is given) into `out`.
  void Extract(const PageWork& page, std::vector<ImagePtr>& out);
  // A page from the fetcher, or null: a timer tick that lets the window give up on a gap.
  void operator()(const PagePtr& page, Ports& ports);

 private:
  State* state_;
  KeywordPaging* paging_;
};

}  // namespace memes::pipelines::crawl
