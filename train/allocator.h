// The process's malloc: jemalloc with its page-returning decay switched off, when the build links
// it (CMake option MEMES_JEMALLOC, default ON). LibTorch-free. Thread-safe (reads only).
//
// Why: each training step allocates and frees activations of the whole batch (tens of MB at
// batch 1024). glibc's malloc hands such blocks back to the kernel on free and takes them again
// on the next step, so every step page-faults its activations anew (docs/benchmarks.md,
// "The allocator"). jemalloc with dirty_decay_ms and muzzy_decay_ms at -1 keeps freed pages
// mapped and reuses them. The settings are compiled in (jemalloc reads the program's
// `malloc_conf` symbol at its first allocation); MALLOC_CONF in the environment still overrides
// them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace memes::train {

// The settings compiled into the program for jemalloc (empty when it is not linked).
extern const char* const kJemallocSettings;

// True when this program's malloc is jemalloc (the build option was ON).
bool JemallocLinked();

// An integer-valued jemalloc option as in effect ("opt.dirty_decay_ms"); nullopt when jemalloc
// is not linked or has no such option.
std::optional<int64_t> JemallocOption(const char* name);

// One line for the log: "jemalloc 5.3.0 (dirty_decay_ms -1, muzzy_decay_ms -1)" or "glibc malloc".
std::string AllocatorDescription();

}  // namespace memes::train
