// A cheap pre-scan of untrusted HTML that caps how deep elements nest before gumbo parses it.
// gumbo 0.10 (Debian 12) has no depth limit: a page of 1 000 000 nested <span> costs it a minute
// and gigabytes while parsing, and its recursive gumbo_destroy_output then overflows the stack.
// Internal to ingest/ (extract.cpp). Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace memes::ingest {

// Deeper than this, start tags are dropped. The limit later gumbo releases chose for their own
// max_tree_depth option; browsers stop nesting at a few hundred levels too.
inline constexpr int kMaxHtmlNesting = 400;

// Scans `html` like a tokenizer would (comments, raw-text elements such as <script>, quoted
// attribute values, void elements) and counts element nesting. Returns nullopt when it never
// exceeds `max_depth` (the page is parsed as it is). Otherwise returns a copy in which every
// start tag that would open an element deeper than `max_depth`, and the end tag that closes it,
// are removed; everything else (text, attributes, void elements such as <img>, tags at lower
// depths) is kept byte for byte, so the URLs of a page stay where they were. The count is an
// upper bound of the depth gumbo would build (implied end tags are not modelled), so a page
// is flattened too early at worst, never too late.
// Requires: max_depth >= 1. Time O(|html|), no recursion.
std::optional<std::string> CapHtmlNesting(std::string_view html, int max_depth);

}  // namespace memes::ingest
