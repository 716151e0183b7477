// Versions of the libraries store/ is linked with (SQLite).
#pragma once

#include <vector>

#include "core/version.h"

namespace memes::store {
std::vector<LibraryVersion> LibraryVersions();
}
