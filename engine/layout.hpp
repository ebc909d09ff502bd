// Guest-memory layouts of the preview1 records (wasm32: pointers and sizes are u32, records are
// little-endian with C alignment). Offsets from the witx; checked by tests/unit/layout_test.cpp.
#pragma once
#include <sys/uio.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <climits>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/memory.hpp"
#include "src/wasi/abi.hpp"

namespace wasio::engine::layout {

// iovec / ciovec: {u32 buf, u32 buf_len}
inline constexpr uint32_t iovec_size = 8;
// fdstat: u8 fs_filetype @0, u16 fs_flags @2, u64 rights_base @8, u64 rights_inheriting @16
inline constexpr uint32_t fdstat_size = 24;
// prestat: u8 tag @0 (0 = dir), u32 pr_name_len @4
inline constexpr uint32_t prestat_size = 8;

// filestat, preview1: dev u64 @0, ino u64 @8, filetype u8 @16, nlink u64 @24, size u64 @32,
// atim @40, mtim @48, ctim @56 (64 bytes). wasi_unstable had a u32 nlink @20, so everything
// after it is 8 bytes earlier (56 bytes).
struct filestat_layout {
  uint32_t size, nlink, nlink_bytes, st_size, atim, mtim, ctim;
};
inline constexpr filestat_layout preview1_filestat{64, 24, 8, 32, 40, 48, 56};
inline constexpr filestat_layout snapshot0_filestat{56, 20, 4, 24, 32, 40, 48};

inline errc store_filestat(const guest_memory& m, uint32_t ptr, const wasi::filestat& st, const filestat_layout& l) {
  auto out = m.bytes(ptr, l.size);
  if (!out) return out.error();
  std::byte rec[64] = {};
  std::memcpy(rec, &st.dev, 8);
  std::memcpy(rec + 8, &st.ino, 8);
  rec[16] = static_cast<std::byte>(st.type);
  std::memcpy(rec + l.nlink, &st.nlink, l.nlink_bytes);  // little-endian: the low bytes
  std::memcpy(rec + l.st_size, &st.size, 8);
  std::memcpy(rec + l.atim, &st.atim, 8);
  std::memcpy(rec + l.mtim, &st.mtim, 8);
  std::memcpy(rec + l.ctim, &st.ctim, 8);
  std::memcpy(out.value().data(), rec, l.size);
  return errc::success;
}
// subscription: u64 userdata @0, u8 tag @8, then the variant @16:
//   clock: u32 id @16, u64 timeout @24, u64 precision @32, u16 flags @40
//   fd_readwrite: u32 fd @16
// wasi_unstable (snapshot 0) put a u64 `identifier` first in the clock variant, which moves
// the clock fields by 8 and makes the record 56 bytes (legacy/preview0 typenames.witx).
struct subscription_layout {
  uint32_t size, clock_id, timeout, precision, flags;
};
inline constexpr subscription_layout preview1_subscription{48, 16, 24, 32, 40};
inline constexpr subscription_layout snapshot0_subscription{56, 24, 32, 40, 48};
inline constexpr uint32_t subscription_size = preview1_subscription.size;
// event: u64 userdata @0, u16 error @8, u8 type @10, fd_readwrite: u64 nbytes @16, u16 flags @24
inline constexpr uint32_t event_size = 32;

// A guest string (ptr, len) as a view into its memory.
inline result<std::string_view> guest_string(const guest_memory& m, uint32_t ptr, uint32_t len) {
  WASIO_TRY(b, m.bytes(ptr, len));
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Host iovecs pointing into guest memory. Most calls pass one or two.
using iovecs = boost::container::small_vector<::iovec, 4>;

// Decodes `count` iovecs at `ptr` into `out`; fault if the array or any buffer decoded leaves
// guest memory. Only the first IOV_MAX are decoded: the host transfers no more in one call (a
// short transfer is a valid answer), and a guest's count must not decide the host's memory and
// time (134M empty iovecs once cost 2.1 GB). (An out-parameter: the vector's inline storage is
// not copied on return.)
inline result<void> decode_iovecs(const guest_memory& m, uint32_t ptr, uint32_t count, iovecs& out) {
  WASIO_TRY(arr, m.bytes(ptr, uint64_t{count} * iovec_size));
  count = std::min<uint32_t>(count, IOV_MAX);
  out.clear();
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t buf, len;
    std::memcpy(&buf, arr.data() + i * iovec_size, 4);
    std::memcpy(&len, arr.data() + i * iovec_size + 4, 4);
    WASIO_TRY(b, m.bytes(buf, len));
    out.push_back(::iovec{b.data(), b.size()});
  }
  return ok();
}

inline result<void> encode_fdstat(const guest_memory& m, uint32_t ptr, const wasi::fdstat& s) {
  uint8_t rec[fdstat_size] = {};
  rec[0] = static_cast<uint8_t>(s.type);
  std::memcpy(rec + 2, &s.flags, 2);
  std::memcpy(rec + 8, &s.rights_base, 8);
  std::memcpy(rec + 16, &s.rights_inheriting, 8);
  WASIO_TRY(out, m.bytes(ptr, fdstat_size));
  std::memcpy(out.data(), rec, fdstat_size);
  return ok();
}

// Decodes one subscription; inval for an unknown tag.
inline result<wasi::subscription> decode_subscription(const std::byte* p,
                                                      const subscription_layout& l = preview1_subscription) {
  wasi::subscription s;
  std::memcpy(&s.user, p, 8);
  uint8_t tag = static_cast<uint8_t>(p[8]);
  if (tag > static_cast<uint8_t>(wasi::eventtype::fd_write)) return errc::inval;
  s.type = static_cast<wasi::eventtype>(tag);
  if (s.type == wasi::eventtype::clock) {
    std::memcpy(&s.clock_id, p + l.clock_id, 4);
    std::memcpy(&s.timeout, p + l.timeout, 8);
    std::memcpy(&s.precision, p + l.precision, 8);
    std::memcpy(&s.clock_flags, p + l.flags, 2);
  } else {
    std::memcpy(&s.fd, p + 16, 4);
  }
  return s;
}

inline void encode_event(std::byte* p, const wasi::event& e) {
  std::memset(p, 0, event_size);
  std::memcpy(p, &e.user, 8);
  std::memcpy(p + 8, &e.error, 2);
  p[10] = static_cast<std::byte>(e.type);
  if (e.type != wasi::eventtype::clock) {
    std::memcpy(p + 16, &e.nbytes, 8);
    std::memcpy(p + 24, &e.flags, 2);
  }
}

// args_get / environ_get: `list.size()` u32 pointers at argv_ptr, each to its NUL-terminated
// string packed into the buffer at buf_ptr (`buf_bytes` long, string_list_sizes_of's count).
// fault if either array leaves guest memory; nothing is written then.
inline result<void> encode_string_list(const guest_memory& m, const std::vector<std::string>& list, uint32_t buf_bytes,
                                       uint32_t argv_ptr, uint32_t buf_ptr) {
  WASIO_TRY(ptrs, m.bytes(argv_ptr, uint64_t{list.size()} * 4));
  WASIO_TRY(buf, m.bytes(buf_ptr, buf_bytes));
  uint32_t at = buf_ptr;
  std::byte* out = buf.data();
  for (size_t i = 0; i < list.size(); ++i) {
    std::memcpy(ptrs.data() + 4 * i, &at, 4);
    std::memcpy(out, list[i].c_str(), list[i].size() + 1);
    out += list[i].size() + 1;
    at += static_cast<uint32_t>(list[i].size() + 1);
  }
  return ok();
}

// fd_readdir: dirent records {u64 d_next @0, u64 d_ino @8, u32 d_namlen @16, u8 d_type @20}
// (24 bytes), each followed by its name, packed into `out`; the last one is cut off where `out`
// ends, and a result of out.size() then tells the guest to call again from the last cookie it
// read whole. Returns the bytes used.
inline size_t encode_dirents(std::span<std::byte> out, std::span<const wasi::dirent> entries) {
  size_t at = 0;
  for (auto& e : entries) {
    if (at == out.size()) break;
    std::byte rec[24] = {};
    uint32_t namlen = static_cast<uint32_t>(e.name.size());
    std::memcpy(rec, &e.next, 8);
    std::memcpy(rec + 8, &e.ino, 8);
    std::memcpy(rec + 16, &namlen, 4);
    rec[20] = static_cast<std::byte>(e.type);
    size_t n = std::min<size_t>(sizeof rec, out.size() - at);
    std::memcpy(out.data() + at, rec, n);
    at += n;
    n = std::min<size_t>(namlen, out.size() - at);
    std::memcpy(out.data() + at, e.name.data(), n);
    at += n;
  }
  return at;
}

// ---- the WasmEdge socket extension (v2, as stealthrocket/wasi-go serves it) ------------------
// An address argument points to {u32 buf, u32 buf_len}. buf_len 128 is the v2 storage: u16
// family @0 (1 inet4, 2 inet6), the address bytes in network order @2. buf_len 4 or 16 is the
// v1 form, the bare address, which wasi-go also accepts under v2. The port is never in the
// buffer: it is a separate argument (or a u32 out-parameter), in host order.
// (wasi-go imports/wasi_snapshot_preview1/wasmedge.go wasmEdgeGetSocketAddress and
// wasmEdgeV2PutSocketAddress; WasmEdge include/host/wasi/environ.h WasiAddrStorage.)
inline constexpr uint32_t address_storage_size = 128;

// The address the guest gives at `ptr`, with `port`. inval for another length or family (a
// port over 65535 too), afnosupport for a unix path, fault out of memory.
inline result<wasi::sock_endpoint> decode_address(const guest_memory& m, uint32_t ptr, uint32_t port) {
  WASIO_TRY(buf, m.load<uint32_t>(ptr));
  WASIO_TRY(len, m.load<uint32_t>(uint64_t{ptr} + 4));
  if (port > 65535) return errc::inval;
  wasi::sock_endpoint e;
  e.port = static_cast<uint16_t>(port);
  uint64_t ip_at = buf;
  uint32_t ip_len = len;
  if (len == address_storage_size) {
    WASIO_TRY(family, m.load<uint16_t>(buf));
    if (family == static_cast<uint16_t>(wasi::address_family::unix_path)) return errc::afnosupport;
    if (family == static_cast<uint16_t>(wasi::address_family::inet4)) ip_len = 4;
    else if (family == static_cast<uint16_t>(wasi::address_family::inet6)) ip_len = 16;
    else return errc::inval;
    ip_at = uint64_t{buf} + 2;
  } else if (len != 4 && len != 16) {
    return errc::inval;
  }
  e.family = ip_len == 4 ? wasi::address_family::inet4 : wasi::address_family::inet6;
  WASIO_TRY(ip, m.bytes(ip_at, ip_len));
  std::memcpy(e.ip.data(), ip.data(), ip_len);
  return e;
}

// Checks the output address at `ptr` now (fault, or inval for a buffer of neither 128 bytes nor
// the v1 16), for a store after the call.
struct address_out {
  std::span<std::byte> buf;
  void set(const wasi::sock_endpoint& e) const {
    size_t n = e.family == wasi::address_family::inet4 ? 4 : e.family == wasi::address_family::inet6 ? 16 : 0;
    std::memset(buf.data(), 0, buf.size());
    if (buf.size() == address_storage_size) {
      auto family = static_cast<uint16_t>(e.family);
      std::memcpy(buf.data(), &family, 2);
      std::memcpy(buf.data() + 2, e.ip.data(), n);
    } else {
      std::memcpy(buf.data(), e.ip.data(), n);
    }
  }
};
inline result<address_out> check_address_out(const guest_memory& m, uint32_t ptr) {
  WASIO_TRY(buf, m.load<uint32_t>(ptr));
  WASIO_TRY(len, m.load<uint32_t>(uint64_t{ptr} + 4));
  if (len != address_storage_size && len != 16) return errc::inval;
  WASIO_TRY(b, m.bytes(buf, len));
  return address_out{b};
}

// sock_getaddrinfo's records. The guest links up to max_res_len result nodes through ai_next;
// the host fills them in order.
//   addrinfo (28 bytes): u16 ai_flags @0, u8 ai_family @2, u8 ai_socktype @3, u8 ai_protocol @4,
//     u32 ai_addrlen @8, u32 ai_addr @12, u32 ai_canonname @16, u32 ai_canonname_len @20,
//     u32 ai_next @24
//   sockaddr (12 bytes): u8 sa_family @0, u32 sa_data_len @4, u32 sa_data @8; sa_data holds the
//     port big-endian @0 and the address @2 (wasi-go's layout, IPv6 included).
// (WasmEdge thirdparty/wasi/api.hpp __wasi_addrinfo_t; wasi-go WasmEdgeSockAddrInfo.)
inline constexpr uint32_t addrinfo_size = 28;

inline result<wasi::addrinfo_hints> decode_hints(const guest_memory& m, uint32_t ptr) {
  WASIO_TRY(rec, m.bytes(ptr, addrinfo_size));
  wasi::addrinfo_hints h;
  std::memcpy(&h.flags, rec.data(), 2);
  h.family = static_cast<wasi::address_family>(rec[2]);
  h.type = static_cast<wasi::sock_type>(rec[3]);
  h.proto = static_cast<wasi::protocol>(rec[4]);
  return h;
}

// Fills the node at `node` with `e`; returns its ai_next. fault when the node, its sockaddr or its
// sa_data (too short for the address) is out of memory.
inline result<uint32_t> encode_addrinfo(const guest_memory& m, uint32_t node, const wasi::addrinfo_entry& e) {
  WASIO_TRY(rec, m.bytes(node, addrinfo_size));
  uint32_t sa, next;
  std::memcpy(&sa, rec.data() + 12, 4);
  std::memcpy(&next, rec.data() + 24, 4);
  WASIO_TRY(sarec, m.bytes(sa, 12));
  uint32_t data_len, data;
  std::memcpy(&data_len, sarec.data() + 4, 4);
  std::memcpy(&data, sarec.data() + 8, 4);
  // The Rust crate leaves sa_data_len at 14 for a 26-byte buffer (wasi-go: "WasmEdge lies").
  if (data_len == 14) data_len = 26;
  bool v4 = e.addr.family == wasi::address_family::inet4;
  uint32_t need = v4 ? 6 : 18;
  if (data_len < need) return errc::fault;
  WASIO_TRY(sd, m.bytes(data, need));
  sd[0] = static_cast<std::byte>(e.addr.port >> 8);
  sd[1] = static_cast<std::byte>(e.addr.port & 0xff);
  std::memcpy(sd.data() + 2, e.addr.ip.data(), need - 2);
  sarec[0] = static_cast<std::byte>(e.addr.family);
  rec[2] = static_cast<std::byte>(e.addr.family);
  rec[3] = static_cast<std::byte>(e.type);
  rec[4] = static_cast<std::byte>(e.proto);
  const uint32_t addrlen = 16, canon_len = 0;  // as wasi-go: no canonical names
  std::memcpy(rec.data() + 8, &addrlen, 4);
  std::memcpy(rec.data() + 20, &canon_len, 4);
  return next;
}

}  // namespace wasio::engine::layout
