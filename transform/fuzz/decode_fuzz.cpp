// libFuzzer target over the whole decode entry point, DecodeToFrames. Build with
// -DMEMES_FUZZ=ON and clang (scripts/fuzz.sh); the seed corpus is transform/fuzz/corpus/.
// Besides "no crash, no sanitizer report", it checks the result's invariants.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "transform/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memes::transform;
  DecodeOptions options;
  options.max_canvas_pixels = 4'000'000;  // keeps each run small; the check itself is tested
  options.max_decoded_frames = 64;
  options.time_budget_ms = 1000;
  options.keep_full_size = size % 2 == 1;  // both paths, chosen by the input
  const memes::Result<Decoded> decoded = DecodeToFrames(std::span(data, size), options);
  if (!decoded.ok()) {
    if (decoded.status().message().empty()) std::abort();
    return 0;
  }
  if (decoded->frames.empty() || decoded->partial == decoded->partial_reason.empty()) std::abort();
  for (const Frame& frame : decoded->frames) {
    if (frame.planar.size() != 3u * 32 * 32) std::abort();
    if (RotatePlanar(RotatePlanar(frame.planar, 32, 1), 32, 3) != frame.planar) std::abort();
    if (options.keep_full_size &&
        frame.full_rgb.size() != size_t(frame.full_width) * frame.full_height * 3) {
      std::abort();
    }
  }
  return 0;
}
