// sock_* calls: preview1's four on sockets the host hands in, and the WasmEdge socket extension
// (sockets the guest opens, binds, connects and resolves), all suspending on the worker's reactor.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <optional>

#include "async/socket.hpp"
#include "src/wasi/wasi.hpp"
#include "async/idle.hpp"
#include "wasio/as_tuple.hpp"

namespace wasio::wasi {
namespace {

// The socket behind `fd`: badf when there is no such fd, notsock when it is not a socket,
// notcapable when it lacks `right`.
result<fd_entry*> socket_at(context& c, fd_t fd, uint64_t right) {
  WASIO_TRY(e, c.fds.get(fd));
  if (e->stat.type != filetype::socket_stream && e->stat.type != filetype::socket_dgram) return errc::notsock;
  if ((e->stat.rights_base & right) != right || !e->res->host_stream()) return errc::notcapable;
  return e;
}

// The host socket of a socket_at entry; it keeps the fd's resource alive while a call waits on
// it (the guest may close the fd meanwhile).
std::shared_ptr<async::host_stream> stream_of(const fd_entry& e) {
  return std::shared_ptr<async::host_stream>(e.res, e.res->host_stream());
}

// The host socket fd of a socket_at entry, for the calls that are the kernel's own.
int socket_fd(const fd_entry& e) { return e.res->host_stream()->native_handle(); }

bool waits(const fd_entry& e) { return !(e.stat.flags & fdflags::nonblock); }

}  // namespace

asio::awaitable<result<fd_t>> sock_accept(context& c, fd_t fd, uint16_t flags) {
  if (flags & ~fdflags::nonblock) co_return errc::inval;
  WASIO_CO_TRY(e, socket_at(c, fd, rights::sock_accept));
  auto listener = stream_of(*e);  // kept alive if the guest closes the fd while it waits
  async::accepted a = co_await async::accept(*listener, waits(*e));
  if (a.error) co_return from_host_errno(a.error);
  fd_entry conn = entry_for(host_resource(std::move(a.stream)));
  conn.stat.flags = flags;
  co_return c.fds.insert(std::move(conn));
}

namespace {

// sock_recv and sock_recv_from: `from` (may be null) gets the sender's address.
asio::awaitable<result<recv_result>> receive(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags,
                                             async::socket_address* from) {
  if (flags & ~(riflags::recv_peek | riflags::recv_waitall)) co_return errc::inval;
  WASIO_CO_TRY(e, socket_at(c, fd, rights::fd_read));
  int host_flags = ((flags & riflags::recv_peek) ? MSG_PEEK : 0) | ((flags & riflags::recv_waitall) ? MSG_WAITALL : 0);
  auto stream = stream_of(*e);  // kept alive if the guest closes the fd while it waits
  async::received r = co_await async::recv(*stream, clamp_iov(iov), host_flags, from, waits(*e));
  if (r.error) co_return from_host_errno(r.error);
  co_return recv_result{static_cast<size>(r.bytes), r.truncated ? roflags::recv_data_truncated : uint16_t{0}};
}

// sock_send and sock_send_to: to `to` if given, which must be allowed.
asio::awaitable<result<size>> transmit(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags,
                                       const async::socket_address* to) {
  if (flags != 0) co_return errc::inval;  // siflags defines no flags
  WASIO_CO_TRY(e, socket_at(c, fd, rights::fd_write));
  auto stream = stream_of(*e);
  async::io_result r = co_await async::send(*stream, clamp_iov(iov), to, waits(*e));
  if (r.error) co_return from_host_errno(r.error);
  co_return static_cast<size>(r.bytes);
}

}  // namespace

asio::awaitable<result<recv_result>> sock_recv(context& c, fd_t fd, std::span<const ::iovec> iov,
                                               uint16_t flags) {
  return receive(c, fd, iov, flags, nullptr);
}

asio::awaitable<result<size>> sock_send(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags) {
  return transmit(c, fd, iov, flags, nullptr);
}

result<void> sock_shutdown(context& c, fd_t fd, uint8_t how) {
  int host_how;
  switch (how) {
    case sdflags::rd: host_how = SHUT_RD; break;
    case sdflags::wr: host_how = SHUT_WR; break;
    case sdflags::rd | sdflags::wr: host_how = SHUT_RDWR; break;
    default: return errc::inval;
  }
  WASIO_TRY(e, socket_at(c, fd, rights::sock_shutdown));
  int h = socket_fd(*e);
  // Linux would stop a listening socket listening; it has no connection to shut down (as
  // wasi-go answers, for portability).
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(h, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) return errc::notconn;
  if (::shutdown(h, host_how) != 0) return from_host_errno(errno);
  return ok();
}

// ---- the WasmEdge socket extension ----------------------------------------------------------

namespace {

asio::ip::address ip_of(const sock_endpoint& e) {
  if (e.family == address_family::inet4) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(e.ip.begin(), 4, b.begin());
    return asio::ip::address_v4(b);
  }
  return asio::ip::address_v6(e.ip);
}

result<async::socket_address> to_host(const sock_endpoint& e) {
  if (e.family != address_family::inet4 && e.family != address_family::inet6) return errc::afnosupport;
  asio::ip::tcp::endpoint ep(ip_of(e), e.port);
  async::socket_address a;
  std::memcpy(&a.storage, ep.data(), ep.size());
  a.len = static_cast<socklen_t>(ep.size());
  return a;
}

// The endpoint of a host address; family unspec for anything but IPv4 and IPv6.
sock_endpoint from_host(const ::sockaddr_storage& s) {
  sock_endpoint e;
  if (s.ss_family == AF_INET) {
    auto& in = reinterpret_cast<const ::sockaddr_in&>(s);
    e.family = address_family::inet4;
    std::memcpy(e.ip.data(), &in.sin_addr, 4);
    e.port = ntohs(in.sin_port);
  } else if (s.ss_family == AF_INET6) {
    auto& in6 = reinterpret_cast<const ::sockaddr_in6&>(s);
    e.family = address_family::inet6;
    std::memcpy(e.ip.data(), &in6.sin6_addr, 16);
    e.port = ntohs(in6.sin6_port);
  }
  return e;
}

// acces unless one of `rules` holds `e`.
result<void> allowed(const std::vector<socket_rule>& rules, const sock_endpoint& e) {
  auto ip = ip_of(e);
  for (const auto& r : rules) {
    if (r.matches(ip, e.port)) return ok();
  }
  return errc::acces;
}

// getsockname or getpeername, as an endpoint.
result<sock_endpoint> socket_name(context& c, fd_t fd, bool peer) {
  WASIO_TRY(e, socket_at(c, fd, 0));
  ::sockaddr_storage s{};
  socklen_t len = sizeof s;
  int h = socket_fd(*e);
  if ((peer ? ::getpeername(h, reinterpret_cast<::sockaddr*>(&s), &len)
            : ::getsockname(h, reinterpret_cast<::sockaddr*>(&s), &len)) != 0) {
    return from_host_errno(errno);
  }
  sock_endpoint ep = from_host(s);
  if (ep.family == address_family::unspec) return errc::notsup;
  return ep;
}

// The host level and name of an option; notsup for those wasio does not offer.
result<std::pair<int, int>> host_option(uint32_t level, uint32_t name) {
  if (level == sockopt::sol_tcp) {
    if (name == sockopt::tcp_nodelay) return std::pair{IPPROTO_TCP, TCP_NODELAY};
    return errc::inval;
  }
  if (level != sockopt::sol_socket) return errc::inval;
  switch (name) {
    case sockopt::reuseaddr: return std::pair{SOL_SOCKET, SO_REUSEADDR};
    case sockopt::type: return std::pair{SOL_SOCKET, SO_TYPE};
    case sockopt::error: return std::pair{SOL_SOCKET, SO_ERROR};
    case sockopt::dontroute: return std::pair{SOL_SOCKET, SO_DONTROUTE};
    case sockopt::broadcast: return std::pair{SOL_SOCKET, SO_BROADCAST};
    case sockopt::sndbuf: return std::pair{SOL_SOCKET, SO_SNDBUF};
    case sockopt::rcvbuf: return std::pair{SOL_SOCKET, SO_RCVBUF};
    case sockopt::keepalive: return std::pair{SOL_SOCKET, SO_KEEPALIVE};
    case sockopt::oobinline: return std::pair{SOL_SOCKET, SO_OOBINLINE};
    case sockopt::rcvlowat: return std::pair{SOL_SOCKET, SO_RCVLOWAT};
    case sockopt::acceptconn: return std::pair{SOL_SOCKET, SO_ACCEPTCONN};
    case sockopt::linger:
    case sockopt::rcvtimeo:
    case sockopt::sndtimeo:
    case sockopt::bindtodevice: return errc::notsup;
    default: return errc::inval;
  }
}

}  // namespace

result<fd_t> sock_open(context& c, address_family af, sock_type type) {
  if (!c.net.enabled()) return errc::notcapable;
  int family = af == address_family::inet4 ? AF_INET : af == address_family::inet6 ? AF_INET6 : -1;
  if (family < 0) return af == address_family::unspec ? errc::inval : errc::afnosupport;
  int host_type = type == sock_type::stream ? SOCK_STREAM : type == sock_type::dgram ? SOCK_DGRAM : -1;
  if (host_type < 0) return errc::inval;
  int err = 0;
  auto s = async::open_socket(c.executor, family, host_type, &err);
  if (!s) return from_host_errno(err);
  return c.fds.insert(entry_for(host_resource(std::move(s))));
}

result<void> sock_bind(context& c, fd_t fd, const sock_endpoint& addr) {
  WASIO_TRY(e, socket_at(c, fd, 0));
  WASIO_TRY(host, to_host(addr));
  if (auto a = allowed(c.net.allow_bind, addr); !a) return a;
  if (::bind(socket_fd(*e), host.get(), host.len) != 0) return from_host_errno(errno);
  return ok();
}

result<void> sock_listen(context& c, fd_t fd, uint32_t backlog) {
  WASIO_TRY(e, socket_at(c, fd, 0));
  WASIO_TRY(local, socket_name(c, fd, false));
  // listen() on an unbound socket binds it to an ephemeral port of every address.
  if (local.port == 0) {
    if (auto a = allowed(c.net.allow_bind, sock_endpoint{local.family, {}, 0}); !a) return a;
  }
  int n = static_cast<int>(std::min<uint32_t>(backlog, SOMAXCONN));
  if (::listen(socket_fd(*e), n) != 0) return from_host_errno(errno);
  return ok();
}

asio::awaitable<result<void>> sock_connect(context& c, fd_t fd, const sock_endpoint& addr) {
  WASIO_CO_TRY(e, socket_at(c, fd, 0));
  WASIO_CO_TRY(host, to_host(addr));
  if (auto a = allowed(c.net.allow_connect, addr); !a) co_return a;
  auto stream = stream_of(*e);
  int err = co_await async::connect(*stream, host, waits(*e));
  if (err) co_return from_host_errno(err);
  co_return ok();
}

asio::awaitable<result<recv_from_result>> sock_recv_from(context& c, fd_t fd, std::span<const ::iovec> iov,
                                                         uint16_t flags) {
  async::socket_address from;
  WASIO_CO_TRY(r, co_await receive(c, fd, iov, flags, &from));
  ::sockaddr_storage none{};  // a connected stream reports no sender
  co_return recv_from_result{r, from_host(from.len > 0 ? from.storage : none)};
}

asio::awaitable<result<size>> sock_send_to(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags,
                                           const sock_endpoint& addr) {
  WASIO_CO_TRY(host, to_host(addr));
  if (auto a = allowed(c.net.allow_connect, addr); !a) co_return a.error();
  co_return co_await transmit(c, fd, iov, flags, &host);
}

result<sock_endpoint> sock_getlocaladdr(context& c, fd_t fd) { return socket_name(c, fd, false); }
result<sock_endpoint> sock_getpeeraddr(context& c, fd_t fd) { return socket_name(c, fd, true); }

result<int32_t> sock_getsockopt(context& c, fd_t fd, uint32_t level, uint32_t name) {
  WASIO_TRY(e, socket_at(c, fd, 0));
  WASIO_TRY(opt, host_option(level, name));
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(socket_fd(*e), opt.first, opt.second, &v, &len) != 0) return from_host_errno(errno);
  if (level == sockopt::sol_socket && name == sockopt::type) {
    return static_cast<int32_t>(v == SOCK_DGRAM ? sock_type::dgram : sock_type::stream);
  }
  if (level == sockopt::sol_socket && name == sockopt::error) return static_cast<int32_t>(from_host_errno(v));
  return v;
}

result<void> sock_setsockopt(context& c, fd_t fd, uint32_t level, uint32_t name, std::span<const std::byte> value) {
  WASIO_TRY(e, socket_at(c, fd, 0));
  WASIO_TRY(opt, host_option(level, name));
  int v = 0;
  if (value.size() != sizeof v) return errc::inval;
  std::memcpy(&v, value.data(), sizeof v);
  if (::setsockopt(socket_fd(*e), opt.first, opt.second, &v, sizeof v) != 0) return from_host_errno(errno);
  return ok();
}

namespace {

errc from_resolver_error(const asio::error_code& ec) {
  if (ec == asio::error::host_not_found || ec == asio::error::no_data) return errc::noent;
  if (ec == asio::error::host_not_found_try_again) return errc::again;
  if (ec == asio::error::service_not_found) return errc::inval;
  if (ec == asio::error::address_family_not_supported) return errc::afnosupport;
  if (ec == asio::error::socket_type_not_supported) return errc::notsup;
  if (ec == asio::error::operation_aborted) return errc::canceled;
  return errc::io;
}

// Resolves with Protocol's resolver (tcp or udp: it sets the hint's socket type), of one IP
// version if `version` is given.
template <class Protocol>
asio::awaitable<result<std::vector<addrinfo_entry>>> resolve(const std::string& node, const std::string& service,
                                                             std::optional<Protocol> version,
                                                             asio::ip::resolver_base::flags flags, size_t max,
                                                             addrinfo_entry shape) {
  // The lookup (a blocking getaddrinfo on Asio's resolver thread) cannot be interrupted, and
  // the resolver's cancel() only discards its result once it comes. So the guest waits on a
  // timer that the lookup's completion cancels: stopping the guest does not wait for a slow
  // name server. A lookup left behind finishes into `st`, which it keeps alive.
  using results = typename Protocol::resolver::results_type;
  struct state {
    explicit state(const asio::any_io_executor& ex) : resolver(ex), done(ex, asio::steady_timer::time_point::max()) {}
    typename Protocol::resolver resolver;
    asio::steady_timer done;
    std::optional<std::pair<asio::error_code, results>> got;
  };
  auto st = std::make_shared<state>(co_await asio::this_coro::executor);
  auto finish = [st](asio::error_code ec, results r) {
    st->got.emplace(ec, std::move(r));
    st->done.cancel();
  };
  if (version) {
    st->resolver.async_resolve(*version, node, service, flags, finish);
  } else {
    st->resolver.async_resolve(node, service, flags, finish);
  }
  {
    async::idle_wait idle;  // the lookup's results go to `st`
    (void)co_await st->done.async_wait(wasio::as_tuple(asio::use_awaitable));
  }
  if (!st->got) co_return errc::canceled;  // the guest is being stopped
  auto& [ec, found] = *st->got;
  if (ec) co_return from_resolver_error(ec);
  std::vector<addrinfo_entry> out;
  for (const auto& r : found) {
    if (out.size() >= max) break;
    ::sockaddr_storage s{};
    std::memcpy(&s, r.endpoint().data(), r.endpoint().size());
    shape.addr = from_host(s);
    out.push_back(shape);
  }
  co_return out;
}

}  // namespace

asio::awaitable<result<std::vector<addrinfo_entry>>> sock_getaddrinfo(context& c, std::string node,
                                                                      std::string service, addrinfo_hints hints,
                                                                      size_t max) {
  if (!c.net.enabled()) co_return errc::notcapable;
  if ((node.empty() && service.empty()) || max == 0) co_return errc::inval;
  if (hints.flags & ~(aiflags::passive | aiflags::canonname | aiflags::numerichost | aiflags::numericserv |
                      aiflags::v4mapped | aiflags::all | aiflags::addrconfig)) {
    co_return errc::inval;
  }
  if (hints.family != address_family::unspec && hints.family != address_family::inet4 &&
      hints.family != address_family::inet6) {
    co_return errc::afnosupport;
  }
  using rb = asio::ip::resolver_base;
  int f = 0;
  for (auto [wasi_flag, asio_flag] : {std::pair{aiflags::passive, rb::passive}, {aiflags::canonname, rb::canonical_name},
                                      {aiflags::numerichost, rb::numeric_host}, {aiflags::numericserv, rb::numeric_service},
                                      {aiflags::v4mapped, rb::v4_mapped}, {aiflags::all, rb::all_matching},
                                      {aiflags::addrconfig, rb::address_configured}}) {
    if (hints.flags & wasi_flag) f |= asio_flag;
  }
  auto flags = static_cast<rb::flags>(f);
  bool v6 = hints.family == address_family::inet6;
  bool any_family = hints.family == address_family::unspec;
  // A datagram type or the UDP protocol asks for datagram results; anything else, stream ones.
  if (hints.type == sock_type::dgram || hints.proto == protocol::udp) {
    if (hints.type == sock_type::stream || hints.proto == protocol::tcp) co_return errc::inval;
    auto version = any_family ? std::nullopt : std::optional(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4());
    co_return co_await resolve<asio::ip::udp>(node, service, version, flags, max,
                                              {sock_type::dgram, protocol::udp, {}});
  }
  auto version = any_family ? std::nullopt : std::optional(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
  co_return co_await resolve<asio::ip::tcp>(node, service, version, flags, max,
                                            {sock_type::stream, protocol::tcp, {}});
}

}  // namespace wasio::wasi
