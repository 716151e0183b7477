// Where decoders deliver full-size frames: composites each onto the background, fits it to
// size×size and keeps it, enforcing the frame-count and time limits. One sink per decode call;
// not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/status.h"
#include "transform/fit.h"
#include "transform/frames.h"

namespace memes::transform {

class FrameSink {
 public:
  struct Entry {
    double time_seconds = 0;
    std::vector<uint8_t> planar;  // (3, size, size); empty for a frame left out by Plan()
    cv::Mat full_rgb;             // (H, W, 3) RGB; only with options.keep_full_size
  };

  FrameSink(const DecodeOptions& options, std::chrono::steady_clock::time_point deadline)
      : options_(options), deadline_(deadline) {}

  // Adds one composited canvas frame shown from `time_seconds` for `duration_seconds`.
  // Returns LimitExceeded, keeping nothing, when the frame limit or the time budget is spent:
  // the decoder must stop and return that status.
  // Requires: `pixels` holds height rows of `stride` bytes in `order`; width, height > 0.
  Status Add(const uint8_t* pixels, int width, int height, size_t stride, PixelOrder order,
             double time_seconds, double duration_seconds);

  // Only the frames at these indices (ascending) will be composited and fitted; the others are
  // counted and timed only. Used when the frame times are known before decoding (GIF).
  void Plan(const std::vector<int>& wanted);
  bool planned() const { return !wanted_.empty(); }

  // Drops every frame after the first `frames` (a damaged tail); the end time becomes the start
  // of the first frame dropped.
  void KeepFirst(int frames);

  // LimitExceeded once the time budget is spent (decoders poll it between packets).
  Status CheckTime() const;
  bool TimeUp() const { return std::chrono::steady_clock::now() >= deadline_; }

  const DecodeOptions& options() const { return options_; }
  std::vector<Entry>& entries() { return entries_; }
  int count() const { return static_cast<int>(entries_.size()); }
  double end_seconds() const { return end_seconds_; }  // end of the last frame added

 private:
  const DecodeOptions& options_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<Entry> entries_;
  std::vector<bool> wanted_;  // by frame index; empty: every frame
  cv::Mat scratch_rgb_;       // reused between frames when full-size frames are not kept
  double end_seconds_ = 0;
};

}  // namespace memes::transform
