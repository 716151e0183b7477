#include "ingest/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace memes::ingest {
namespace {

bool InV4(uint32_t address, uint32_t network, int prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

uint32_t V4(int a, int b, int c, int d) {
  return static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 |
         static_cast<uint32_t>(c) << 8 | static_cast<uint32_t>(d);
}

uint32_t V4At(const std::array<uint8_t, 16>& a, int at) {
  return static_cast<uint32_t>(a[at]) << 24 | static_cast<uint32_t>(a[at + 1]) << 16 |
         static_cast<uint32_t>(a[at + 2]) << 8 | a[at + 3];
}

bool AllZero(const std::array<uint8_t, 16>& a, int from, int to) {
  return std::all_of(a.begin() + from, a.begin() + to, [](uint8_t b) { return b == 0; });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']') {
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

}  // namespace

std::optional<std::string_view> NonPublicIpv4(uint32_t a) {
  // IANA IPv4 Special-Purpose Address Registry: everything not globally reachable.
  if (InV4(a, V4(0, 0, 0, 0), 8)) return "unspecified";
  if (InV4(a, V4(10, 0, 0, 0), 8)) return "private";
  if (InV4(a, V4(100, 64, 0, 0), 10)) return "shared (CGNAT)";
  if (InV4(a, V4(127, 0, 0, 0), 8)) return "loopback";
  if (InV4(a, V4(169, 254, 0, 0), 16)) return "link-local";
  if (InV4(a, V4(172, 16, 0, 0), 12)) return "private";
  if (InV4(a, V4(192, 0, 0, 0), 24)) return "reserved";
  if (InV4(a, V4(192, 0, 2, 0), 24)) return "documentation";
  if (InV4(a, V4(192, 168, 0, 0), 16)) return "private";
  if (InV4(a, V4(198, 18, 0, 0), 15)) return "benchmarking";
  if (InV4(a, V4(198, 51, 100, 0), 24)) return "documentation";
  if (InV4(a, V4(203, 0, 113, 0), 24)) return "documentation";
  if (InV4(a, V4(224, 0, 0, 0), 4)) return "multicast";
  if (a == V4(255, 255, 255, 255)) return "broadcast";
  if (InV4(a, V4(240, 0, 0, 0), 4)) return "reserved";
  return std::nullopt;
}

std::optional<std::string_view> NonPublicIpv6(const std::array<uint8_t, 16>& a) {
  if (AllZero(a, 0, 10)) {
    if (a[10] == 0xff && a[11] == 0xff) return NonPublicIpv4(V4At(a, 12));  // ::ffff:a.b.c.d
    if (a[10] == 0 && a[11] == 0) {
      if (AllZero(a, 12, 15) && a[15] == 0) return "unspecified";  // ::
      if (AllZero(a, 12, 15) && a[15] == 1) return "loopback";     // ::1
      // ::a.b.c.d (deprecated IPv4-compatible): judged by the address inside, else reserved.
      if (auto inner = NonPublicIpv4(V4At(a, 12))) return inner;
      return "reserved";
    }
  }
  // 64:ff9b::/96, NAT64 well-known prefix: the IPv4 address inside decides.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && AllZero(a, 4, 12)) {
    return NonPublicIpv4(V4At(a, 12));
  }
  if (a[0] == 0x20 && a[1] == 0x02) return NonPublicIpv4(V4At(a, 2));      // 2002::/16, 6to4
  if (a[0] == 0x01 && a[1] == 0x00 && AllZero(a, 2, 8)) return "discard";  // 100::/64
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return "documentation";
  if ((a[0] & 0xfe) == 0xfc) return "unique-local";                // fc00::/7
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";  // fe80::/10
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local";  // fec0::/10
  if (a[0] == 0xff) return "multicast";                            // ff00::/8
  return std::nullopt;
}

bool HostIsListed(std::string_view host, const std::vector<std::string>& allowed) {
  const std::string wanted = Lower(host);
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return Lower(entry) == wanted; });
}

curl_socket_t OpenPublicSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* guard = static_cast<AddressGuard*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && !guard->allow_private) {
    std::optional<std::string_view> kind;
    char text[INET6_ADDRSTRLEN] = "?";
    if (address->family == AF_INET && address->addrlen >= sizeof(sockaddr_in)) {
      sockaddr_in v4;
      std::memcpy(&v4, &address->addr, sizeof v4);
      kind = NonPublicIpv4(ntohl(v4.sin_addr.s_addr));
      inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    } else if (address->family == AF_INET6 && address->addrlen >= sizeof(sockaddr_in6)) {
      sockaddr_in6 v6;
      std::memcpy(&v6, &address->addr, sizeof v6);
      std::array<uint8_t, 16> bytes;
      std::memcpy(bytes.data(), &v6.sin6_addr, 16);
      kind = NonPublicIpv6(bytes);
      inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    } else {
      kind = "not an IP address";  // Unix sockets and the like are never a crawl's business
    }
    if (kind) {
      if (!guard->refused.empty()) guard->refused += ", ";
      guard->refused += std::string(text) + " is " + std::string(*kind);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace memes::ingest
