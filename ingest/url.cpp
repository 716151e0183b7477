#include "ingest/url.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "ingest/curl_handles.h"

namespace memes::ingest {

void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

std::string_view TrimHtmlSpace(std::string_view text) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Browsers drop tabs and newlines inside URLs and percent-encode spaces, controls and non-ASCII
// bytes (WHATWG URL parser); pages rely on both. '%' is kept: the URL may be encoded already.
std::string CleanReference(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kEncoded = " \"<>\\^`{|}";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c < 0x20 || c >= 0x7F || kEncoded.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string GetPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return {};
  CurlString owner(text);
  return std::string(text);
}

// Lower-cases the host, drops the fragment and checks the scheme. `url` holds a full URL.
Result<UrlParts> Normalize(CURLU* url, std::string_view display) {
  const std::string scheme = GetPart(url, CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("only http and https URLs are fetched, not '" + scheme + ":'",
                           std::string(display));
  }
  std::string host = GetPart(url, CURLUPART_HOST);
  if (host.empty()) return InvalidArgument("URL has no host", std::string(display));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  curl_url_set(url, CURLUPART_HOST, host.c_str(), 0);
  curl_url_set(url, CURLUPART_FRAGMENT, nullptr, 0);
  UrlParts parts;
  parts.normalized = GetPart(url, CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (parts.normalized.empty()) return InvalidArgument("malformed URL", std::string(display));
  const std::string port = GetPart(url, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
  parts.host = host;
  parts.origin.append(scheme).append("://").append(host);
  if (!port.empty()) parts.origin.append(":").append(port);
  parts.path_query = GetPart(url, CURLUPART_PATH);
  if (parts.path_query.empty()) parts.path_query.push_back('/');
  const std::string query = GetPart(url, CURLUPART_QUERY);
  if (!query.empty()) parts.path_query.append("?").append(query);
  return parts;
}

}  // namespace

Result<UrlParts> ParseHttpUrl(std::string_view url) {
  EnsureCurlGlobalInit();
  const std::string text = CleanReference(TrimHtmlSpace(url));
  CurlUrl handle(curl_url());
  if (!handle) return Internal("out of memory parsing a URL", std::string(url));
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), CURLU_ALLOW_SPACE);
  if (rc != CURLUE_OK) {
    return InvalidArgument(std::string("malformed URL: ") + curl_url_strerror(rc),
                           std::string(url));
  }
  return Normalize(handle.get(), url);
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view reference) {
  EnsureCurlGlobalInit();
  const std::string ref = CleanReference(TrimHtmlSpace(reference));
  if (ref.empty()) return InvalidArgument("empty URL reference", std::string(base));
  CurlUrl handle(curl_url());
  if (!handle) return Internal("out of memory parsing a URL", std::string(base));
  const std::string base_text(base);
  if (curl_url_set(handle.get(), CURLUPART_URL, base_text.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("malformed base URL", base_text);
  }
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, ref.c_str(), CURLU_ALLOW_SPACE);
  if (rc != CURLUE_OK) {
    return InvalidArgument(std::string("cannot resolve '") + ref + "': " + curl_url_strerror(rc),
                           base_text);
  }
  MEMES_ASSIGN_OR_RETURN(UrlParts parts, Normalize(handle.get(), ref));
  return parts.normalized;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::string> ExpandSearchUrl(std::string_view url_template, std::string_view keyword,
                                    int page, int page_size) {
  assert(page >= 1 && page_size >= 0);
  std::string out;
  size_t i = 0;
  while (i < url_template.size()) {
    const char c = url_template[i];
    if (c != '{') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t close = url_template.find('}', i);
    if (close == std::string_view::npos) {
      return InvalidArgument("unclosed '{' at column " + std::to_string(i + 1),
                             std::string(url_template));
    }
    const std::string_view name = url_template.substr(i + 1, close - i - 1);
    if (name == "keyword") {
      out += PercentEncode(keyword);
    } else if (name == "page") {
      out += std::to_string(page);
    } else if (name == "offset") {
      out += std::to_string(static_cast<int64_t>(page - 1) * page_size);
    } else {
      return InvalidArgument(
          "unknown placeholder {" + std::string(name) + "} (known: {keyword}, {page}, {offset})",
          std::string(url_template));
    }
    i = close + 1;
  }
  auto parsed = ParseHttpUrl(out);
  if (!parsed.ok()) {
    return InvalidArgument(
        "template does not expand to an http(s) URL: " + parsed.status().message(),
        std::string(url_template));
  }
  return out;
}

Status CheckSearchTemplate(std::string_view url_template) {
  return ExpandSearchUrl(url_template, "keyword", 1, 20).status();
}

}  // namespace memes::ingest
