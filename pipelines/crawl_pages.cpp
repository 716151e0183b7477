#include "pipelines/crawl_pages.h"

#include <climits>
#include <functional>
#include <string_view>

#include "ingest/url.h"

namespace memes::pipelines::crawl {

KeywordPaging::KeywordPaging(size_t keywords)
    : last_page_(new std::atomic<int>[keywords == 0 ? 1 : keywords]), keywords_(keywords) {
  for (size_t k = 0; k < keywords_; ++k) last_page_[k].store(INT_MAX);
}

bool KeywordPaging::Wanted(size_t keyword, int page) const {
  return keyword >= keywords_ || page <= last_page_[keyword].load(std::memory_order_relaxed);
}

void KeywordPaging::EndAt(size_t keyword, int page) {
  if (keyword >= keywords_) return;
  int last = last_page_[keyword].load();
  while (page < last && !last_page_[keyword].compare_exchange_weak(last, page)) {
  }
}

PagePtr PageSource::Next() {
  State& s = *state_;
  if (s.next_direct < s.direct_images.size()) {
    auto page = std::make_shared<PageWork>();
    page->seq = s.next_seq++;
    page->is_direct = true;
    const size_t end = std::min(s.direct_images.size(), s.next_direct + kDirectSlice);
    page->direct.assign(std::make_move_iterator(s.direct_images.begin() + s.next_direct),
                        std::make_move_iterator(s.direct_images.begin() + end));
    s.next_direct = end;
    return page;
  }
  // Pages past a keyword's known end are not requested at all.
  while (s.next_task < s.tasks.size() &&
         !paging_->Wanted(s.tasks[s.next_task].keyword_index, s.tasks[s.next_task].page)) {
    ++s.next_task;
  }
  if (s.next_task >= s.tasks.size()) return nullptr;
  const PageTask& task = s.tasks[s.next_task++];
  auto page = std::make_shared<PageWork>();
  page->seq = s.next_seq++;
  page->keyword_index = task.keyword_index;
  page->page_number = task.page;
  auto url = ingest::ExpandSearchUrl(task.source->url_template, task.keyword, task.page,
                                     task.source->page_size);
  page->url = url.ok() ? *url : task.source->url_template;  // checked in ListPageTasks
  page->label = task.label;
  page->keyword = task.keyword;
  page->source_name = task.source->name;
  page->extractor = task.extractor;
  return page;
}

void PageExtractor::Extract(const PageWork& page, std::vector<ImagePtr>& out) {
  auto state = std::make_shared<PageState>();
  if (page.is_direct) {
    state->is_direct = true;
    state->remaining = state->undispatched = static_cast<int>(page.direct.size());
    for (const ImagePtr& image : page.direct) {
      image->page = state;
      out.push_back(image);
    }
    return;
  }
  state->url = page.url;
  state->http_status = page.fetch.http_status;
  state->already_read = page.already_read;
  std::vector<std::string> urls;
  if (!paging_->Wanted(page.keyword_index, page.page_number)) {
    // Fetched before the keyword's end was known: not read, not marked; only its slot is freed.
    ++state_->pages_past_end;
    state->already_read = false;
  } else if (page.already_read) {
    // Nothing to do; the marker below only releases the page's limiter slot.
  } else if (!page.fetch.ok()) {
    state->error = page.fetch.status;
  } else {
    auto found = page.extractor->Extract(
        page.fetch.body, page.fetch.final_url.empty() ? page.url : page.fetch.final_url);
    if (found.ok()) {
      urls = std::move(found).value();
      state->mark_read = true;
      // Paging stops at the first page that lists nothing its keyword's earlier pages did not
      // (an empty page, or a site that repeats its last page for any page number).
      auto& seen = state_->seen_per_keyword[page.keyword_index];
      bool any_new = false;
      for (const std::string& url : urls) {
        any_new |= seen.insert(std::hash<std::string_view>{}(url)).second;
      }
      if (!any_new) paging_->EndAt(page.keyword_index, page.page_number);
    } else {
      state->error = found.status();
    }
  }
  state->remaining = state->undispatched = urls.empty() ? 1 : static_cast<int>(urls.size());
  if (urls.empty()) {
    auto marker = std::make_shared<ImageWork>();
    marker->page_marker = true;
    marker->page = state;
    out.push_back(std::move(marker));
    return;
  }
  for (std::string& url : urls) {
    auto image = std::make_shared<ImageWork>();
    image->url = std::move(url);
    image->label = page.label;
    image->keyword = page.keyword;
    image->source_name = page.source_name;
    image->page_url = page.url;
    image->page = state;
    out.push_back(std::move(image));
  }
}

void PageExtractor::operator()(const PagePtr& page, Ports& ports) {
  std::vector<PagePtr> ready;
  const auto now = ReorderWindow<PagePtr>::Clock::now();
  if (page) {
    state_->window.Add(page->seq, page, now, ready);
  } else {
    state_->window.Expire(now, ready);
  }
  std::vector<ImagePtr> images;
  for (const PagePtr& next : ready) {
    images.clear();
    Extract(*next, images);
    // The body is parsed: free it now, not when the last holder of the page lets go.
    std::string().swap(next->fetch.body);
    for (ImagePtr& image : images) std::get<0>(ports).try_put(std::move(image));
  }
}

}  // namespace memes::pipelines::crawl
