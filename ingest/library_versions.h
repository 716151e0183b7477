// Versions of the libraries ingest/ is linked with (libcurl).
#pragma once

#include <vector>

#include "core/version.h"

namespace memes::ingest {
std::vector<LibraryVersion> LibraryVersions();
}
