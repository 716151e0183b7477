// DecodeToFrames: limits, sniffing, dispatch to a decoder, frame picking, hashing.
#include <chrono>
#include <climits>
#include <exception>
#include <string>

#include "transform/decoders.h"
#include "transform/frame_pick.h"
#include "transform/frames.h"
#include "transform/phash.h"
#include "transform/signature.h"
#include "transform/sniff.h"

namespace memes::transform {
namespace {

Status CheckOptions(const DecodeOptions& options) {
  if (options.size < 1 || options.size > 4096) {
    return InvalidArgument("frame size " + std::to_string(options.size) + " not in 1..4096");
  }
  if (options.max_frames < 1) return InvalidArgument("max_frames must be at least 1");
  if (options.max_decoded_frames < 1) return InvalidArgument("max_decoded_frames must be >= 1");
  if (options.time_budget_ms < 1) return InvalidArgument("time_budget_ms must be >= 1");
  return Status::Ok();
}

Status CheckCanvas(int width, int height, const DecodeOptions& options) {
  if (uint64_t(width) * uint64_t(height) > options.max_canvas_pixels) {
    return LimitExceeded("canvas " + std::to_string(width) + "x" + std::to_string(height) +
                         " exceeds limit");
  }
  return Status::Ok();
}

Status RunDecoder(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                  Decoded& decoded) {
  switch (sniffed.container) {
    case Container::kGif:
    case Container::kPng:  // FFmpeg rather than OpenCV, which prints to stderr on bad input
    case Container::kBmp:
    case Container::kApng:
    case Container::kMp4:
    case Container::kWebm:
      return DecodeWithFfmpeg(bytes, sniffed, sink, &decoded.width, &decoded.height);
    case Container::kWebp:
      return DecodeWebp(bytes, sink);
    case Container::kJpeg:
      return DecodeJpeg(bytes, sniffed, sink, &decoded.width, &decoded.height);
  }
  return Internal("no decoder for " + sniffed.format);
}

// Frame indices PickSpread chooses over a decode without full-size frames; empty when every
// frame is kept anyway. Errors of the decoder are left for the second pass to report.
Result<std::vector<int>> PlanByFirstPass(std::span<const uint8_t> bytes, const Sniffed& sniffed,
                                         const DecodeOptions& options,
                                         std::chrono::steady_clock::time_point deadline) {
  DecodeOptions times_only = options;
  times_only.keep_full_size = false;
  FrameSink first(times_only, deadline);
  Decoded scratch;
  try {
    (void)RunDecoder(bytes, sniffed, first, scratch);
  } catch (const std::exception& error) {
    return Internal(std::string("decoder threw: ") + error.what());
  }
  if (first.count() <= options.max_frames) return std::vector<int>{};
  std::vector<double> start_times;
  for (const auto& entry : first.entries()) start_times.push_back(entry.time_seconds);
  return PickSpread(start_times, first.end_seconds(), options.max_frames);
}

Result<Decoded> Decode(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  MEMES_RETURN_IF_ERROR(CheckOptions(options));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.time_budget_ms);
  if (bytes.size() > options.max_file_bytes || bytes.size() > size_t{INT_MAX}) {
    return LimitExceeded("file of " + std::to_string(bytes.size()) + " bytes exceeds limit of " +
                         std::to_string(options.max_file_bytes));
  }
  MEMES_ASSIGN_OR_RETURN(const Sniffed sniffed, Sniff(bytes));
  Decoded decoded;
  decoded.format = sniffed.format;
  decoded.width = sniffed.width;
  decoded.height = sniffed.height;
  // Invariant: the canvas is checked from the header before any decoder allocates for it.
  MEMES_RETURN_IF_ERROR(CheckCanvas(sniffed.width, sniffed.height, options));
  const bool size_from_header =
      sniffed.container != Container::kMp4 && sniffed.container != Container::kWebm;
  if (size_from_header && (sniffed.width == 0 || sniffed.height == 0)) {
    return Corrupt("zero-size canvas " + std::to_string(sniffed.width) + "x" +
                   std::to_string(sniffed.height));
  }

  FrameSink sink(options, deadline);
  GifLayout gif_layout;
  if (sniffed.container == Container::kGif) {
    // The block structure gives every frame's time before decoding, so only the frames that
    // will be kept need compositing and fitting (FFmpeg still decodes them all: GIF frames
    // build on each other).
    gif_layout = ScanGif(bytes);
    if (gif_layout.images > options.max_frames) {
      sink.Plan(PickSpread(gif_layout.start_seconds, gif_layout.end_seconds, options.max_frames));
    }
  } else if (options.keep_full_size &&
             (sniffed.container == Container::kApng || sniffed.container == Container::kWebp ||
              sniffed.container == Container::kMp4 || sniffed.container == Container::kWebm)) {
    // Every frame of a long clip at full size would not fit in memory, and the frames to keep
    // are known only at the end: a first pass learns the frame times (fitting only), the
    // second keeps just the picked frames at full size. Only for `inspect --out`.
    MEMES_ASSIGN_OR_RETURN(const std::vector<int> wanted,
                           PlanByFirstPass(bytes, sniffed, options, deadline));
    if (!wanted.empty()) sink.Plan(wanted);
  }
  Status status;
  try {
    status = RunDecoder(bytes, sniffed, sink, decoded);
  } catch (const std::exception& error) {  // OpenCV throws; nothing may escape
    status = Internal(std::string("decoder threw: ") + error.what());
  }
  if (sniffed.container == Container::kWebp) {
    decoded.width = sniffed.width;
    decoded.height = sniffed.height;
  }
  if (sniffed.container == Container::kGif) {
    // FFmpeg stops quietly at the end of a truncated GIF; its block structure tells.
    const GifLayout& layout = gif_layout;
    if (layout.truncated) {
      // Invariant: only whole images are kept; FFmpeg may have shown the cut one half drawn.
      sink.KeepFirst(layout.images);
      if (status.ok() || status.code() == StatusCode::kCorrupt) {
        status = Corrupt("truncated GIF after frame " + std::to_string(sink.count()));
      }
    }
  }
  decoded.frames_in_file = sink.count();
  if (!status.ok()) {
    if (sink.count() == 0) return status;
    decoded.partial = true;
    decoded.partial_reason = status.message();
  }
  if (sink.count() == 0) return Corrupt(sniffed.format + " without any frame");
  decoded.duration_seconds = sink.end_seconds();

  std::vector<int> picked;
  if (sink.planned()) {
    for (int i = 0; i < sink.count(); ++i) {
      if (!sink.entries()[i].planar.empty()) picked.push_back(i);
    }
  } else {
    std::vector<double> start_times;
    for (const auto& entry : sink.entries()) start_times.push_back(entry.time_seconds);
    picked = PickSpread(start_times, decoded.duration_seconds, options.max_frames);
  }
  for (const int index : picked) {
    FrameSink::Entry& entry = sink.entries()[index];
    if (options.drop_near_duplicates && !decoded.frames.empty() &&
        NearIdentical(decoded.frames.back().planar, entry.planar)) {
      continue;
    }
    Frame frame;
    frame.index = index;
    frame.time_seconds = entry.time_seconds;
    const ContentWindow window = FindContentWindow(entry.planar, options.size, options.background);
    frame.orientation_hashes = ContentHashes(entry.planar, options.size, window);
    frame.phash = frame.orientation_hashes[0];
    frame.orientation_thumbs = ContentThumbsOf(entry.planar, options.size, window);
    frame.second_hashes = BandHashes(entry.planar, options.size);
    frame.second_thumbs = BandThumbsOf(entry.planar, options.size);
    frame.planar = std::move(entry.planar);
    if (options.keep_full_size) {
      const cv::Mat& full = entry.full_rgb;
      frame.full_width = full.cols;
      frame.full_height = full.rows;
      frame.full_rgb.resize(full.total() * 3);
      for (int y = 0; y < full.rows; ++y) {
        std::copy_n(full.ptr<uint8_t>(y), size_t(full.cols) * 3,
                    frame.full_rgb.data() + size_t(y) * full.cols * 3);
      }
    }
    decoded.frames.push_back(std::move(frame));
  }
  return decoded;
}

}  // namespace

Result<Decoded> DecodeToFrames(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  try {
    return Decode(bytes, options);
  } catch (const std::exception& error) {  // e.g. std::bad_alloc; never let one escape
    return Internal(std::string("decode failed: ") + error.what());
  }
}

Result<std::string> SniffFormat(std::span<const uint8_t> bytes) {
  MEMES_ASSIGN_OR_RETURN(const Sniffed sniffed, Sniff(bytes));
  return sniffed.format;
}

}  // namespace memes::transform
