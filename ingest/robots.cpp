#include "ingest/robots.h"

#include <algorithm>
#include <cctype>

namespace memes::ingest {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Does `pattern` match a prefix of `path` (or the whole path when it ends in '$')?
// Greedy wildcard matching with one backtrack point: O(|pattern| * |path|) at worst, no
// recursion, so a hostile pattern cannot blow the stack.
bool PatternMatches(std::string_view pattern, std::string_view path) {
  bool anchored = false;
  if (!pattern.empty() && pattern.back() == '$') {
    anchored = true;
    pattern.remove_suffix(1);
  }
  size_t p = 0, s = 0;
  size_t star = std::string_view::npos, star_s = 0;
  while (true) {
    if (p == pattern.size()) {
      if (!anchored || s == path.size()) return true;
      // Anchored but path left over: let the last '*' swallow more.
    } else if (pattern[p] == '*') {
      star = p++;
      star_s = s;
      continue;
    } else if (s < path.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
      continue;
    }
    if (star == std::string_view::npos || star_s >= path.size()) return false;
    p = star + 1;
    s = ++star_s;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string NormalizeRobotsPath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  auto encode = [&](unsigned char c) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  };
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c == '%') {
      const int high = i + 2 < path.size() ? HexValue(path[i + 1]) : -1;
      const int low = i + 2 < path.size() ? HexValue(path[i + 2]) : -1;
      if (high < 0 || low < 0) {
        encode('%');
        continue;
      }
      const auto decoded = static_cast<unsigned char>(high * 16 + low);
      if (IsUnreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        encode(decoded);
      }
      i += 2;
    } else if (c <= 0x20 || c >= 0x7F) {
      encode(c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string ProductToken(std::string_view user_agent) {
  size_t end = 0;
  while (end < user_agent.size()) {
    const char c = user_agent[end];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) break;
    ++end;
  }
  return Lower(user_agent.substr(0, end));
}

RobotsRules RobotsRules::Parse(std::string_view text, std::string_view product_token) {
  const std::string token = Lower(product_token);
  std::vector<Rule> ours, star;
  bool saw_ours = false;
  // The agents of the group being read; a User-agent line after rules starts a new group.
  bool group_is_ours = false, group_is_star = false, in_rules = false;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (text.size() > kMaxParsedBytes) {
    // Keep whole lines only: half a "Disallow: /private" would be another rule.
    text = text.substr(0, kMaxParsedBytes);
    const size_t last_break = text.find_last_of("\r\n");
    text = last_break == std::string_view::npos ? std::string_view() : text.substr(0, last_break);
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = Lower(Trim(line.substr(0, colon)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (in_rules) {
        group_is_ours = group_is_star = false;
        in_rules = false;
      }
      const std::string agent = Lower(value);
      if (agent == "*") {
        group_is_star = true;
      } else if (!token.empty() && agent == token) {
        group_is_ours = true;
        saw_ours = true;
      }
    } else if (key == "allow" || key == "disallow") {
      in_rules = true;
      // "Disallow:" with an empty value allows everything: it adds no rule.
      if (value.empty()) continue;
      Rule rule{NormalizeRobotsPath(value), key == "allow"};
      if (group_is_ours) ours.push_back(rule);
      if (group_is_star) star.push_back(rule);
    } else {
      // Sitemap, Crawl-delay and others end no group and add no rule.
      if (key == "sitemap") continue;
      in_rules = true;
    }
  }
  RobotsRules rules;
  rules.rules_ = saw_ours ? std::move(ours) : std::move(star);
  return rules;
}

bool RobotsRules::Allowed(std::string_view raw_path_query) const {
  if (raw_path_query == "/robots.txt") return true;
  const std::string path_query = NormalizeRobotsPath(raw_path_query);
  size_t best_length = 0;
  bool best_allow = true, matched = false;
  for (const Rule& rule : rules_) {
    if (!PatternMatches(rule.pattern, path_query)) continue;
    const size_t length = rule.pattern.size();
    if (!matched || length > best_length || (length == best_length && rule.allow)) {
      best_length = length;
      best_allow = rule.allow;
      matched = true;
    }
  }
  return best_allow;
}

}  // namespace memes::ingest
