// Status and Result<T>: the error values of every memes module.
//
// An expected failure (a 404, a corrupt GIF, a full disk, a typo in a pipeline file) is a value
// that says what went wrong and where; callers count it and go on. Bugs assert instead.
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace memes {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller or a config file asked for something impossible
  kNotFound,
  kIoError,        // the OS refused a read, write, rename or fsync
  kCorrupt,        // data is damaged: truncated, bad checksum, bad structure
  kUnsupported,    // a format or feature we do not handle
  kLimitExceeded,  // a configured limit (bytes, pixels, frames, time) refused the input
  kNetwork,        // transport failure: DNS, connect, reset, timeout
  kHttp,           // the server answered with an error status
  kCancelled,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string where = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // What went wrong, short and lower-case: "truncated GIF after frame 7".
  const std::string& message() const { return message_; }
  // Where: a file path, a URL, "file.toml:12" — empty when the caller knows it better.
  const std::string& where() const { return where_; }

  // Returns a copy with `where` set (or prefixed when already set: "a.zip: inner.gif").
  Status At(std::string_view where) const;
  // "where: message" (or just the message), for logs and CLI output.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string where_;
};

inline Status InvalidArgument(std::string msg, std::string where = {}) {
  return {StatusCode::kInvalidArgument, std::move(msg), std::move(where)};
}
inline Status NotFound(std::string msg, std::string where = {}) {
  return {StatusCode::kNotFound, std::move(msg), std::move(where)};
}
inline Status IoError(std::string msg, std::string where = {}) {
  return {StatusCode::kIoError, std::move(msg), std::move(where)};
}
inline Status Corrupt(std::string msg, std::string where = {}) {
  return {StatusCode::kCorrupt, std::move(msg), std::move(where)};
}
inline Status Unsupported(std::string msg, std::string where = {}) {
  return {StatusCode::kUnsupported, std::move(msg), std::move(where)};
}
inline Status LimitExceeded(std::string msg, std::string where = {}) {
  return {StatusCode::kLimitExceeded, std::move(msg), std::move(where)};
}
inline Status Internal(std::string msg, std::string where = {}) {
  return {StatusCode::kInternal, std::move(msg), std::move(where)};
}

// Result<T>: a T or a non-OK Status.
// Invariant: holds a Status only when that Status is not OK.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status without a value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // Requires: !ok() for a meaningful status; returns OK otherwise.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Requires: ok().
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace memes

// Returns early from a function returning Status or Result<U> when `expr` is not OK.
#define MEMES_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::memes::Status memes_status_ = (expr);    \
    if (!memes_status_.ok()) return memes_status_; \
  } while (0)

#define MEMES_CONCAT_INNER(a, b) a##b
#define MEMES_CONCAT(a, b) MEMES_CONCAT_INNER(a, b)
// `MEMES_ASSIGN_OR_RETURN(auto x, MakeX());` — binds the value or returns the status.
#define MEMES_ASSIGN_OR_RETURN(lhs, expr) \
  MEMES_ASSIGN_OR_RETURN_IMPL(MEMES_CONCAT(memes_result_, __LINE__), lhs, expr)
#define MEMES_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
