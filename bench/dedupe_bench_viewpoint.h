// dedupe_bench --viewpoint DIR: the imagededup anchor rebuilt as far as this machine allows.
// imagededup's benchmark measures on UKBench (groups of photos of one object from other
// viewpoints), which no registry here carries; OpenCV's example images (Debian's opencv-doc,
// examples/data) hold pairs of that kind: one scene from two viewpoints (graffiti, aerial),
// stereo pairs, two frames of a video, two renders, one scene under other light. Prints, per
// method, how many of those pairs it puts together and how many pairs of different scenes.
// Thread-safety: single-threaded bench code.
#pragma once

#include <filesystem>

#include "store/near_dup_index.h"

namespace memes::bench {

// `dir`: opencv-doc's examples/data; `rule`: the verified rule to measure beside the hashes.
// Returns false (with a message) when the pairs' files are not there.
bool ViewpointPairs(const std::filesystem::path& dir, const memes::store::MatchRule& rule);

}  // namespace memes::bench
