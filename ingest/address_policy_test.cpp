#include "ingest/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace memes::ingest {
namespace {

std::optional<std::string_view> Kind(const char* text) {
  in_addr v4;
  if (inet_pton(AF_INET, text, &v4) == 1) return NonPublicIpv4(ntohl(v4.s_addr));
  in6_addr v6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &v6), 1) << text;
  std::array<uint8_t, 16> bytes;
  std::memcpy(bytes.data(), &v6, 16);
  return NonPublicIpv6(bytes);
}

TEST(AddressPolicy, NonPublicIpv4AddressesAreNamed) {
  EXPECT_EQ(Kind("127.0.0.1"), "loopback");
  EXPECT_EQ(Kind("127.0.0.2"), "loopback");
  EXPECT_EQ(Kind("10.1.2.3"), "private");
  EXPECT_EQ(Kind("172.16.0.1"), "private");
  EXPECT_EQ(Kind("172.31.255.255"), "private");
  EXPECT_EQ(Kind("192.168.1.1"), "private");
  EXPECT_EQ(Kind("169.254.169.254"), "link-local");
  EXPECT_EQ(Kind("100.64.0.1"), "shared (CGNAT)");
  EXPECT_EQ(Kind("100.127.255.255"), "shared (CGNAT)");
  EXPECT_EQ(Kind("0.0.0.0"), "unspecified");
  EXPECT_EQ(Kind("224.0.0.251"), "multicast");
  EXPECT_EQ(Kind("255.255.255.255"), "broadcast");
  EXPECT_EQ(Kind("240.0.0.1"), "reserved");
  EXPECT_EQ(Kind("192.0.2.7"), "documentation");
  EXPECT_EQ(Kind("198.18.0.1"), "benchmarking");
}

TEST(AddressPolicy, PublicIpv4AddressesPass) {
  for (const char* text : {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255",
                           "100.128.0.0", "169.253.0.1", "192.169.0.1", "223.255.255.255"}) {
    EXPECT_EQ(Kind(text), std::nullopt) << text;
  }
}

TEST(AddressPolicy, NonPublicIpv6AddressesAreNamed) {
  EXPECT_EQ(Kind("::1"), "loopback");
  EXPECT_EQ(Kind("::"), "unspecified");
  EXPECT_EQ(Kind("fc00::1"), "unique-local");
  EXPECT_EQ(Kind("fd12:3456::1"), "unique-local");
  EXPECT_EQ(Kind("fe80::1"), "link-local");
  EXPECT_EQ(Kind("febf::1"), "link-local");
  EXPECT_EQ(Kind("fec0::1"), "site-local");
  EXPECT_EQ(Kind("ff02::1"), "multicast");
  EXPECT_EQ(Kind("2001:db8::1"), "documentation");
  EXPECT_EQ(Kind("100::1"), "discard");
  // IPv4 inside IPv6 is judged by the IPv4 address.
  EXPECT_EQ(Kind("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(Kind("::ffff:169.254.169.254"), "link-local");
  EXPECT_EQ(Kind("::ffff:10.0.0.1"), "private");
  EXPECT_EQ(Kind("::127.0.0.1"), "loopback");
  EXPECT_EQ(Kind("64:ff9b::192.168.0.1"), "private");
  EXPECT_EQ(Kind("2002:7f00:1::"), "loopback");
  EXPECT_EQ(Kind("::ffff:8.8.8.8"), std::nullopt);
  EXPECT_EQ(Kind("64:ff9b::8.8.8.8"), std::nullopt);
  EXPECT_EQ(Kind("2606:4700::1111"), std::nullopt);
  EXPECT_EQ(Kind("2a00:1450:4001::200e"), std::nullopt);
}

TEST(AddressPolicy, HostIsListedComparesNamesCaseInsensitivelyAndIpv6WithoutBrackets) {
  const std::vector<std::string> allowed = {"LocalHost", "127.0.0.1", "::1"};
  EXPECT_TRUE(HostIsListed("localhost", allowed));
  EXPECT_TRUE(HostIsListed("127.0.0.1", allowed));
  EXPECT_TRUE(HostIsListed("[::1]", allowed));
  EXPECT_FALSE(HostIsListed("127.0.0.2", allowed));
  EXPECT_FALSE(HostIsListed("localhost.evil.example", allowed));
}

}  // namespace
}  // namespace memes::ingest
