#include "core/log.h"
#include "core/log_prefix.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/terminal.h"

namespace memes {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_prefix_mutex;
std::string g_prefix = "memes: ";  // guarded by g_prefix_mutex
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }
LogLevel GetLogLevel() { return g_level.load(); }
bool LogEnabled(LogLevel level) { return level >= g_level.load() && level != LogLevel::kQuiet; }

void SetLogPrefix(std::string prefix) {
  std::lock_guard<std::mutex> lock(g_prefix_mutex);
  g_prefix = std::move(prefix);
}

void LogLine(LogLevel level, std::string_view text) {
  if (!LogEnabled(level)) return;
  std::string line;
  {
    std::lock_guard<std::mutex> lock(g_prefix_mutex);
    line = g_prefix;
  }
  switch (level) {
    case LogLevel::kDebug: line += "debug: "; break;
    case LogLevel::kWarning: line += "warning: "; break;
    case LogLevel::kError: line += "error: "; break;
    default: break;
  }
  line.append(text);
  line.push_back('\n');
  // A progress bar may own the current terminal line: clear it first so the log line stands
  // alone and the bar redraws below it.
  WriteAboveProgress(stderr, line);
}

}  // namespace memes
