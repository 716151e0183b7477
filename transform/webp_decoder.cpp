// WebP, still and animated, through libwebp's WebPAnimDecoder (FFmpeg 5.1 cannot decode
// animated WebP). The decoder composites frames onto its canvas itself.
#include <memory>
#include <string>
#include <vector>

#include <webp/demux.h>

#include "transform/decoders.h"
#include "transform/frame_pick.h"

namespace memes::transform {
namespace {

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const { WebPAnimDecoderDelete(decoder); }
};
using AnimDecoderPtr = std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter>;

}  // namespace

Status DecodeWebp(std::span<const uint8_t> bytes, FrameSink& sink) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) return Internal("libwebp version mismatch");
  options.color_mode = MODE_RGBA;  // straight alpha; the sink composites onto the background
  options.use_threads = 0;         // parallelism comes from decoding many files at once
  const WebPData data{bytes.data(), bytes.size()};
  AnimDecoderPtr decoder(WebPAnimDecoderNew(&data, &options));
  if (!decoder) return Corrupt("invalid or truncated WebP");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info)) return Corrupt("invalid WebP");
  if (info.canvas_width == 0 || info.canvas_height == 0) return Corrupt("zero-size canvas");
  if (uint64_t{info.canvas_width} * info.canvas_height > sink.options().max_canvas_pixels) {
    return LimitExceeded("canvas " + std::to_string(info.canvas_width) + "x" +
                         std::to_string(info.canvas_height) + " exceeds limit");
  }
  const int width = static_cast<int>(info.canvas_width);
  const int height = static_cast<int>(info.canvas_height);
  if (!sink.planned() && static_cast<int>(info.frame_count) > sink.options().max_frames) {
    // Frame durations are in the container: plan the kept frames before decoding, so only
    // they are composited and fitted (libwebp still decodes them all, each on the last).
    std::vector<double> start_seconds;  // from integer milliseconds, as the decode loop below
    int end_ms = 0;
    WebPIterator iterator;
    const WebPDemuxer* demuxer = WebPAnimDecoderGetDemuxer(decoder.get());
    for (uint32_t n = 1; n <= info.frame_count && WebPDemuxGetFrame(demuxer, int(n), &iterator);
         ++n) {
      start_seconds.push_back(end_ms / 1000.0);
      end_ms += iterator.duration;
      WebPDemuxReleaseIterator(&iterator);
    }
    if (!start_seconds.empty()) {
      sink.Plan(PickSpread(start_seconds, end_ms / 1000.0, sink.options().max_frames));
    }
  }
  int previous_end_ms = 0;
  while (WebPAnimDecoderHasMoreFrames(decoder.get())) {
    MEMES_RETURN_IF_ERROR(sink.CheckTime());
    uint8_t* canvas = nullptr;
    int end_ms = 0;  // libwebp's timestamp is when the frame stops showing
    if (!WebPAnimDecoderGetNext(decoder.get(), &canvas, &end_ms)) {
      return Corrupt("corrupt WebP after frame " + std::to_string(sink.count()));
    }
    MEMES_RETURN_IF_ERROR(sink.Add(canvas, width, height, size_t(width) * 4, PixelOrder::kRgba,
                                   previous_end_ms / 1000.0, (end_ms - previous_end_ms) / 1000.0));
    previous_end_ms = end_ms;
  }
  return Status::Ok();
}

}  // namespace memes::transform
