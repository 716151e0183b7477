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
  {
    std::lock_guard lock(mutex_);
    if (!image->page_marker && !image->skip) Commit(*image);
    if (image->page) ClosePage(*image->page);
    if (progress_ && !image->page_marker) {
      progress_->Add();
      progress_->SetDetail("pages " + std::to_string(report_.pages_read) + " new " +
                           std::to_string(report_.items_new) + " failed " +
                           std::to_string(report_.failures()));
    }
  }
  if (on_commit_ && !image->page_marker && !image->skip) on_commit_(image->url);
  image->decoded.reset();
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
  std::vector<store::FrameRecord> frames;
  // Near-duplicate grouping probes founders with every kept frame in all eight orientations.
  std::vector<uint64_t> probes;
  if (decoded.ok()) {
    item.format = decoded->format;
    item.width = decoded->width;
    item.height = decoded->height;
    item.frame_count = decoded->frames_in_file;
    for (const transform::Frame& frame : decoded->frames) {
      frames.push_back({frame.index, static_cast<int64_t>(frame.time_seconds * 1000), frame.phash});
      // transform::Frame always carries all eight (orientation 0 is frame.phash).
      probes.insert(probes.end(), frame.orientation_hashes.begin(), frame.orientation_hashes.end());
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
  // Invariant: the blob and the frames file were made durable by store_and_decode, so the
  // catalog never names bytes that are not on disk; this is the catalog transaction alone.
  auto added = store_.catalog().AddItem(item, &source, frames, image.label, probes);
  if (!added.ok()) {
    // SQLite busy or full, a frames file that could not be written, a label refused: ours.
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
