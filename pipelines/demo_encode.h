// Encoders for the demo site's files: PNG (with alpha), JPEG, animated GIF (FFmpeg's GIF
// encoder and muxer) and animated WebP (libwebp's WebPAnimEncoder). Files are encoded to memory.
// Thread-safety: independent calls may run in parallel.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace memes::pipelines::demo {

// Requires: BGRA (CV_8UC4) images, all frames of one call the same size.
Result<std::string> EncodePng(const cv::Mat& bgra);
// Alpha is composited onto white first.
Result<std::string> EncodeJpeg(const cv::Mat& bgra, int quality);
// `delay_ms` per frame; loops forever. Alpha is composited onto white (GIF has 1-bit alpha only).
Result<std::string> EncodeGif(const std::vector<cv::Mat>& bgra_frames, int delay_ms);
// Lossy, `quality` 0–100, keeps alpha.
Result<std::string> EncodeAnimatedWebp(const std::vector<cv::Mat>& bgra_frames, int delay_ms,
                                       int quality = 80);

// BGRA → BGR on a white background.
cv::Mat OnWhite(const cv::Mat& bgra);

}  // namespace memes::pipelines::demo
