// Where the crawl may connect: only to public addresses, checked on the address libcurl is about
// to connect to (after DNS, so a name that resolves to 127.0.0.1 or 169.254.169.254, or one
// that is rebound between two lookups, is caught), except for hosts the user named. The hook is
// libcurl's CURLOPT_OPENSOCKETFUNCTION: it sees every address of every hop, redirects and
// robots.txt included, before a socket exists.
// Thread-safety: pure functions; an AddressGuard belongs to one transfer (one thread).
#pragma once

#include <curl/curl.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memes::ingest {

// Why an IPv4 address (host byte order) is not public: "loopback", "private", "link-local",
// "shared (CGNAT)", "multicast", "unspecified", "broadcast", "reserved", "documentation",
// "benchmarking"; nullopt when it is public.
std::optional<std::string_view> NonPublicIpv4(uint32_t address);

// The same for IPv6 ("unique-local", "site-local", "discard" too). IPv4-mapped
// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
// (2002:AABB:CCDD::) addresses are judged by the IPv4 address inside.
std::optional<std::string_view> NonPublicIpv6(const std::array<uint8_t, 16>& address);

// True when `host` (a URL's host: a name, an IPv4 literal or a bracketed IPv6 literal) is one
// of `allowed` (names compared case-insensitively; IPv6 with or without brackets).
bool HostIsListed(std::string_view host, const std::vector<std::string>& allowed);

// One transfer's state for OpenPublicSocket (CURLOPT_OPENSOCKETDATA).
struct AddressGuard {
  bool allow_private = false;  // the request's host is named by the user: connect anywhere
  std::string refused;         // set when a connection was refused: "127.0.0.2 is loopback"
};

// CURLOPT_OPENSOCKETFUNCTION: opens the socket libcurl asks for, unless the address is not
// public and the guard does not allow it; then records why in guard->refused and returns
// CURL_SOCKET_BAD (libcurl tries the host's next address, or fails with CURLE_COULDNT_CONNECT).
curl_socket_t OpenPublicSocket(void* guard, curlsocktype purpose, curl_sockaddr* address);

}  // namespace memes::ingest
