// socket_rule parsing and matching, tcp_listen (include/wasio/network.hpp).
#include "wasio/network.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "async/unique_fd.hpp"

namespace wasio {
namespace {

using text_result = outcome::result<std::string, std::string, outcome::policy::terminate>;

std::optional<unsigned> number(std::string_view s, unsigned max) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max) return std::nullopt;
  return v;
}

// Splits "ADDR:PORT" at the last colon; ADDR keeps its brackets.
bool split_host_port(std::string_view text, std::string_view* host, std::string_view* port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  *host = text.substr(0, colon);
  *port = text.substr(colon + 1);
  // An IPv6 address must be bracketed (a prefix may follow), so that its colons are not taken
  // for the port's.
  auto close = host->rfind(']');
  if (host->find(':') != std::string_view::npos &&
      !(host->starts_with('[') && close != std::string_view::npos && host->find(':', close) == std::string_view::npos)) {
    return false;
  }
  return true;
}

std::optional<asio::ip::address> parse_address(std::string_view s) {
  if (s.starts_with('[') && s.ends_with(']')) s = s.substr(1, s.size() - 2);
  asio::error_code ec;
  auto a = asio::ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return a;
}

asio::ip::address unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

// The address's bytes, network order (4 of them for IPv4).
std::array<uint8_t, 16> bytes_of(const asio::ip::address& a) {
  std::array<uint8_t, 16> b{};
  if (a.is_v4()) {
    auto v4 = a.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), b.begin());
  } else {
    b = a.to_v6().to_bytes();
  }
  return b;
}

}  // namespace

bool socket_rule::matches(const asio::ip::address& addr, uint16_t port) const {
  if (port < port_first || port > port_last) return false;
  if (any_address) return true;
  auto a = unmapped(addr);
  if (a.is_v4() != network.is_v4()) return false;
  auto want = bytes_of(network), have = bytes_of(a);
  for (unsigned bit = 0; bit < prefix; ++bit) {
    unsigned mask = 0x80u >> (bit % 8);
    if ((want[bit / 8] & mask) != (have[bit / 8] & mask)) return false;
  }
  return true;
}

outcome::result<socket_rule, std::string, outcome::policy::terminate> parse_socket_rule(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view host, ports;
  if (!split_host_port(text, &host, &ports)) {
    return quoted + " is not ADDR:PORT (e.g. 127.0.0.1:8080, [::1]:*, 10.0.0.0/8:1024-2047, *:*)";
  }
  socket_rule r;
  if (host == "*") {
    r.any_address = true;
  } else {
    std::string_view addr = host;
    std::optional<unsigned> prefix;
    if (auto slash = host.rfind('/'); slash != std::string_view::npos && !host.ends_with(']')) {
      addr = host.substr(0, slash);
      prefix = number(host.substr(slash + 1), 128);
      if (!prefix) return quoted + ": the prefix after '/' is not a number of bits";
    }
    auto a = parse_address(addr);
    if (!a) return quoted + ": '" + std::string(addr) + "' is not an IPv4 address or a bracketed IPv6 one";
    r.network = unmapped(*a);
    unsigned bits = r.network.is_v4() ? 32 : 128;
    if (prefix && *prefix > bits) return quoted + ": a prefix of " + std::to_string(*prefix) + " bits is longer than the address";
    r.prefix = prefix.value_or(bits);
  }
  if (ports != "*") {
    auto dash = ports.find('-');
    auto first = number(ports.substr(0, dash), 65535);
    auto last = dash == std::string_view::npos ? first : number(ports.substr(dash + 1), 65535);
    if (!first || !last || *first > *last) return quoted + ": '" + std::string(ports) + "' is not a port, a range FIRST-LAST, or *";
    r.port_first = static_cast<uint16_t>(*first);
    r.port_last = static_cast<uint16_t>(*last);
  }
  return r;
}

outcome::result<int, std::string, outcome::policy::terminate> tcp_listen(std::string_view addr_port, int backlog) {
  const std::string quoted = "'" + std::string(addr_port) + "'";
  std::string_view host, port;
  std::optional<unsigned> p;
  std::optional<asio::ip::address> a;
  if (!split_host_port(addr_port, &host, &port) || !(p = number(port, 65535)) || !(a = parse_address(host))) {
    return quoted + " is not ADDR:PORT with an IP address (e.g. 127.0.0.1:8080, [::1]:0)";
  }
  asio::ip::tcp::endpoint ep(*a, static_cast<uint16_t>(*p));
  async::unique_fd fd(::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd.get(), ep.data(), static_cast<socklen_t>(ep.size())) != 0 || ::listen(fd.get(), backlog) != 0) {
    return "cannot listen on " + quoted + ": " + std::strerror(errno);
  }
  return fd.release();
}

}  // namespace wasio
