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

}  // namespace

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
      Rule rule{std::string(value), key == "allow"};
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

bool RobotsRules::Allowed(std::string_view path_query) const {
  if (path_query == "/robots.txt") return true;
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
