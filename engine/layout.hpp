// Guest-memory layouts of the preview1 records (wasm32: pointers and sizes are u32, records are
// little-endian with C alignment). Offsets from the witx; checked by tests/unit/layout_test.cpp.
#pragma once
#include <sys/uio.h>

#include <boost/container/small_vector.hpp>
#include <cstdint>

#include "engine/memory.hpp"
#include "src/wasi/abi.hpp"

namespace wasio::engine::layout {

// iovec / ciovec: {u32 buf, u32 buf_len}
inline constexpr uint32_t iovec_size = 8;
// fdstat: u8 fs_filetype @0, u16 fs_flags @2, u64 rights_base @8, u64 rights_inheriting @16
inline constexpr uint32_t fdstat_size = 24;
// prestat: u8 tag @0 (0 = dir), u32 pr_name_len @4
inline constexpr uint32_t prestat_size = 8;
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

// Host iovecs pointing into guest memory. Most calls pass one or two.
using iovecs = boost::container::small_vector<::iovec, 4>;

// Decodes `count` iovecs at `ptr` into `out`; fault if the array or any buffer leaves guest
// memory. (An out-parameter: the vector's inline storage is not copied on return.)
inline result<void> decode_iovecs(const guest_memory& m, uint32_t ptr, uint32_t count, iovecs& out) {
  WASIO_TRY(arr, m.bytes(ptr, uint64_t{count} * iovec_size));
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

}  // namespace wasio::engine::layout
