#include "core/status.h"

namespace memes {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kLimitExceeded: return "limit exceeded";
    case StatusCode::kNetwork: return "network";
    case StatusCode::kHttp: return "http";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status Status::At(std::string_view where) const {
  if (ok()) return *this;
  Status copy = *this;
  if (copy.where_.empty()) {
    copy.where_ = std::string(where);
  } else if (!where.empty()) {
    copy.where_ = std::string(where) + ": " + copy.where_;
  }
  return copy;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  if (where_.empty()) return message_;
  return where_ + ": " + message_;
}

}  // namespace memes
