// The decoders behind DecodeToFrames, one per library. Each delivers full-size frames to a
// FrameSink and returns the first error met; frames delivered before it stay in the sink, and
// DecodeToFrames turns "error after some frames" into a partial result. Thread-safe: every call
// owns its library handles.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "transform/frame_sink.h"
#include "transform/sniff.h"

namespace memes::transform {

// GIF, PNG, APNG, BMP, MP4 and WebM through libavformat/libavcodec over an in-memory AVIOContext.
// Sets *width, *height to the stream's canvas (checked against the pixel limit before any
// frame is decoded).
Status DecodeWithFfmpeg(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                        int* width, int* height);

// WebP, still or animated, through libwebp's WebPAnimDecoder.
Status DecodeWebp(std::span<const uint8_t> bytes, FrameSink& sink);

// A JPEG with more scans than this is refused (limit as libjpeg-turbo's `djpeg -maxscans`
// suggests; ordinary progressive files have about ten).
inline constexpr int kMaxJpegScans = 500;

// Still JPEG through libjpeg(-turbo) (EXIF orientation applied, DCT-reduced when large). The
// sink's time budget and kMaxJpegScans are enforced inside the decode, after every row of
// every scan (libjpeg's progress monitor), so a progressive scan bomb stops within
// milliseconds of the budget.
Status DecodeJpeg(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                  int* width, int* height);

}  // namespace memes::transform
