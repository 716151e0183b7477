// The crawl graph's serial commit stage: images are committed in batches, one catalog
// transaction per batch (a batch closes at CommitBatching::max_items images, when its first
// image has waited CommitBatching::max_wait, or at the end of the crawl), failures recorded
// with their kind, and the bookkeeping that closes pages and feeds the report.
//
// Invariant: a batch's frames are durable before the COMMIT that names them (Store::CommitBatch
// syncs them first), blobs were made durable by store_and_decode, and a page is marked read in
// the transaction of its last image. So a batch that fails (the disk or the catalog full, a
// kill) loses nothing: none of its rows exist and its pages stay unread for the rerun.
//
// What a rerun sees: a URL whose failure was remote and final (404, too large, robots, refused
// as too small…) is recorded as final and never fetched again; a failure that was the
// network's (timeout, reset, 5xx) or ours (disk full, permission, SQLite busy or full, a label
// the catalog refused, a decode out of time under load) leaves its page unread, so the next run
// reads the page again and retries exactly those images.
// Internal to pipelines/crawl*. Thread-safety: the body of one serial node; takes the crawl's
// catalog mutex for every catalog call.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/progress.h"
#include "pipelines/crawl.h"
#include "pipelines/crawl_work.h"
#include "store/store.h"

namespace memes::pipelines::crawl {

// When a batch of commits closes. One COMMIT is one WAL fsync (and one frames-segment fsync):
// 64 images amortise it to well under a millisecond each; 50 ms keeps a slow trickle of images
// (a stalled site) from waiting long for its rows.
struct CommitBatching {
  size_t max_items = 64;
  std::chrono::milliseconds max_wait{50};
};

class Committer {
 public:
  using Clock = std::chrono::steady_clock;
  Committer(store::Store& store, std::mutex& catalog_mutex, CrawlReport& report,
            ProgressBar* progress, std::function<void(const std::string&)> on_commit = {},
            CommitBatching batching = {})
      : store_(store),
        mutex_(catalog_mutex),
        report_(report),
        progress_(progress),
        on_commit_(std::move(on_commit)),
        batching_(batching) {}

  // Adds the image (or page marker) to the open batch; commits the batch when it is full or
  // its first image has waited max_wait.
  void operator()(const ImagePtr& image);
  // Commits the open batch if its first image has waited max_wait (a timer calls this, so a
  // batch closes on time when no further image arrives). Any thread.
  void FlushIfDue(Clock::time_point now = Clock::now());
  // Commits the open batch, whatever its size (end of input). Any thread.
  void Flush();

 private:
  // Requires: mutex_ held. Commits pending_ in one transaction; moves the URLs for on_commit_
  // into `committed` (called once the lock is released).
  void FlushLocked(std::vector<std::string>& committed);
  void CallOnCommit(const std::vector<std::string>& committed);

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
  CommitBatching batching_;
  std::vector<ImagePtr> pending_;  // the open batch, in commit order
  Clock::time_point batch_opened_;
};

// Is this decode failure ours (the time budget ran out, e.g. under load) rather than the file's?
bool IsLocalDecodeFailure(const Status& status);

}  // namespace memes::pipelines::crawl
