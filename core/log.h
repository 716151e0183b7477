// Levelled logging to stderr, shared by every module and the CLI.
// Thread-safe: each call writes one whole line under a mutex, so lines of parallel flow-graph
// nodes never interleave mid-line.
#pragma once

#include <sstream>
#include <string_view>

namespace memes {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kQuiet = 4 };

// Default kInfo. `-v` sets kDebug, `-q` sets kWarning (errors still shown).
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);
// Writes "memes: warning: <text>\n" (no prefix word for info) if `level` is enabled.
void LogLine(LogLevel level, std::string_view text);

namespace detail {
// Collects one line with operator<< and hands it to LogLine when destroyed.
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  template <typename T>
  LogMessage& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace detail

}  // namespace memes

// MEMES_LOG(kWarning) << file << ": " << what;  — formats nothing when the level is off.
#define MEMES_LOG(level)                                      \
  if (!::memes::LogEnabled(::memes::LogLevel::level)) {       \
  } else                                                      \
    ::memes::detail::LogMessage(::memes::LogLevel::level)
