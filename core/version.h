// The memes version and the "name version" pairs each module reports for `memes --version`.
#pragma once

#include <string>
#include <vector>

namespace memes {

inline constexpr const char* kMemesVersion = "0.1.0";

struct LibraryVersion {
  std::string name;     // "FFmpeg"
  std::string version;  // "5.1.6" — the runtime library's own answer where it gives one
};

}  // namespace memes
