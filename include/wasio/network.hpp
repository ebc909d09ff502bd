// What network a guest may use. A guest gets none unless the embedder allows it: no socket
// can be opened, and no name resolved, while both allow-lists are empty; bind and listen are
// checked against allow_bind, connect and send-to against allow_connect (a denied address is
// `acces`). Listening sockets handed in (`listeners`) need no rule: the embedder chose them.
#pragma once
#include <asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasio/result.hpp"

namespace wasio {

// A set of socket addresses: an address or network (or any) and a port range (or any).
struct socket_rule {
  bool any_address = false;
  asio::ip::address network;  // unless any_address
  unsigned prefix = 0;        // leading bits of `network` that must match
  uint16_t port_first = 0, port_last = 65535;

  // Whether `addr`:`port` is in the set; an IPv4-mapped IPv6 address counts as its IPv4 one.
  bool matches(const asio::ip::address& addr, uint16_t port) const;
};

// Parses "ADDR:PORTS": ADDR is `*`, an IPv4 address or `[IPv6]`, either with an optional
// `/prefix`; PORTS is `*`, a port or `first-last`. Port 0 (the kernel picks one) is in a range
// only if written. Examples: "127.0.0.1:8080", "10.0.0.0/8:*", "[::1]:1024-65535", "*:*".
// Errors are one-line messages.
outcome::result<socket_rule, std::string, outcome::policy::terminate> parse_socket_rule(std::string_view text);

struct network {
  // Listening sockets the guest gets as fds after its preopened directories, in order (as
  // wasmtime's --tcplisten). Each stays the embedder's: the guest gets a duplicate. wasio
  // makes them non-blocking, so several guests can accept on one.
  std::vector<int> listeners;
  std::vector<socket_rule> allow_bind;
  std::vector<socket_rule> allow_connect;

  bool enabled() const { return !allow_bind.empty() || !allow_connect.empty(); }
};

// A TCP socket listening on "ADDR:PORT" (an IPv4 address or [IPv6]; port 0 for any), for
// network::listeners: a host fd the caller owns. Errors are one-line messages.
outcome::result<int, std::string, outcome::policy::terminate> tcp_listen(std::string_view addr_port, int backlog = 1024);

}  // namespace wasio
