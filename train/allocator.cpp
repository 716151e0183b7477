#include "train/allocator.h"

#include <sys/types.h>

#if MEMES_JEMALLOC
#include <jemalloc/jemalloc.h>  // Debian's build has no symbol prefix: mallctl, malloc_conf
#endif

#if MEMES_JEMALLOC
// Read by jemalloc at its first allocation, before main. Freed pages stay mapped (no decay), so
// the next step's activations reuse them without page faults.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
#endif

namespace memes::train {

#if MEMES_JEMALLOC
const char* const kJemallocSettings = malloc_conf;

bool JemallocLinked() { return true; }

std::optional<int64_t> JemallocOption(const char* name) {
  ssize_t value = 0;  // jemalloc's decay options are ssize_t
  size_t size = sizeof value;
  if (mallctl(name, &value, &size, nullptr, 0) != 0 || size != sizeof value) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::string AllocatorDescription() {
  const char* version = nullptr;
  size_t size = sizeof version;
  std::string text = "jemalloc ";
  text += mallctl("version", &version, &size, nullptr, 0) == 0 && version ? version : "?";
  const auto dirty = JemallocOption("opt.dirty_decay_ms");
  const auto muzzy = JemallocOption("opt.muzzy_decay_ms");
  text += " (dirty_decay_ms " + (dirty ? std::to_string(*dirty) : std::string("?")) +
          ", muzzy_decay_ms " + (muzzy ? std::to_string(*muzzy) : std::string("?")) + ")";
  return text;
}
#else
const char* const kJemallocSettings = "";

bool JemallocLinked() { return false; }

std::optional<int64_t> JemallocOption(const char*) { return std::nullopt; }

std::string AllocatorDescription() { return "glibc malloc (built with -DMEMES_JEMALLOC=OFF)"; }
#endif

}  // namespace memes::train
