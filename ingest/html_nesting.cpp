#include "ingest/html_nesting.h"

#include <cassert>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace memes::ingest {
namespace {

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool EqualsLower(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != lower[i]) return false;
  }
  return true;
}

bool IsVoid(std::string_view name) {
  for (std::string_view v : {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                             "meta", "param", "source", "track", "wbr", "keygen"}) {
    if (EqualsLower(name, v)) return true;
  }
  return false;
}

// Elements whose content is text up to their own end tag (no tags inside).
bool IsRawText(std::string_view name) {
  for (std::string_view r :
       {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}) {
    if (EqualsLower(name, r)) return true;
  }
  return false;
}

// Case-insensitive search for "</name" from `from`; npos when absent.
size_t FindEndTag(std::string_view html, std::string_view name, size_t from) {
  for (size_t at = html.find("</", from); at != std::string_view::npos;
       at = html.find("</", at + 2)) {
    if (at + 2 + name.size() <= html.size() &&
        EqualsLower(html.substr(at + 2, name.size()), name)) {
      return at;
    }
  }
  return std::string_view::npos;
}

// The end of a tag that starts at `at` ('<'): one past its '>', or html.size(). Quoted
// attribute values may hold '>'.
size_t TagEnd(std::string_view html, size_t at) {
  size_t i = at + 1;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '>') return i + 1;
    if (c == '=') {
      ++i;
      while (i < html.size() && IsHtmlSpace(html[i])) ++i;
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        const size_t close = html.find(html[i], i + 1);
        if (close == std::string_view::npos) return html.size();
        i = close + 1;
      }
      continue;
    }
    ++i;
  }
  return html.size();
}

}  // namespace

std::optional<std::string> CapHtmlNesting(std::string_view html, int max_depth) {
  assert(max_depth >= 1);
  int depth = 0;
  // Start tags dropped and not yet matched by an end tag: their end tags are dropped too.
  int dropped_open = 0;
  std::vector<std::pair<size_t, size_t>> removed;  // byte ranges [begin, end), ascending
  size_t i = 0;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= html.size()) break;
    const char next = html[lt + 1];
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t close = html.find("-->", lt + 4);
      i = close == std::string_view::npos ? html.size() : close + 3;
      continue;
    }
    if (next == '!' || next == '?') {  // doctype, CDATA, processing instruction: to '>'
      const size_t close = html.find('>', lt + 2);
      i = close == std::string_view::npos ? html.size() : close + 1;
      continue;
    }
    const bool is_end = next == '/';
    const size_t name_begin = lt + (is_end ? 2 : 1);
    if (name_begin >= html.size() || !IsAsciiAlpha(html[name_begin])) {
      i = lt + 1;  // "a < b": text, not a tag
      continue;
    }
    size_t name_end = name_begin;
    while (name_end < html.size() && !IsHtmlSpace(html[name_end]) && html[name_end] != '/' &&
           html[name_end] != '>') {
      ++name_end;
    }
    const std::string_view name = html.substr(name_begin, name_end - name_begin);
    const size_t end = TagEnd(html, lt);
    if (is_end) {
      if (IsVoid(name)) {
        // </br> and friends open nothing and close nothing here.
      } else if (dropped_open > 0) {
        --dropped_open;
        removed.emplace_back(lt, end);
      } else if (depth > 0) {
        --depth;
      }
      i = end;
      continue;
    }
    if (EqualsLower(name, "plaintext")) break;  // the rest of the page is text
    if (IsVoid(name)) {
      i = end;
      continue;
    }
    if (depth >= max_depth) {
      ++dropped_open;
      removed.emplace_back(lt, end);
    } else {
      ++depth;
    }
    i = end;
    if (IsRawText(name)) {
      const size_t close = FindEndTag(html, name, i);
      i = close == std::string_view::npos ? html.size() : close;
    }
  }
  if (removed.empty()) return std::nullopt;
  std::string out;
  out.reserve(html.size());
  size_t copied = 0;
  for (const auto& [begin, end] : removed) {
    out.append(html.substr(copied, begin - copied));
    copied = end;
  }
  out.append(html.substr(copied));
  return out;
}

}  // namespace memes::ingest
