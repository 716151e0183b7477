// Alpha compositing and fitting a canvas into a size×size planar frame (pad, crop, stretch).
// Thread-safe: pure functions over caller-owned buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "transform/frames.h"

namespace memes::transform {

// Byte order of a decoder's pixels. Four-channel orders carry straight (not premultiplied) alpha.
enum class PixelOrder { kRgba, kBgra, kRgb, kBgr, kGray };

int BytesPerPixel(PixelOrder order);

// Writes width×height interleaved RGB into `rgb` (CV_8UC3, reallocated if needed), compositing
// alpha onto `background`: out = (c*a + bg*(255-a)) / 255, so transparency never turns black.
// Requires: `pixels` holds height rows of `stride` bytes, each >= width*BytesPerPixel(order).
void CompositeToRgb(const uint8_t* pixels, int width, int height, size_t stride, PixelOrder order,
                    const uint8_t background[3], cv::Mat& rgb);

// Fits an RGB canvas (CV_8UC3, RGB order) into size×size and returns planar bytes:
// (H, W, 3) interleaved -> (3, size, size) planar, R plane first.
// Downscaling uses area interpolation; upscaling (tiny images) bilinear.
std::vector<uint8_t> FitToPlanar(const cv::Mat& rgb, int size, FitMode mode,
                                 const uint8_t background[3]);

}  // namespace memes::transform
