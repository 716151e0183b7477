// Choosing which decoded frames of an animation become dataset frames. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace memes::transform {

// Indices of at most `max_frames` frames spread evenly over the animation: for k in
// 0..max_frames-1 the frame on screen at time duration*k/max_frames (by index when the
// duration is 0, e.g. a GIF without delays). Ascending, distinct, starts with 0.
// Requires: start_times ascending, max_frames >= 1.
std::vector<int> PickSpread(std::span<const double> start_times, double duration, int max_frames);

// True when two fitted planar frames look the same: mean absolute difference <= 2 levels.
// Requires: a.size() == b.size().
bool NearIdentical(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace memes::transform
