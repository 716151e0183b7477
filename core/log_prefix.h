// The word that starts every log line (core/log.h's LogLine): "memes: " unless changed, e.g.
// "memes[1/4]: " in rank 1 of a 4-process training job (train/distributed.cpp).
// Thread-safe; call before other threads log so that a job's lines agree.
#pragma once

#include <string>

namespace memes {

void SetLogPrefix(std::string prefix);

}  // namespace memes
