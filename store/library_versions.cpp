#include "store/library_versions.h"

#include <sqlite3.h>

namespace memes::store {
std::vector<LibraryVersion> LibraryVersions() { return {{"SQLite", sqlite3_libversion()}}; }
}  // namespace memes::store
