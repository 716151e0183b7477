#include "transform/frame_pick.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>

namespace memes::transform {

std::vector<int> PickSpread(std::span<const double> start_times, double duration, int max_frames) {
  assert(max_frames >= 1);
  const int count = static_cast<int>(start_times.size());
  std::vector<int> picked;
  if (count <= max_frames) {
    for (int i = 0; i < count; ++i) picked.push_back(i);
    return picked;
  }
  const bool timed = duration > 0 && start_times.back() > start_times.front();
  for (int k = 0; k < max_frames; ++k) {
    int index;
    if (timed) {
      // A nanosecond of slack: 0.1 + 0.1 + 0.1 must count as reaching 0.3.
      const double target = start_times.front() + duration * k / max_frames + 1e-9;
      // The last frame that started at or before the target is the one on screen.
      const auto it = std::upper_bound(start_times.begin(), start_times.end(), target);
      index = std::max(0, static_cast<int>(it - start_times.begin()) - 1);
    } else {
      index = static_cast<int>(static_cast<int64_t>(k) * count / max_frames);
    }
    if (picked.empty() || picked.back() != index) picked.push_back(index);
  }
  return picked;
}

bool NearIdentical(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  assert(a.size() == b.size());
  if (a.empty()) return true;
  uint64_t total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += std::abs(int{a[i]} - int{b[i]});
  return total <= 2 * a.size();
}

}  // namespace memes::transform
