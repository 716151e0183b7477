// Names and checks of the fetcher's value types (fetcher.h).
#include "ingest/fetcher.h"

namespace memes::ingest {

std::string_view FetchErrorName(FetchError error) {
  switch (error) {
    case FetchError::kNone:
      return "ok";
    case FetchError::kBadUrl:
      return "bad-url";
    case FetchError::kDns:
      return "dns";
    case FetchError::kConnect:
      return "connect";
    case FetchError::kTimeout:
      return "timeout";
    case FetchError::kReset:
      return "reset";
    case FetchError::kTruncated:
      return "truncated";
    case FetchError::kTooLarge:
      return "too-large";
    case FetchError::kRedirectLoop:
      return "redirect-loop";
    case FetchError::kHttpStatus:
      return "http";
    case FetchError::kTls:
      return "tls";
    case FetchError::kRobotsForbidden:
      return "robots-forbidden";
    case FetchError::kPrivateAddress:
      return "private-address";
    case FetchError::kCancelled:
      return "cancelled";
    case FetchError::kOther:
      return "other";
  }
  return "other";
}

bool IsRetryable(FetchError error, int http_status) {
  switch (error) {
    case FetchError::kConnect:
    case FetchError::kTimeout:
    case FetchError::kReset:
    case FetchError::kTruncated:
    case FetchError::kCancelled:
      return true;
    case FetchError::kHttpStatus:
      return http_status >= 500 || http_status == 429;
    default:
      return false;
  }
}

std::string ErrorLabel(const FetchResult& result) {
  if (result.ok()) return "ok";
  if (result.error == FetchError::kHttpStatus) return "http-" + std::to_string(result.http_status);
  return std::string(FetchErrorName(result.error));
}

Status CheckFetchSettings(const FetchSettings& s) {
  auto positive = [](int64_t value, const char* name) -> Status {
    if (value <= 0) return InvalidArgument(std::string(name) + " must be > 0");
    return Status();
  };
  MEMES_RETURN_IF_ERROR(positive(s.max_transfers, "max_transfers"));
  MEMES_RETURN_IF_ERROR(positive(s.per_host_transfers, "per_host_transfers"));
  MEMES_RETURN_IF_ERROR(positive(s.per_host_burst, "per_host_burst"));
  MEMES_RETURN_IF_ERROR(positive(s.connect_timeout_ms, "connect_timeout_ms"));
  MEMES_RETURN_IF_ERROR(positive(s.total_timeout_ms, "total_timeout_ms"));
  MEMES_RETURN_IF_ERROR(positive(static_cast<int64_t>(s.max_body_bytes), "max_body_bytes"));
  MEMES_RETURN_IF_ERROR(positive(s.backoff_base_ms, "backoff_base_ms"));
  MEMES_RETURN_IF_ERROR(positive(s.backoff_max_ms, "backoff_max_ms"));
  if (!(s.per_host_rate > 0)) return InvalidArgument("per_host_rate must be > 0");
  if (s.retries < 0) return InvalidArgument("retries must be >= 0");
  if (s.max_redirects < 0) return InvalidArgument("max_redirects must be >= 0");
  if (s.low_speed_bytes_per_s < 0 || s.low_speed_time_s < 0) {
    return InvalidArgument("low_speed_bytes_per_s and low_speed_time_s must be >= 0");
  }
  if (s.user_agent.empty()) return InvalidArgument("user_agent must not be empty");
  return Status();
}

}  // namespace memes::ingest
