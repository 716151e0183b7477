// robots.txt (RFC 9309): parsing into the rules of one user agent, and matching paths against
// them. The fetcher fetches robots.txt once per host and asks RobotsRules before each request.
// Thread-safety: a parsed RobotsRules is immutable; const methods are safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace memes::ingest {

class RobotsRules {
 public:
  // Only this much of a robots.txt is read (RFC 9309 asks for at least 500 KiB); a line cut
  // at the limit is dropped.
  static constexpr size_t kMaxParsedBytes = 512 * 1024;

  // Allows everything (no robots.txt, or a 4xx for it).
  RobotsRules() = default;

  // Parses `text` and keeps the rules of the groups whose User-agent matches `product_token`
  // case-insensitively (e.g. "memes"); when none does, the rules of the `*` groups. Groups
  // for the same agent are merged. Unknown lines and malformed lines are skipped: robots.txt
  // files are untrusted, hand-written text. A UTF-8 byte order mark is ignored; only the first
  // kMaxParsedBytes are read. Patterns are kept percent-encoding-normalised
  // (NormalizeRobotsPath).
  static RobotsRules Parse(std::string_view text, std::string_view product_token);

  // True when `path_query` ("/a/b.png?x=1") may be fetched: the longest matching Allow or
  // Disallow pattern decides (`*` matches any run of bytes, a final `$` anchors the end);
  // on equal length Allow wins; no match allows. "/robots.txt" is always allowed. The path is
  // normalised like the patterns first, so "/表情" matches "/%E8%A1%A8%E6%83%85".
  bool Allowed(std::string_view path_query) const;

  size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    std::string pattern;
    bool allow = false;
  };
  std::vector<Rule> rules_;
};

// RFC 9309 section 2.2.2: the form in which patterns and paths are compared. Bytes outside
// printable ASCII (UTF-8 among them) are percent-encoded; a %XX escape of an unreserved
// character (A-Z a-z 0-9 - . _ ~) is decoded; every other escape is kept, with upper-case hex;
// a '%' that starts no escape becomes %25. Reserved characters, '*' and '$' are kept as they
// are. Idempotent.
std::string NormalizeRobotsPath(std::string_view path);

// The robots.txt product token of a User-Agent: "memes/0.1 (sticker…)" -> "memes".
std::string ProductToken(std::string_view user_agent);

}  // namespace memes::ingest
