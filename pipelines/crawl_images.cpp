#include "pipelines/crawl_images.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

namespace memes::pipelines::crawl {

ImagePtr UrlDedupe::operator()(ImagePtr image) {
  image->seq = state_->next_image++;  // every message, markers too: the commit order needs all
  // Past the image limiter: the page no longer holds this image in the queue.
  if (image->page && --image->page->undispatched == 0) page_slot_freed_();
  if (image->page_marker) return image;
  std::lock_guard lock(*catalog_mutex_);
  ++report_->urls_found;
  if (!state_->seen_urls.insert(image->url).second) {
    image->skip = true;
  } else {
    auto state = store_->catalog().LookupUrl(image->url);
    // kFailed: an earlier run found it gone for good; retryable failures read as kUnknown.
    image->skip = state.ok() && *state != store::UrlState::kUnknown;
  }
  if (image->skip) ++report_->urls_skipped;
  return image;
}

void ImageFetch::operator()(const ImagePtr& image, Node::gateway_type& gateway) {
  if (image->page_marker || image->skip) {
    gateway.try_put(image);
    return;
  }
  if (!image->local_file.empty()) {
    ReadLocalImage(*image, max_file_bytes_);
    gateway.try_put(image);
    return;
  }
  gateway.reserve_wait();
  fetcher_->Submit(image->url, [image, &gateway](ingest::FetchResult result) {
    image->fetch = std::move(result);
    gateway.try_put(image);
    gateway.release_wait();
  });
}

void FetchOrder::operator()(const ImagePtr& image, Ports& ports) {
  std::vector<ImagePtr> ready;
  const auto now = ReorderWindow<ImagePtr>::Clock::now();
  if (image) {
    state_->window.Add(image->seq, image, now, ready);
  } else {
    state_->window.Expire(now, ready);
  }
  for (ImagePtr& next : ready) {
    next->order = state_->next_order++;
    std::get<0>(ports).try_put(std::move(next));
  }
}

void StoreAndDecode::Process(ImageWork& image) const {
  if (image.page_marker || image.skip || !image.fetch.ok()) return;
  const auto* data = reinterpret_cast<const uint8_t*>(image.fetch.body.data());
  const std::span<const uint8_t> bytes(data, image.fetch.body.size());
  image.body_bytes = bytes.size();
  image.decoded = transform::DecodeToFrames(bytes, *options_);
  if (!image.decoded->ok()) {
    image.decoded = Result<transform::Decoded>(image.decoded->status().At(image.url));
  } else if ((*image.decoded)->width < min_side_ || (*image.decoded)->height < min_side_) {
    // A tracking pixel or a spacer: refused before it reaches the store.
    image.refused = "too-small";
    image.stage_error = InvalidArgument(
        std::to_string((*image.decoded)->width) + "x" + std::to_string((*image.decoded)->height) +
            " is below [image] min_side = " + std::to_string(min_side_),
        image.url);
    image.decoded.reset();
  }
  if (image.refused.empty()) {
    auto blob = store_->PutBlob(bytes);
    if (blob.ok()) {
      image.blob = std::move(blob).value();
    } else {
      image.stage_error = blob.status();
      image.decoded.reset();
    }
  }
  // The blob is in the store (or refused): free the body before the commit order's wait.
  std::string().swap(image.fetch.body);
}

void StoreAndDecode::operator()(const ImagePtr& image, Node::output_ports_type& ports) const {
  Process(*image);
  std::get<0>(ports).try_put(image);
  std::get<1>(ports).try_put(tbb::flow::continue_msg());
}

}  // namespace memes::pipelines::crawl
