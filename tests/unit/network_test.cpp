// Allow-list rules (include/wasio/network.hpp): parsing and matching, host only.
#include <gtest/gtest.h>

#include "wasio/network.hpp"

namespace wasio {
namespace {

bool allows(const std::string& rule, const std::string& addr, uint16_t port) {
  auto r = parse_socket_rule(rule);
  EXPECT_TRUE(r) << rule << ": " << (r ? "" : r.error());
  return r && r.value().matches(asio::ip::make_address(addr), port);
}

TEST(socket_rule, addresses_networks_and_ports) {
  EXPECT_TRUE(allows("127.0.0.1:8080", "127.0.0.1", 8080));
  EXPECT_FALSE(allows("127.0.0.1:8080", "127.0.0.1", 8081));
  EXPECT_FALSE(allows("127.0.0.1:8080", "127.0.0.2", 8080));
  EXPECT_TRUE(allows("10.0.0.0/8:*", "10.255.1.2", 1));
  EXPECT_FALSE(allows("10.0.0.0/8:*", "11.0.0.1", 1));
  EXPECT_TRUE(allows("10.1.2.3/12:*", "10.15.0.0", 0));  // host bits of the network are ignored
  EXPECT_FALSE(allows("10.1.2.3/12:*", "10.16.0.0", 0));
  EXPECT_TRUE(allows("[::1]:1000-2000", "::1", 1000));
  EXPECT_TRUE(allows("[::1]:1000-2000", "::1", 2000));
  EXPECT_FALSE(allows("[::1]:1000-2000", "::1", 2001));
  EXPECT_TRUE(allows("[fd00::]/8:*", "fdab::1", 5));
  EXPECT_FALSE(allows("[fd00::]/8:*", "fe80::1", 5));
  EXPECT_TRUE(allows("*:*", "8.8.8.8", 53));
  EXPECT_TRUE(allows("*:*", "::", 0));
  EXPECT_TRUE(allows("0.0.0.0/0:443", "1.2.3.4", 443));
}

TEST(socket_rule, port_zero_only_when_written) {
  EXPECT_FALSE(allows("127.0.0.1:1-65535", "127.0.0.1", 0));
  EXPECT_TRUE(allows("127.0.0.1:0", "127.0.0.1", 0));
  EXPECT_TRUE(allows("127.0.0.1:*", "127.0.0.1", 0));
}

TEST(socket_rule, v4_mapped_addresses_are_their_v4_ones) {
  EXPECT_TRUE(allows("127.0.0.1:80", "::ffff:127.0.0.1", 80));
  EXPECT_FALSE(allows("127.0.0.1:80", "::ffff:127.0.0.2", 80));
  EXPECT_FALSE(allows("[::1]:80", "127.0.0.1", 80));  // families do not mix otherwise
}

TEST(socket_rule, bad_rules_are_one_line_errors) {
  for (const char* bad : {"", "127.0.0.1", "localhost:80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x",
                          "127.0.0.1:9-8", "::1:80", "10.0.0.0/33:*", "[::1]/129:*", "1.2.3.4/:1", "[::1:*"}) {
    auto r = parse_socket_rule(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().find('\n'), std::string::npos);
    EXPECT_NE(r.error().find(bad), std::string::npos) << r.error();
  }
}

TEST(tcp_listen, listens_and_reports_bad_addresses) {
  auto fd = tcp_listen("127.0.0.1:0");
  ASSERT_TRUE(fd) << fd.error();
  ::close(fd.value());
  EXPECT_FALSE(tcp_listen("127.0.0.1"));
  EXPECT_FALSE(tcp_listen("nowhere:80"));
}

}  // namespace
}  // namespace wasio
