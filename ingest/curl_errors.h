// How a finished libcurl transfer maps to the fetcher's FetchError and a message (internal to
// ingest/, separate so the mapping can be tested without a network).
// Thread-safety: a pure function.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "ingest/fetcher.h"

namespace memes::ingest {

struct TransferError {
  FetchError error = FetchError::kNone;
  std::string message;  // empty when error is kNone
};

// `code` and `http_status` of the last response; `detail` is libcurl's error buffer (or
// curl_easy_strerror); `too_large` is set when our write callback refused the body (a
// CURLE_WRITE_ERROR without it is some other write failure).
TransferError ClassifyTransfer(CURLcode code, int http_status, const char* detail, bool too_large,
                               uint64_t limit, int max_redirects);

}  // namespace memes::ingest
