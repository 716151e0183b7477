#include "pipelines/crawl_commit.h"

#include <ctime>

#include "core/log.h"
#include "ingest/url.h"

namespace memes::pipelines::crawl {
namespace {

std::string HostOf(const std::string& url) {
  auto parts = ingest::ParseHttpUrl(url);
  return parts.ok() ? parts->origin : "local";
}

}  // namespace

bool IsLocalDecodeFailure(const Status& status) {
  // The decoder reports its time budget as a limit; the same file decodes in time on an idle
  // machine, so this is the machine's failure, not the file's.
  return status.code() == StatusCode::kLimitExceeded &&
         status.message().find("time budget") != std::string::npos;
}

void Committer::operator()(const ImagePtr& image) {
  std::vector<std::string> committed;
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) batch_opened_ = Clock::now();
    pending_.push_back(image);
    if (pending_.size() >= batching_.max_items ||
        Clock::now() - batch_opened_ >= batching_.max_wait) {
      FlushLocked(committed);
    }
  }
  CallOnCommit(committed);
}

void Committer::FlushIfDue(Clock::time_point now) {
  std::vector<std::string> committed;
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty() && now - batch_opened_ >= batching_.max_wait) FlushLocked(committed);
  }
  CallOnCommit(committed);
}

void Committer::Flush() {
  std::vector<std::string> committed;
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty()) FlushLocked(committed);
  }
  CallOnCommit(committed);
}

void Committer::CallOnCommit(const std::vector<std::string>& committed) {
  if (!on_commit_) return;
  for (const std::string& url : committed) on_commit_(url);
}

void Committer::FlushLocked(std::vector<std::string>& committed) {
  // The report is only changed for good once the batch is in the catalog: on failure it goes
  // back to this copy and every image of the batch is counted as a commit failure instead.
  const CrawlReport before = report_;
  const Status status = store_.CommitBatch([&]() -> Status {
    for (const ImagePtr& image : pending_) {
      if (!image->page_marker && !image->skip) Commit(*image);
      if (image->page) ClosePage(*image->page);
    }
    return Status::Ok();
  });
  if (!status.ok()) {
    report_ = before;
    MEMES_LOG(kError) << "catalog: a batch of " << pending_.size()
                      << " commits failed: " << status.ToString();
    for (const ImagePtr& image : pending_) {
      // The page's other images may still commit in a later batch; this one must be retried,
      // so the page stays unread (its MarkPageRead, if it was in this batch, rolled back).
      if (image->page) image->page->retry_later = true;
      if (image->page_marker || image->skip) continue;
      ++report_.images_failed;
      report_.AddFailure("commit", image->url, status.ToString());
    }
  }
  for (const ImagePtr& image : pending_) {
    if (image->page_marker) continue;
    if (progress_) progress_->Add();
    if (!image->skip) committed.push_back(image->url);
  }
  if (progress_) {
    progress_->SetDetail("pages " + std::to_string(report_.pages_read) + " new " +
                         std::to_string(report_.items_new) + " failed " +
                         std::to_string(report_.failures()));
  }
  for (const ImagePtr& image : pending_) image->decoded.reset();
  pending_.clear();
}

void Committer::Record(const ImageWork& image, const std::string& stage, const std::string& kind,
                       const std::string& message, bool final) {
  report_.AddFailure(kind, image.url, message);
  if (!final && image.page) image.page->retry_later = true;
  Status s = store_.catalog().RecordFailure(image.url, stage, kind, kind + ": " + message, final);
  if (!s.ok()) {
    // Not even the error could be written (disk or catalog full): the rerun must see it again.
    if (image.page) image.page->retry_later = true;
    MEMES_LOG(kError) << "catalog: " << s.ToString();
  }
}

void Committer::Commit(ImageWork& image) {
  if (!image.fetch.ok()) {
    ++report_.images_failed;
    const bool retry = ingest::IsRetryable(image.fetch.error, image.fetch.http_status);
    Record(image, "fetch", ingest::ErrorLabel(image.fetch), image.fetch.status.ToString(), !retry);
    return;
  }
  ++report_.images_fetched;
  report_.bytes += image.body_bytes;
  ++report_.fetched_per_host[HostOf(image.url)];
  if (!image.refused.empty()) {
    ++report_.items_refused;
    Record(image, "filter", image.refused, image.stage_error.ToString(), /*final=*/true);
    return;
  }
  if (!image.stage_error.ok()) {
    ++report_.images_failed;
    Record(image, "store", "store", image.stage_error.ToString(), /*final=*/false);
    return;
  }
  const Result<transform::Decoded>& decoded = *image.decoded;
  if (!decoded.ok() && IsLocalDecodeFailure(decoded.status())) {
    ++report_.images_failed;
    Record(image, "decode", "decode-time", decoded.status().ToString(), /*final=*/false);
    return;
  }
  store::ItemRecord item;
  item.blob = image.blob;
  item.bytes = image.body_bytes;
  std::vector<store::FrameData> frames;
  if (decoded.ok()) {
    item.format = decoded->format;
    item.width = decoded->width;
    item.height = decoded->height;
    item.frame_count = decoded->frames_in_file;
    for (const transform::Frame& frame : decoded->frames) {
      store::FrameData data;
      data.record = {
          frame.index, static_cast<int64_t>(frame.time_seconds * 1000), frame.phash, {}, {}, {}};
      data.pixels = frame.planar;
      // Near-duplicate grouping probes founders with every kept frame in all eight
      // orientations; transform::Frame always carries all eight (orientation 0 is frame.phash).
      data.orientation_hashes = frame.orientation_hashes;
      static_assert(transform::kThumbBytes == store::kThumbBytes);
      static_assert(sizeof(transform::ContentThumbs) ==
                    transform::kOrientations * store::kThumbBytes);
      data.record.thumb.assign(frame.orientation_thumbs[0].begin(),
                               frame.orientation_thumbs[0].end());
      data.orientation_thumbs = std::span<const uint8_t>(frame.orientation_thumbs[0].data(),
                                                         sizeof(transform::ContentThumbs));
      data.record.phash2 = frame.second_hashes[0];
      data.orientation_seconds = frame.second_hashes;
      data.record.thumb2.assign(frame.second_thumbs[0].begin(), frame.second_thumbs[0].end());
      data.orientation_second_thumbs =
          std::span<const uint8_t>(frame.second_thumbs[0].data(), sizeof(transform::ContentThumbs));
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
  // Invariant: the blob was made durable by store_and_decode; the frames record appended here
  // is synced by CommitBatch before the batch's COMMIT, so the catalog never names bytes that
  // are not on disk.
  auto added = store_.AddItem(item, &source, frames, image.label);
  if (!added.ok()) {
    // SQLite busy or full, a frames record that could not be written, a label refused: ours.
    ++report_.images_failed;
    Record(image, "commit", "commit", added.status().ToString(), /*final=*/false);
    return;
  }
  if (!decoded.ok()) {
    ++report_.items_unusable;
    report_.AddFailure("decode: " + std::string(StatusCodeName(decoded.status().code())), image.url,
                       decoded.status().ToString());
  } else if (added->new_item) {
    ++report_.items_new;
    ++report_.kept_per_class[image.label];
    if (!image.keyword.empty()) ++report_.kept_per_keyword[image.keyword];
  } else {
    ++report_.items_duplicate;
  }
}

void Committer::ClosePage(PageState& page) {
  if (--page.remaining > 0) return;
  if (!page.error.ok()) {
    ++report_.pages_failed;
    const std::string kind = "page: " + std::string(StatusCodeName(page.error.code()));
    report_.AddFailure(kind, page.url, page.error.ToString());
    // Not final: a failed page is left unread, so the next run asks for it again.
    if (Status s = store_.catalog().RecordFailure(page.url, "page", kind,
                                                  kind + ": " + page.error.ToString(),
                                                  /*final=*/false);
        !s.ok()) {
      MEMES_LOG(kError) << "catalog: " << s.ToString();
    }
  } else if (page.already_read) {
    ++report_.pages_skipped;
  } else if (page.mark_read) {
    ++report_.pages_read;
  }
  // A page with a failure worth retrying (the network's or ours) stays unread, so a rerun reads
  // it again and retries those images; the URLs already fetched or gone for good are skipped.
  if (page.mark_read && !page.retry_later) {
    if (Status s = store_.catalog().MarkPageRead(page.url, page.http_status); !s.ok()) {
      MEMES_LOG(kError) << "catalog: " << s.ToString();
    }
  }
}

}  // namespace memes::pipelines::crawl
