// Text for people: the terminal width of UTF-8 strings (so tables of 柴犬 and shiba line up),
// padding by that width, code-point edit distance (for "did you mean …?"), rounded numbers and
// local ISO 8601 times.
// Thread-safety: pure functions; DisplayWidth switches only the calling thread's locale.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memes {

// The code points of `utf8`. A byte that does not start a valid UTF-8 sequence (or a truncated
// or overlong one) becomes U+FFFD and decoding resumes at the next byte, so nothing is dropped.
std::vector<char32_t> DecodeUtf8(std::string_view utf8);

// Columns one code point takes in a terminal: 2 for East Asian Wide and Fullwidth characters
// (CJK ideographs, kana, Hangul, fullwidth forms, most emoji), 0 for combining marks, joiners and
// control characters, 1 otherwise. Uses the C library's Unicode tables (wcwidth under C.UTF-8).
int CodePointWidth(char32_t code_point);

// Columns `utf8` takes in a terminal: DisplayWidth("柴犬") == 4, DisplayWidth("shiba") == 5.
int DisplayWidth(std::string_view utf8);

// `utf8` followed by spaces up to `width` columns (left-aligned); unchanged when wider.
std::string PadRight(std::string_view utf8, int width);
// Spaces, then `utf8`, up to `width` columns (right-aligned); unchanged when wider.
std::string PadLeft(std::string_view utf8, int width);

// Edit distance between the code points of `a` and `b`: insertions, deletions, substitutions
// and swaps of two neighbours ("haed" for "head") count one each (optimal string alignment).
int EditDistance(std::string_view a, std::string_view b);

// `text` without leading and trailing spaces, tabs, CR, LF and U+FEFF (a byte-order mark that
// spreadsheets put in front of a file or a cell).
std::string_view TrimText(std::string_view text);

// `value` with `decimals` digits after the point ("5.94", "0.05"): numbers people read.
std::string FormatFixed(double value, int decimals);

// "1 item", "3 items": a count with the noun that agrees with it.
std::string CountOf(int64_t count, std::string_view singular, std::string_view plural);

// Unix seconds as local date-time, ISO 8601 with the UTC offset: "2026-11-30T15:04:05+01:00".
std::string FormatLocalTime(int64_t unix_seconds);

}  // namespace memes
