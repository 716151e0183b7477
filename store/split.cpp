#include "store/split.h"

#include <string>

#include "core/sha256.h"

namespace memes::store {

double SplitPoint(std::string_view group_key, uint64_t seed) {
  const std::string text = std::string(group_key) + ":" + std::to_string(seed);
  const Digest digest = Sha256Of(std::string_view(text));
  uint64_t head = 0;
  for (int i = 0; i < 8; ++i) head = head << 8 | digest[i];
  return static_cast<double>(head) * 0x1p-64;
}

Split SplitOf(std::string_view group_key, uint64_t seed, double test_fraction) {
  return SplitPoint(group_key, seed) < test_fraction ? Split::kTest : Split::kTrain;
}

}  // namespace memes::store
