#include "ingest/library_versions.h"

#include <curl/curl.h>

namespace memes::ingest {
std::vector<LibraryVersion> LibraryVersions() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return {{"libcurl", info->version}};
}
}  // namespace memes::ingest
