// The crawl graph's stages alone, without a graph: the reorder window, the page source and
// extractor with paging that stops, and store-and-decode's min_side refusal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "pipelines/crawl_images.h"
#include "pipelines/crawl_pages.h"
#include "pipelines/crawl_reorder.h"

namespace memes::pipelines::crawl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = ReorderWindow<int>::Clock;

TEST(ReorderWindow, ReleasesInOrderWhateverTheArrivalOrder) {
  ReorderWindow<int> window(1000ms, 100);
  std::vector<int> out;
  const auto t = Clock::now();
  window.Add(2, 2, t, out);
  window.Add(1, 1, t, out);
  EXPECT_TRUE(out.empty());
  window.Add(0, 0, t, out);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(window.held(), 0u);
  EXPECT_EQ(window.late(), 0u);
}

TEST(ReorderWindow, GivesUpOnAGapAfterTheDeadlineAndPassesTheLateOneAlone) {
  ReorderWindow<int> window(100ms, 100);
  std::vector<int> out;
  const auto t = Clock::now();
  window.Add(1, 1, t, out);
  window.Add(2, 2, t + 10ms, out);
  window.Expire(t + 99ms, out);
  EXPECT_TRUE(out.empty());
  window.Expire(t + 100ms, out);  // item 1 has waited the deadline for item 0
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  window.Add(4, 4, t + 150ms, out);  // a new gap (3) starts its own wait
  EXPECT_EQ(out.size(), 2u);
  window.Add(0, 0, t + 160ms, out);  // late: goes on at once
  EXPECT_EQ(out, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(window.late(), 1u);
  window.Add(3, 3, t + 170ms, out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 0, 3, 4}));
  EXPECT_EQ(window.held(), 0u);
}

TEST(ReorderWindow, NeverHoldsMoreThanItsBound) {
  ReorderWindow<int> window(1h, 3);
  std::vector<int> out;
  const auto t = Clock::now();
  for (int i = 1; i <= 3; ++i) window.Add(i, i, t, out);
  EXPECT_TRUE(out.empty());
  window.Add(4, 4, t, out);  // a fourth held item: give up on 0 now
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4}));
}

TEST(ReorderWindow, SeveralStallsCostOneDeadlineNotOneEach) {
  // Items 0 and 5 stall; the others arrive at once. Once item 1 has waited the deadline, the
  // window moves past both gaps in one go, since the items behind gap 5 waited as long.
  ReorderWindow<int> window(100ms, 100);
  std::vector<int> out;
  const auto t = Clock::now();
  for (int i : {1, 2, 3, 4, 6, 7}) window.Add(i, i, t, out);
  window.Expire(t + 100ms, out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 6, 7}));
}

// A search page whose extractor finds `html`'s <img> URLs.
PageWork SearchPage(const ingest::UrlExtractor& extractor, size_t keyword, int number,
                    const std::string& html) {
  PageWork page;
  page.url = "http://127.0.0.1:1/search?page=" + std::to_string(number);
  page.keyword_index = keyword;
  page.page_number = number;
  page.label = "cat";
  page.extractor = &extractor;
  page.fetch.body = html;
  page.fetch.http_status = 200;
  return page;
}

TEST(PageExtractor, PagingStopsAtTheFirstPageWithNothingNew) {
  auto extractor = ingest::UrlExtractor::Create("html");
  ASSERT_TRUE(extractor.ok());
  KeywordPaging paging(2);
  PageExtractor::State state(100ms, 8, 2);
  PageExtractor extract(state, paging);
  std::vector<ImagePtr> out;
  extract.Extract(SearchPage(*extractor, 0, 1, R"(<img src="/a.png"><img src="/b.png">)"), out);
  EXPECT_EQ(out.size(), 2u);
  // Page 2 repeats page 1 (a site that serves its last page for any number): the end.
  extract.Extract(SearchPage(*extractor, 0, 2, R"(<img src="/b.png">)"), out);
  EXPECT_FALSE(paging.Wanted(0, 3));
  EXPECT_TRUE(paging.Wanted(0, 2));
  EXPECT_TRUE(paging.Wanted(1, 30));  // other keywords go on
  // A page fetched before the end was known is dropped unread, as a marker that frees its slot.
  out.clear();
  extract.Extract(SearchPage(*extractor, 0, 3, R"(<img src="/c.png">)"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0]->page_marker);
  EXPECT_FALSE(out[0]->page->mark_read);
  EXPECT_EQ(state.pages_past_end, 1);
  // An empty page ends its keyword too.
  extract.Extract(SearchPage(*extractor, 1, 1, "<html></html>"), out);
  EXPECT_FALSE(paging.Wanted(1, 2));
}

TEST(PageSource, SkipsPagesPastTheEndAndNumbersWhatItEmits) {
  Source source;
  source.url_template = "http://127.0.0.1:1/s?q={keyword}&page={page}";
  PageSource::State state;
  for (int page = 1; page <= 5; ++page)
    state.tasks.push_back({&source, nullptr, "cat", "k", page, 0});
  state.tasks.push_back({&source, nullptr, "dog", "d", 1, 1});
  KeywordPaging paging(2);
  PageSource pages(state, paging);
  EXPECT_EQ(pages.Next()->page_number, 1);
  paging.EndAt(0, 2);
  EXPECT_EQ(pages.Next()->page_number, 2);
  PagePtr next = pages.Next();  // pages 3..5 of keyword 0 are skipped
  ASSERT_TRUE(next);
  EXPECT_EQ(next->keyword, "d");
  EXPECT_EQ(next->seq, 2u);
  EXPECT_FALSE(pages.Next());
}

TEST(StoreAndDecode, RefusesPicturesBelowMinSideWithoutStoringThem) {
  const fs::path dir = fs::temp_directory_path() / ("memes_stages_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = store::Store::Open(dir);
  ASSERT_TRUE(store.ok());
  transform::DecodeOptions options;
  StoreAndDecode stage(**store, options, 16);
  auto png = [](int width, int height) {
    std::vector<uint8_t> bytes;
    cv::imencode(".png", cv::Mat(height, width, CV_8UC3, cv::Scalar(10, 200, 30)), bytes);
    return std::string(bytes.begin(), bytes.end());
  };
  ImageWork pixel;
  pixel.url = "http://127.0.0.1:1/pixel.png";
  pixel.fetch.body = png(1, 1);
  stage.Process(pixel);
  EXPECT_EQ(pixel.refused, "too-small");
  EXPECT_TRUE(pixel.blob.empty());
  EXPECT_TRUE(pixel.fetch.body.empty());  // freed
  ImageWork spacer;
  spacer.fetch.body = png(300, 15);
  stage.Process(spacer);
  EXPECT_EQ(spacer.refused, "too-small");
  ImageWork sticker;
  sticker.fetch.body = png(16, 16);
  stage.Process(sticker);
  EXPECT_TRUE(sticker.refused.empty());
  EXPECT_TRUE((*store)->HasBlob(sticker.blob));
  EXPECT_TRUE(sticker.decoded && sticker.decoded->ok());
  // A full disk is a stage error (retried by a rerun), not a refusal.
  store::FailBlobWritesForTesting(1, ENOSPC);
  ImageWork full;
  full.fetch.body = png(20, 20);
  stage.Process(full);
  store::FailBlobWritesForTesting(0, 0);
  EXPECT_TRUE(full.refused.empty());
  EXPECT_EQ(full.stage_error.code(), StatusCode::kIoError);
  EXPECT_NE(full.stage_error.ToString().find("No space left"), std::string::npos)
      << full.stage_error.ToString();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::pipelines::crawl
