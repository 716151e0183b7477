#include "core/terminal.h"

#include <unistd.h>

#include <mutex>
#include <string>

namespace memes {
namespace {
std::mutex g_terminal_mutex;
std::string g_status_line;  // guarded by g_terminal_mutex; what is drawn on the last line now
}  // namespace

bool IsTerminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

void WriteAboveProgress(std::FILE* stream, std::string_view text) {
  std::lock_guard lock(g_terminal_mutex);
  const bool redraw = !g_status_line.empty();
  if (redraw) std::fputs("\r\033[K", stream);
  std::fwrite(text.data(), 1, text.size(), stream);
  if (redraw) std::fputs(g_status_line.c_str(), stream);
  std::fflush(stream);
}

void SetStatusLine(std::FILE* stream, std::string_view text) {
  std::lock_guard lock(g_terminal_mutex);
  g_status_line = std::string(text);
  std::fputs("\r\033[K", stream);
  if (!text.empty()) std::fputs(g_status_line.c_str(), stream);
  std::fflush(stream);
}

}  // namespace memes
