// A picture turned to one of the eight orientations of phash.h, for code that holds OpenCV
// matrices (the signatures here, the dedupe bench). Thread-safe: a pure function.
#pragma once

#include <opencv2/core.hpp>

namespace memes::transform {

// `picture` (any type) in orientation k: k quarter turns counter-clockwise, 4..7 mirrored
// left-right first. Always a fresh matrix: cv::flip and cv::rotate into one that shares the
// input's pixels work in place and would change the caller's picture.
// Requires: 0 <= k < kOrientations.
cv::Mat Oriented(const cv::Mat& picture, int k);

}  // namespace memes::transform
