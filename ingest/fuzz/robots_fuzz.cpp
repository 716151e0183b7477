// libFuzzer target over robots.txt parsing and matching (ingest/robots.h). The input is a
// robots.txt; the paths asked about come from its own lines, so matching sees patterns and
// paths the fuzzer controls. Besides "no crash, no sanitizer report" it checks that
// normalisation is idempotent and that /robots.txt is always allowed.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/robots.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memes::ingest;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const RobotsRules rules = RobotsRules::Parse(text, size % 2 ? "memes" : "");
  if (!rules.Allowed("/robots.txt")) std::abort();
  size_t start = 0;
  for (int asked = 0; asked < 16 && start < text.size(); ++asked) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const std::string path = "/" + std::string(line.substr(0, 256));
    (void)rules.Allowed(path);
    const std::string once = NormalizeRobotsPath(path);
    if (NormalizeRobotsPath(once) != once) std::abort();
    if (rules.Allowed(path) != rules.Allowed(once)) std::abort();
  }
  return 0;
}
