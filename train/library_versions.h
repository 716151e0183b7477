// Version of the LibTorch train/ is built against, and whether it can see CUDA.
// This header is LibTorch-free on purpose: pipelines/ includes it.
#pragma once

#include <vector>

#include "core/version.h"

namespace memes::train {
std::vector<LibraryVersion> LibraryVersions();
}
