#include "ingest/curl_errors.h"

namespace memes::ingest {

TransferError ClassifyTransfer(CURLcode code, int http_status, const char* detail_text,
                               bool too_large, uint64_t limit, int max_redirects) {
  FetchError error = FetchError::kNone;
  std::string message;
  const std::string detail(detail_text);
  switch (code) {
    case CURLE_OK:
      if (http_status < 200 || http_status >= 300) {
        error = FetchError::kHttpStatus;
        message = "http " + std::to_string(http_status);
      }
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      error = FetchError::kBadUrl;
      message = "refused URL: " + detail;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      error = FetchError::kDns;
      message = "cannot resolve host: " + detail;
      break;
    case CURLE_COULDNT_CONNECT:
      error = FetchError::kConnect;
      message = "cannot connect: " + detail;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      error = FetchError::kTimeout;
      message = "timed out: " + detail;
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      error = FetchError::kReset;
      message = "connection reset: " + detail;
      break;
    case CURLE_PARTIAL_FILE:
      error = FetchError::kTruncated;
      message = "truncated body: " + detail;
      break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      error = FetchError::kTooLarge;
      message = "body larger than max_body_bytes (" + std::to_string(limit) + ")";
      if (code == CURLE_WRITE_ERROR && !too_large) {
        error = FetchError::kOther;
        message = detail;
      }
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      error = FetchError::kRedirectLoop;
      message = "more than " + std::to_string(max_redirects) + " redirects";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      error = FetchError::kTls;
      message = "TLS failure: " + detail;
      break;
    default:
      error = FetchError::kOther;
      message = detail;
      break;
  }
  return {error, std::move(message)};
}

}  // namespace memes::ingest
