// RAII owners for libcurl's handles (CURL*, CURLM*, curl_slist*, CURLU*), so that no error path
// of ingest/ leaks one. Thread-safety: an owner is used by one thread at a time, as libcurl asks.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace memes::ingest {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlUrlDeleter {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
// A string libcurl allocated (curl_url_get, curl_easy_escape).
struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// Calls curl_global_init once per process (thread-safe; later calls do nothing).
void EnsureCurlGlobalInit();

}  // namespace memes::ingest
