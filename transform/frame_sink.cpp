#include "transform/frame_sink.h"

#include <algorithm>
#include <string>

namespace memes::transform {

Status FrameSink::CheckTime() const {
  if (!TimeUp()) return Status::Ok();
  return LimitExceeded("decode time budget of " + std::to_string(options_.time_budget_ms) +
                       " ms exceeded after frame " + std::to_string(count()));
}

void FrameSink::Plan(const std::vector<int>& wanted) {
  wanted_.assign(wanted.empty() ? 0 : wanted.back() + 1, false);
  for (const int index : wanted) wanted_[index] = true;
}

void FrameSink::KeepFirst(int frames) {
  if (frames >= count()) return;
  end_seconds_ = entries_[frames].time_seconds;
  entries_.resize(frames);
}

Status FrameSink::Add(const uint8_t* pixels, int width, int height, size_t stride, PixelOrder order,
                      double time_seconds, double duration_seconds) {
  if (count() >= options_.max_decoded_frames) {
    return LimitExceeded("stopped at the limit of " + std::to_string(options_.max_decoded_frames) +
                         " decoded frames");
  }
  MEMES_RETURN_IF_ERROR(CheckTime());
  Entry entry;
  entry.time_seconds = time_seconds;
  end_seconds_ = std::max(end_seconds_, time_seconds + std::max(0.0, duration_seconds));
  const size_t index = entries_.size();
  if (!wanted_.empty() && (index >= wanted_.size() || !wanted_[index])) {
    entries_.push_back(std::move(entry));  // timed only
    return Status::Ok();
  }
  cv::Mat& rgb = options_.keep_full_size ? entry.full_rgb : scratch_rgb_;
  CompositeToRgb(pixels, width, height, stride, order, options_.background, rgb);
  entry.planar = FitToPlanar(rgb, options_.size, options_.fit, options_.background);
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

}  // namespace memes::transform
