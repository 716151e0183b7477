// The crawl graph's serial commit stage: one catalog transaction per image, failures recorded
// with their kind, and the bookkeeping that closes pages and feeds the report.
//
// What a rerun sees: a URL whose failure was remote and final (404, too large, robots, refused
// as too small…) is recorded as final and never fetched again; a failure that was the
// network's (timeout, reset, 5xx) or ours (disk full, permission, SQLite busy or full, a label
// the catalog refused, a decode out of time under load) leaves its page unread, so the next run
// reads the page again and retries exactly those images.
// Internal to pipelines/crawl*. Thread-safety: the body of one serial node; takes the crawl's
// catalog mutex for every catalog call.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "core/progress.h"
#include "pipelines/crawl.h"
#include "pipelines/crawl_work.h"
#include "store/store.h"

namespace memes::pipelines::crawl {

class Committer {
 public:
  Committer(store::Store& store, std::mutex& catalog_mutex, CrawlReport& report,
            ProgressBar* progress, std::function<void(const std::string&)> on_commit = {})
      : store_(store),
        mutex_(catalog_mutex),
        report_(report),
        progress_(progress),
        on_commit_(std::move(on_commit)) {}

  void operator()(const ImagePtr& image);

 private:
  // Records a failure of `url`; a final one is never fetched again, any other leaves the page
  // unread (when `page` is given) so that a rerun retries it.
  void Record(const ImageWork& image, const std::string& stage, const std::string& kind,
              const std::string& message, bool final);
  void Commit(ImageWork& image);
  // Counts the image off its page; the page's last one records the page (read, failed…).
  void ClosePage(PageState& page);

  store::Store& store_;
  std::mutex& mutex_;
  CrawlReport& report_;
  ProgressBar* progress_;
  std::function<void(const std::string&)> on_commit_;
};

// Is this decode failure ours (the time budget ran out, e.g. under load) rather than the file's?
bool IsLocalDecodeFailure(const Status& status);

}  // namespace memes::pipelines::crawl
