// Shared ownership of the terminal line between log output and progress bars.
// Thread-safe: one process-wide mutex guards every write to stderr made through here.
#pragma once

#include <cstdio>
#include <string_view>

namespace memes {

// True when `stream` is an interactive terminal (progress bars redraw in place only then).
bool IsTerminal(std::FILE* stream);

// Writes `text` (whole lines) to `stream`; if a progress bar is drawn on that terminal line it is
// cleared first and redrawn after.
void WriteAboveProgress(std::FILE* stream, std::string_view text);

// Used by ProgressBar: sets the text of the in-place status line ("" removes it).
void SetStatusLine(std::FILE* stream, std::string_view text);

}  // namespace memes
