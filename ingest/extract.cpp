#include "ingest/extract.h"

#include <gumbo.h>
#include <re2/re2.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "core/log.h"
#include "ingest/html_nesting.h"
#include "ingest/url.h"

namespace memes::ingest {
namespace {

// Collects resolved URLs once each, in order of first appearance, up to `max_urls`.
// Invariant: urls_.size() <= max_urls_.
class UrlCollector {
 public:
  UrlCollector(std::string base, int max_urls) : base_(std::move(base)), max_urls_(max_urls) {}
  void SetBase(std::string base) { base_ = std::move(base); }
  const std::string& base() const { return base_; }
  void Add(std::string_view reference) {
    auto resolved = ResolveUrl(base_, reference);
    if (!resolved.ok() || seen_.contains(*resolved)) return;
    if (full()) {
      truncated_ = true;  // a new URL beyond the cap: the extractors stop once they see it
      return;
    }
    seen_.insert(*resolved);
    urls_.push_back(std::move(resolved).value());
  }
  bool full() const { return urls_.size() >= static_cast<size_t>(max_urls_); }
  // True once a URL beyond the cap was offered (the page held more than max_urls).
  bool truncated() const { return truncated_; }
  std::vector<std::string> Take() { return std::move(urls_); }

 private:
  std::string base_;
  int max_urls_;
  bool truncated_ = false;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> urls_;
};

const char* Attribute(const GumboElement& element, const char* name) {
  const GumboAttribute* attribute = gumbo_get_attribute(&element.attributes, name);
  return attribute ? attribute->value : nullptr;
}

// "a.png 1x, b.png 2x" -> a.png, b.png. URLs in srcset may contain commas only when not
// followed by whitespace; candidates are split on ", " as browsers do in practice.
void AddSrcset(std::string_view srcset, UrlCollector& out) {
  size_t i = 0;
  while (i < srcset.size()) {
    while (i < srcset.size() &&
           (std::isspace(static_cast<unsigned char>(srcset[i])) || srcset[i] == ',')) {
      ++i;
    }
    const size_t start = i;
    while (i < srcset.size() && !std::isspace(static_cast<unsigned char>(srcset[i]))) ++i;
    std::string_view url = srcset.substr(start, i - start);
    // A URL directly followed by ',' has no descriptor: the comma ends it.
    while (!url.empty() && url.back() == ',') url.remove_suffix(1);
    if (!url.empty()) out.Add(url);
    // Skip the descriptor up to the next comma.
    while (i < srcset.size() && srcset[i] != ',') ++i;
  }
}

void ExtractHtml(std::string_view body, UrlCollector& out) {
  // gumbo 0.10 has no depth limit of its own (see html_nesting.h): flatten first.
  const std::optional<std::string> flattened = CapHtmlNesting(body, kMaxHtmlNesting);
  if (flattened) body = *flattened;
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 1000;  // stop collecting parse errors on garbage; parsing goes on
  GumboOutput* output = gumbo_parse_with_options(&options, body.data(), body.size());
  if (output == nullptr) return;
  // Iterative walk: hostile pages nest deep enough to overflow a recursive one.
  std::vector<const GumboNode*> stack{output->root};
  bool base_seen = false;
  while (!stack.empty() && !out.truncated()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& element = node->v.element;
    switch (element.tag) {
      case GUMBO_TAG_BASE:
        if (const char* href = Attribute(element, "href"); href && !base_seen) {
          base_seen = true;
          if (auto resolved = ResolveUrl(out.base(), href); resolved.ok()) {
            out.SetBase(std::move(resolved).value());
          }
        }
        break;
      case GUMBO_TAG_IMG:
        for (const char* name : {"src", "data-src", "data-original"}) {
          if (const char* value = Attribute(element, name)) out.Add(value);
        }
        for (const char* name : {"srcset", "data-srcset"}) {
          if (const char* value = Attribute(element, name)) AddSrcset(value, out);
        }
        break;
      case GUMBO_TAG_SOURCE:
        if (const char* value = Attribute(element, "srcset")) AddSrcset(value, out);
        break;
      case GUMBO_TAG_A:
        if (const char* href = Attribute(element, "href"); href && LooksLikeImageUrl(href)) {
          out.Add(href);
        }
        break;
      default:
        break;
    }
    // Children pushed in reverse so they pop in document order.
    const GumboVector& children = element.children;
    for (unsigned i = children.length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
    }
  }
  gumbo_destroy_output(&options, output);
}

void CollectStrings(const nlohmann::json& value, UrlCollector& out) {
  std::vector<const nlohmann::json*> stack{&value};
  while (!stack.empty() && !out.truncated()) {
    const nlohmann::json* node = stack.back();
    stack.pop_back();
    if (node->is_string()) {
      out.Add(node->get_ref<const std::string&>());
    } else if (node->is_structured()) {
      std::vector<const nlohmann::json*> children;
      for (const auto& child : *node) children.push_back(&child);
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
  }
}

Status ExtractJson(std::string_view body, std::string_view page_url, const std::string& key,
                   UrlCollector& out) {
  nlohmann::json document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return Corrupt("search page is not valid JSON (rule json:" + key + ")", std::string(page_url));
  }
  // Every value under `key`, at any depth, in document order.
  std::vector<const nlohmann::json*> stack{&document};
  while (!stack.empty() && !out.truncated()) {
    const nlohmann::json* node = stack.back();
    stack.pop_back();
    std::vector<const nlohmann::json*> children;
    if (node->is_object()) {
      for (auto it = node->begin(); it != node->end(); ++it) {
        if (it.key() == key) {
          CollectStrings(it.value(), out);
        } else {
          children.push_back(&it.value());
        }
      }
    } else if (node->is_array()) {
      for (const auto& child : *node) children.push_back(&child);
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
  }
  return Status();
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

bool ParseHex4(std::string_view text, size_t at, uint32_t* value) {
  if (at + 4 > text.size()) return false;
  *value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = text[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    *value = *value * 16 + static_cast<uint32_t>(digit);
  }
  return true;
}

}  // namespace

std::string UnescapeJsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const char c = text[i + 1];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out.push_back(c);
        ++i;
        continue;
      case 'b':
        out.push_back('\b');
        ++i;
        continue;
      case 'f':
        out.push_back('\f');
        ++i;
        continue;
      case 'n':
        out.push_back('\n');
        ++i;
        continue;
      case 'r':
        out.push_back('\r');
        ++i;
        continue;
      case 't':
        out.push_back('\t');
        ++i;
        continue;
      case 'u': {
        uint32_t unit = 0;
        if (!ParseHex4(text, i + 2, &unit)) break;
        size_t consumed = 6;
        if (unit >= 0xD800 && unit < 0xDC00) {
          uint32_t low = 0;
          if (i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u' &&
              ParseHex4(text, i + 8, &low) && low >= 0xDC00 && low < 0xE000) {
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            consumed = 12;
          } else {
            unit = 0xFFFD;  // a lone surrogate is not a character
          }
        } else if (unit >= 0xDC00 && unit < 0xE000) {
          unit = 0xFFFD;
        }
        AppendUtf8(unit, out);
        i += consumed - 1;
        continue;
      }
      default:
        break;
    }
    out.push_back(text[i]);  // malformed escape: keep the backslash as written
  }
  return out;
}

bool LooksLikeImageUrl(std::string_view url) {
  const size_t end = url.find_first_of("?#");
  std::string path(url.substr(0, end));
  std::transform(path.begin(), path.end(), path.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view extension : {".gif", ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif"}) {
    if (path.size() >= extension.size() &&
        path.compare(path.size() - extension.size(), extension.size(), extension) == 0) {
      return true;
    }
  }
  return false;
}

Result<UrlExtractor> UrlExtractor::Create(std::string_view rule, int max_urls) {
  assert(max_urls >= 1);
  UrlExtractor extractor;
  extractor.rule_ = std::string(rule);
  extractor.max_urls_ = max_urls;
  if (rule == "html") {
    extractor.kind_ = Kind::kHtml;
  } else if (rule.rfind("json:", 0) == 0) {
    extractor.kind_ = Kind::kJson;
    extractor.json_key_ = std::string(rule.substr(5));
    if (extractor.json_key_.empty()) {
      return InvalidArgument("extract rule 'json:' needs a key, e.g. json:url");
    }
  } else if (rule.rfind("regex:", 0) == 0) {
    extractor.kind_ = Kind::kRegex;
    const std::string pattern(rule.substr(6));
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    auto regex = std::make_shared<const RE2>(pattern, options);
    if (!regex->ok()) {
      return InvalidArgument("invalid regex '" + pattern + "': " + regex->error());
    }
    if (regex->NumberOfCapturingGroups() < 1) {
      return InvalidArgument("regex '" + pattern + "' has no capture group: wrap the URL in ( )");
    }
    extractor.regex_ = std::move(regex);
  } else {
    return InvalidArgument("unknown extract rule '" + std::string(rule) +
                           "' (use html, json:KEY or regex:PATTERN)");
  }
  return extractor;
}

Result<std::vector<std::string>> UrlExtractor::Extract(std::string_view body,
                                                       std::string_view page_url,
                                                       bool* truncated) const {
  UrlCollector out{std::string(page_url), max_urls_};
  switch (kind_) {
    case Kind::kHtml:
      ExtractHtml(body, out);
      break;
    case Kind::kJson:
      MEMES_RETURN_IF_ERROR(ExtractJson(body, page_url, json_key_, out));
      break;
    case Kind::kRegex: {
      const re2::StringPiece text(body.data(), body.size());
      re2::StringPiece groups[2];
      size_t position = 0;
      while (position <= text.size() && !out.truncated() &&
             regex_->Match(text, position, text.size(), RE2::UNANCHORED, groups, 2)) {
        if (groups[1].data() != nullptr) {
          out.Add(UnescapeJsonString(std::string_view(groups[1].data(), groups[1].size())));
        }
        const size_t end = static_cast<size_t>(groups[0].data() - text.data()) + groups[0].size();
        position = end > position ? end : position + 1;  // an empty match must still advance
      }
      break;
    }
  }
  if (truncated) *truncated = out.truncated();
  if (out.truncated()) {
    MEMES_LOG(kWarning) << page_url << ": more than " << max_urls_
                        << " URLs on one page; the first " << max_urls_
                        << " are taken (sources[].max_urls_per_page)";
  }
  return out.Take();
}

}  // namespace memes::ingest
