// Versions of the decoding libraries transform/ is linked with (FFmpeg, libwebp, OpenCV).
#pragma once

#include <vector>

#include "core/version.h"

namespace memes::transform {
std::vector<LibraryVersion> LibraryVersions();
}
