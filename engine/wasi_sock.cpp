// Thunks: sock_* (preview1's four, and the WasmEdge socket extension's v2 functions).
// Every out-pointer is checked before the call: data taken from a socket (or a connection
// accepted) must not be lost to a bad result pointer.
#include <string>

#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

// ---- preview1 ---------------------------------------------------------------------------------

// (fd, flags, fd_out); the WasmEdge extension's v1 has no flags: (fd, fd_out).
asio::awaitable<errc> sock_accept(call c, uint32_t fd, uint32_t flags_or_v1_out, std::optional<uint32_t> fd_ptr) {
  uint32_t flags = fd_ptr ? flags_or_v1_out : 0;
  WASIO_CO_TRY_ERRC(out, c.mem().out<uint32_t>(fd_ptr.value_or(flags_or_v1_out)));
  if (flags > 0xffff) co_return errc::inval;
  WASIO_CO_TRY_ERRC(nfd, co_await wasi::sock_accept(c.ctx(), fd, static_cast<uint16_t>(flags)));
  out.set(nfd);
  co_return errc::success;
}

// sock_recv and sock_recv_from: decode, receive, store the count and roflags (as a u16 or a
// u32), and for sock_recv_from the sender's address and (v2) port.
asio::awaitable<errc> receive(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t riflags,
                              uint32_t nread_ptr, guest_memory::slot<uint16_t>* ro16, guest_memory::slot<uint32_t>* ro32,
                              std::optional<uint32_t> addr_ptr, std::optional<uint32_t> port_ptr) {
  WASIO_CO_TRY_ERRC(nread, c.mem().out<uint32_t>(nread_ptr));
  std::optional<layout::address_out> from;
  std::optional<guest_memory::slot<uint32_t>> port;
  if (addr_ptr) {
    WASIO_CO_TRY_ERRC(a, layout::check_address_out(c.mem(), *addr_ptr));
    from = a;
  }
  if (port_ptr) {
    WASIO_CO_TRY_ERRC(p, c.mem().out<uint32_t>(*port_ptr));
    port = p;
  }
  layout::iovecs iov;
  if (auto d = layout::decode_iovecs(c.mem(), iovs, iovs_len, iov); !d) co_return d.error();
  if (riflags > 0xffff) co_return errc::inval;
  std::span<const ::iovec> v{iov.data(), iov.size()};
  wasi::recv_result r{};
  if (from) {
    WASIO_CO_TRY_ERRC(got, co_await wasi::sock_recv_from(c.ctx(), fd, v, static_cast<uint16_t>(riflags)));
    from->set(got.from);
    if (port) port->set(got.from.port);
    r = got.r;
  } else {
    WASIO_CO_TRY_ERRC(got, co_await wasi::sock_recv(c.ctx(), fd, v, static_cast<uint16_t>(riflags)));
    r = got;
  }
  nread.set(r.bytes);
  if (ro16) ro16->set(r.flags);
  if (ro32) ro32->set(r.flags);
  co_return errc::success;
}

// roflags is a u16 in the witx; written as such, so that a wasi-libc guest's stack next to it
// is left alone.
asio::awaitable<errc> sock_recv(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t riflags,
                                uint32_t nread_ptr, uint32_t roflags_ptr) {
  WASIO_CO_TRY_ERRC(ro, c.mem().out<uint16_t>(roflags_ptr));
  co_return co_await receive(c, fd, iovs, iovs_len, riflags, nread_ptr, &ro, nullptr, std::nullopt, std::nullopt);
}

// sock_send and sock_send_to.
asio::awaitable<errc> transmit(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t siflags,
                               uint32_t nwritten_ptr, std::optional<wasi::sock_endpoint> to) {
  WASIO_CO_TRY_ERRC(nwritten, c.mem().out<uint32_t>(nwritten_ptr));
  layout::iovecs iov;
  if (auto d = layout::decode_iovecs(c.mem(), iovs, iovs_len, iov); !d) co_return d.error();
  if (siflags > 0xffff) co_return errc::inval;
  std::span<const ::iovec> v{iov.data(), iov.size()};
  auto flags = static_cast<uint16_t>(siflags);
  result<wasi::size> n = errc::io;
  if (to) {
    n = co_await wasi::sock_send_to(c.ctx(), fd, v, flags, *to);
  } else {
    n = co_await wasi::sock_send(c.ctx(), fd, v, flags);
  }
  if (!n) co_return n.error();
  nwritten.set(n.value());
  co_return errc::success;
}

asio::awaitable<errc> sock_send(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t siflags,
                                uint32_t nwritten_ptr) {
  return transmit(c, fd, iovs, iovs_len, siflags, nwritten_ptr, std::nullopt);
}

errc sock_shutdown(call c, uint32_t fd, uint32_t how) {
  if (how > 0xff) return errc::inval;
  return status(wasi::sock_shutdown(c.ctx(), fd, static_cast<uint8_t>(how)));
}

// ---- the WasmEdge socket extension ----------------------------------------------------------
// Signatures from stealthrocket/wasi-go imports/wasi_snapshot_preview1/wasmedge.go (WasmEdgeV2)
// and WasmEdge lib/host/wasi/wasifunc.cpp (the *_v2 bodies). Where v1 differs in its parameter
// count (sock_accept, sock_recv_from, sock_getlocaladdr, sock_getpeeraddr), the thunk serves
// both, told apart by the count each import was declared with, as WasmEdge links them: the
// Rust crate wasmedge_wasi_socket 0.5 mixes v1 and v2 in one module.

errc sock_open(call c, uint32_t af, uint32_t type, uint32_t fd_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint32_t>(fd_ptr));
  if (af > 0xff || type > 0xff) return errc::inval;
  WASIO_TRY_ERRC(fd, wasi::sock_open(c.ctx(), static_cast<wasi::address_family>(af), static_cast<wasi::sock_type>(type)));
  out.set(fd);
  return errc::success;
}

errc sock_bind(call c, uint32_t fd, uint32_t addr_ptr, uint32_t port) {
  WASIO_TRY_ERRC(addr, layout::decode_address(c.mem(), addr_ptr, port));
  return status(wasi::sock_bind(c.ctx(), fd, addr));
}

errc sock_listen(call c, uint32_t fd, uint32_t backlog) { return status(wasi::sock_listen(c.ctx(), fd, backlog)); }

asio::awaitable<errc> sock_connect(call c, uint32_t fd, uint32_t addr_ptr, uint32_t port) {
  WASIO_CO_TRY_ERRC(addr, layout::decode_address(c.mem(), addr_ptr, port));
  co_return status(co_await wasi::sock_connect(c.ctx(), fd, addr));
}

// v2: (fd, iovs, iovs_len, addr, riflags, port_out, nread_out, roflags_out); v1 has no port_out
// (7 parameters, and a 16-byte address buffer). roflags as a u32, as wasi-go writes it and the
// extension's guests (the Rust crate, timecraft) allocate it.
asio::awaitable<errc> sock_recv_from(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t addr_ptr,
                                     uint32_t riflags, uint32_t a, uint32_t b, std::optional<uint32_t> v2_roflags) {
  if (!v2_roflags) {  // v1: (…, nread_out = a, roflags_out = b); the port goes nowhere
    WASIO_CO_TRY_ERRC(ro, c.mem().out<uint32_t>(b));
    co_return co_await receive(c, fd, iovs, iovs_len, riflags, a, nullptr, &ro, addr_ptr, std::nullopt);
  }
  WASIO_CO_TRY_ERRC(ro, c.mem().out<uint32_t>(*v2_roflags));
  co_return co_await receive(c, fd, iovs, iovs_len, riflags, b, nullptr, &ro, addr_ptr, a);
}

asio::awaitable<errc> sock_send_to(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t addr_ptr,
                                   uint32_t port, uint32_t siflags, uint32_t nwritten_ptr) {
  WASIO_CO_TRY_ERRC(addr, layout::decode_address(c.mem(), addr_ptr, port));
  co_return co_await transmit(c, fd, iovs, iovs_len, siflags, nwritten_ptr, addr);
}

// v2: (fd, addr, port_out); v1: (fd, addr, addr_type_out, port_out), addr_type 4 or 6 (not the
// family enum: WasmEdge's "workaround", which wasi-go repeats).
errc socket_name(call c, uint32_t fd, uint32_t addr_ptr, uint32_t a, std::optional<uint32_t> v1_port, bool peer) {
  WASIO_TRY_ERRC(addr, layout::check_address_out(c.mem(), addr_ptr));
  WASIO_TRY_ERRC(port, c.mem().out<uint32_t>(v1_port.value_or(a)));
  std::optional<guest_memory::slot<uint32_t>> type;
  if (v1_port) {
    WASIO_TRY_ERRC(t, c.mem().out<uint32_t>(a));
    type = t;
  }
  WASIO_TRY_ERRC(ep, peer ? wasi::sock_getpeeraddr(c.ctx(), fd) : wasi::sock_getlocaladdr(c.ctx(), fd));
  addr.set(ep);
  port.set(ep.port);
  if (type) type->set(ep.family == wasi::address_family::inet4 ? 4 : 6);
  return errc::success;
}

errc sock_getlocaladdr(call c, uint32_t fd, uint32_t addr_ptr, uint32_t a, std::optional<uint32_t> v1_port) {
  return socket_name(c, fd, addr_ptr, a, v1_port, false);
}
errc sock_getpeeraddr(call c, uint32_t fd, uint32_t addr_ptr, uint32_t a, std::optional<uint32_t> v1_port) {
  return socket_name(c, fd, addr_ptr, a, v1_port, true);
}

// The fifth parameter is the value's length in wasi-go (it must be 4), and a pointer to an
// in/out length in WasmEdge and the Rust crate. 4 is taken as the length (no guest keeps a
// length at address 4); anything else as the pointer, which must hold at least 4.
errc sock_getsockopt(call c, uint32_t fd, uint32_t level, uint32_t name, uint32_t value_ptr, uint32_t len) {
  WASIO_TRY_ERRC(value, c.mem().out<int32_t>(value_ptr));
  std::optional<guest_memory::slot<uint32_t>> len_out;
  if (len != 4) {
    WASIO_TRY_ERRC(room, c.mem().load<uint32_t>(len));
    if (room < 4) return errc::inval;
    WASIO_TRY_ERRC(slot, c.mem().out<uint32_t>(len));
    len_out = slot;
  }
  WASIO_TRY_ERRC(v, wasi::sock_getsockopt(c.ctx(), fd, level, name));
  value.set(v);
  if (len_out) len_out->set(4);
  return errc::success;
}

errc sock_setsockopt(call c, uint32_t fd, uint32_t level, uint32_t name, uint32_t value_ptr, uint32_t len) {
  WASIO_TRY_ERRC(value, c.mem().bytes(value_ptr, len));
  return status(wasi::sock_setsockopt(c.ctx(), fd, level, name, value));
}

// A string argument: the guest's bytes, less trailing NULs (the Rust crate counts one in the
// length, timecraft does not). inval for a NUL inside.
result<std::string> string_arg(const guest_memory& m, uint32_t ptr, uint32_t len) {
  WASIO_TRY(s, layout::guest_string(m, ptr, len));
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  if (s.find('\0') != std::string_view::npos) return errc::inval;
  return std::string(s);
}

// (node, node_len, service, service_len, hints, res, max_res_len, res_len_out): *res is the
// guest's first pre-linked result node. A null `hints` asks for anything.
asio::awaitable<errc> sock_getaddrinfo(call c, uint32_t node_ptr, uint32_t node_len, uint32_t service_ptr,
                                       uint32_t service_len, uint32_t hints_ptr, uint32_t res_ptr, uint32_t max,
                                       uint32_t count_ptr) {
  WASIO_CO_TRY_ERRC(count, c.mem().out<uint32_t>(count_ptr));
  WASIO_CO_TRY_ERRC(head, c.mem().load<uint32_t>(res_ptr));
  WASIO_CO_TRY_ERRC(node, string_arg(c.mem(), node_ptr, node_len));
  WASIO_CO_TRY_ERRC(service, string_arg(c.mem(), service_ptr, service_len));
  wasi::addrinfo_hints hints;
  if (hints_ptr != 0) {
    WASIO_CO_TRY_ERRC(h, layout::decode_hints(c.mem(), hints_ptr));
    hints = h;
  }
  WASIO_CO_TRY_ERRC(found, co_await wasi::sock_getaddrinfo(c.ctx(), std::move(node), std::move(service), hints, max));
  uint32_t n = 0;
  for (uint32_t at = head; n < found.size() && at != 0; ++n) {
    WASIO_CO_TRY_ERRC(next, layout::encode_addrinfo(c.mem(), at, found[n]));
    at = next;
  }
  count.set(n);
  co_return errc::success;
}

constexpr import_row rows[] = {
    row<"sock_accept", &sock_accept>(),
    row<"sock_recv", &sock_recv>(),
    row<"sock_send", &sock_send>(),
    row<"sock_shutdown", &sock_shutdown>(),
    row<"sock_open", &sock_open>(),
    row<"sock_bind", &sock_bind>(),
    row<"sock_listen", &sock_listen>(),
    row<"sock_connect", &sock_connect>(),
    row<"sock_recv_from", &sock_recv_from>(),
    row<"sock_send_to", &sock_send_to>(),
    row<"sock_getlocaladdr", &sock_getlocaladdr>(),
    row<"sock_getpeeraddr", &sock_getpeeraddr>(),
    row<"sock_getsockopt", &sock_getsockopt>(),
    row<"sock_setsockopt", &sock_setsockopt>(),
    row<"sock_getaddrinfo", &sock_getaddrinfo>(),
    // WasmEdge also registers v2 under these names, which its own examples import
    // (lib/host/wasi/wasimodule.cpp; examples/capi/unix_domain_socket/wrapper.h).
    row<"sock_open_v2", &sock_open>(),
    row<"sock_bind_v2", &sock_bind>(),
    row<"sock_connect_v2", &sock_connect>(),
    row<"sock_listen_v2", &sock_listen>(),
    row<"sock_accept_v2", &sock_accept>(),
    row<"sock_recv_v2", &sock_recv>(),
    row<"sock_recv_from_v2", &sock_recv_from>(),
    row<"sock_send_v2", &sock_send>(),
    row<"sock_send_to_v2", &sock_send_to>(),
    row<"sock_getlocaladdr_v2", &sock_getlocaladdr>(),
    row<"sock_getpeeraddr_v2", &sock_getpeeraddr>(),
};

}  // namespace

std::span<const import_row> sock_rows() { return rows; }

}  // namespace wasio::engine
