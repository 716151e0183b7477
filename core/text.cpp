#include "core/text.h"

#include <locale.h>
#include <wchar.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace memes {

std::vector<char32_t> DecodeUtf8(std::string_view utf8) {
  std::vector<char32_t> out;
  out.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    int length = 0;
    char32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07;
    }
    bool valid = length > 0 && i + length <= utf8.size();
    for (int k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(utf8[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (valid &&
        (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) {
      valid = false;
    }
    if (!valid) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(code);
    i += length;
  }
  return out;
}

namespace {

// C.UTF-8 is built into glibc (2.35 and later), so this works without installed locales; it is
// made once and shared read-only between threads.
locale_t Utf8Locale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  return locale;
}

// Only when the C library has no UTF-8 locale: the wide blocks that matter for class names.
int FallbackWidth(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
      (c >= 0xFE00 && c <= 0xFE0F)) {
    return 0;
  }
  const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
                    (c >= 0x3041 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
                    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
                    (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) ||
                    (c >= 0x1F300 && c <= 0x1F64F) || (c >= 0x1F900 && c <= 0x1F9FF) ||
                    (c >= 0x20000 && c <= 0x3FFFD);
  return wide ? 2 : 1;
}

}  // namespace

int CodePointWidth(char32_t code_point) {
  const locale_t utf8 = Utf8Locale();
  if (utf8 == locale_t{}) return FallbackWidth(code_point);
  const locale_t previous = uselocale(utf8);
  const int width = wcwidth(static_cast<wchar_t>(code_point));
  uselocale(previous);
  // wcwidth says -1 for control characters: they take no column.
  return std::max(width, 0);
}

int DisplayWidth(std::string_view utf8) {
  int width = 0;
  for (char32_t c : DecodeUtf8(utf8))
    width += c < 0x80 ? (c >= 0x20 && c < 0x7F) : CodePointWidth(c);
  return width;
}

std::string PadRight(std::string_view utf8, int width) {
  std::string out(utf8);
  const int have = DisplayWidth(utf8);
  if (have < width) out.append(static_cast<size_t>(width - have), ' ');
  return out;
}

std::string PadLeft(std::string_view utf8, int width) {
  const int have = DisplayWidth(utf8);
  std::string out(have < width ? static_cast<size_t>(width - have) : 0, ' ');
  out.append(utf8);
  return out;
}

int EditDistance(std::string_view a, std::string_view b) {
  const std::vector<char32_t> x = DecodeUtf8(a), y = DecodeUtf8(b);
  // Rows i-2, i-1 and i of the dynamic-programming table: row[j] = distance(x[0..i), y[0..j)).
  std::vector<int> before(y.size() + 1), previous(y.size() + 1), row(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    before.swap(previous);
    previous.swap(row);
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= y.size(); ++j) {
      row[j] = std::min(
          {previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] != y[j - 1] ? 1 : 0)});
      if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);  // two neighbours swapped
      }
    }
  }
  return row[y.size()];
}

std::string_view TrimText(std::string_view text) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (bool changed = true; changed && !text.empty();) {
    changed = false;
    if (text.starts_with(kBom)) {
      text.remove_prefix(kBom.size());
      changed = true;
    } else if (text.ends_with(kBom)) {
      text.remove_suffix(kBom.size());
      changed = true;
    }
    static constexpr std::string_view kSpace = " \t\r\n";
    while (!text.empty() && kSpace.find(text.front()) != std::string_view::npos) {
      text.remove_prefix(1);
      changed = true;
    }
    while (!text.empty() && kSpace.find(text.back()) != std::string_view::npos) {
      text.remove_suffix(1);
      changed = true;
    }
  }
  return text;
}

std::string FormatFixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string CountOf(int64_t count, std::string_view singular, std::string_view plural) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural);
}

std::string FormatLocalTime(int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm local{};
  if (localtime_r(&time, &local) == nullptr) return std::to_string(unix_seconds);
  char stamp[32], zone[8];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
  std::strftime(zone, sizeof zone, "%z", &local);  // "+0100": ISO 8601 wants "+01:00"
  std::string out = stamp;
  const std::string offset = zone;
  if (offset.size() == 5) {
    out += offset.substr(0, 3) + ":" + offset.substr(3);
  } else {
    out += offset;
  }
  return out;
}

}  // namespace memes
