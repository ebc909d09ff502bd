// libFuzzer harness: the layout codecs (engine/layout.hpp), which turn preview1 records in guest
// memory into host values and back. Each input picks one codec, a guest memory and the codec's
// arguments; the harness runs the codec and checks it against a model written here from the
// witx offsets, independently of the codec:
//   - it succeeds or fails with the errno the model gives (fault exactly when a byte it must
//     touch lies outside memory, computed in 64 bits: never wrapping past 4 GiB to address 0);
//   - what it decodes is what the bytes say, and every span or iovec it hands out lies inside
//     memory;
//   - it writes only the bytes the model says (sentinel memory: every other byte is compared
//     before and after), and decoders write nothing;
//   - ASan and UBSan stay quiet.
// Two memories: a small one on the heap (0 to 512 bytes, so ASan sees any access past its end),
// and a maximal 4 GiB one between two inaccessible guard pages, whose first and last 4 KiB are
// the fuzzer's (pointers near 2^32 are where 32-bit sums wrap). The engine's thunks hand these
// codecs their pointers unchanged; fuzz/import_abi drives the thunks themselves.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/layout.hpp"

namespace {

using namespace wasio;
using namespace wasio::engine;

[[noreturn]] void fail(const char* what, uint64_t a = 0, uint64_t b = 0) {
  std::fprintf(stderr, "layout_codecs: %s (%llu, %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

constexpr uint64_t k4G = uint64_t{1} << 32, kWindow = 4096, kPage = 4096;
constexpr uint8_t kSentinel = 0xA5;

// The guest memory of one input, and what the harness may compare of it: all of the small one,
// the two windows of the big one.
struct memory {
  uint8_t* base = nullptr;
  uint64_t size = 0;
  bool big = false;
  std::unique_ptr<uint8_t[]> small;  // new[]: never null, even for 0 bytes, and ASan-bounded

  guest_memory view() const { return guest_memory(base, size); }
  bool in(uint64_t ptr, uint64_t len) const { return ptr <= size && len <= size - ptr; }
  // The byte ranges the harness compares, as [from, to).
  std::vector<std::pair<uint64_t, uint64_t>> watched() const {
    if (!big) return {{0, size}};
    return {{0, kWindow}, {size - kWindow, size}};
  }
  std::vector<uint8_t> snapshot() const {
    std::vector<uint8_t> s;
    for (auto [from, to] : watched()) s.insert(s.end(), base + from, base + to);
    return s;
  }
  uint64_t u64(uint64_t at, unsigned n) const {
    uint64_t v = 0;
    std::memcpy(&v, base + at, n);
    return v;
  }
};

uint8_t* big_memory() {
  static uint8_t* base = [] {
    void* p = ::mmap(nullptr, k4G + 2 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) fail("mmap of 4 GiB failed");
    auto* b = static_cast<uint8_t*>(p) + kPage;
    if (::mprotect(b, k4G, PROT_READ | PROT_WRITE) != 0) fail("mprotect failed");
    return b;
  }();
  return base;
}

memory make_memory(FuzzedDataProvider& in) {
  memory m;
  if (in.ConsumeBool()) {
    m.big = true;
    m.base = big_memory();
    m.size = k4G;
    // Pages between the windows a codec may have written through a pointer read from memory
    // go back to the kernel, so that long runs stay small.
    ::madvise(m.base + kWindow, k4G - 2 * kWindow, MADV_DONTNEED);
    for (uint64_t from : {uint64_t{0}, k4G - kWindow}) {
      std::memset(m.base + from, kSentinel, kWindow);
      auto bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 256));
      // At the window's far end for the high one: records that straddle 4 GiB.
      uint64_t at = from == 0 ? 0 : k4G - bytes.size();
      std::copy(bytes.begin(), bytes.end(), m.base + at);
    }
  } else {
    size_t n = in.ConsumeIntegralInRange<size_t>(0, 512);
    auto bytes = in.ConsumeBytes<uint8_t>(n);
    bytes.resize(n, kSentinel);
    m.small.reset(new uint8_t[n]);
    m.base = m.small.get();
    std::copy(bytes.begin(), bytes.end(), m.base);
    m.size = n;
  }
  return m;
}

// A guest pointer: near either end of memory, near 2^32, or any.
uint32_t pick_ptr(FuzzedDataProvider& in, const memory& m) {
  uint32_t d = in.ConsumeIntegralInRange<uint32_t>(0, 64);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return d;
    case 1: return static_cast<uint32_t>(m.size - std::min<uint64_t>(d, m.size));
    case 2: return UINT32_MAX - d;
    default: return in.ConsumeIntegral<uint32_t>();
  }
}
uint32_t pick_len(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: return in.ConsumeIntegralInRange<uint32_t>(0, 64);
    case 1: return UINT32_MAX - in.ConsumeIntegralInRange<uint32_t>(0, 64);
    default: return in.ConsumeIntegral<uint32_t>();
  }
}

// Checks that between `before` and now, only bytes inside `allowed` changed.
void check_writes(const memory& m, const std::vector<uint8_t>& before,
                  const std::vector<std::pair<uint64_t, uint64_t>>& allowed) {
  size_t k = 0;
  for (auto [from, to] : m.watched()) {
    if (from == to) continue;  // an empty memory (memcmp may not be given its null base)
    if (std::memcmp(m.base + from, before.data() + k, to - from) == 0) {
      k += to - from;
      continue;
    }
    for (uint64_t a = from; a < to; ++a, ++k) {
      if (m.base[a] == before[k]) continue;
      bool ok = std::any_of(allowed.begin(), allowed.end(), [&](auto r) { return a >= r.first && a < r.second; });
      if (!ok) fail("a byte changed outside the record's bytes", a, allowed.empty() ? 0 : allowed[0].first);
    }
  }
}

void expect_status(errc got, std::optional<errc> want, const char* what) {
  errc w = want.value_or(errc::success);
  if (got != w) fail(what, static_cast<uint64_t>(got), static_cast<uint64_t>(w));
}
template <class T>
errc status_of(const result<T>& r) {
  return r ? errc::success : r.error();
}

// The byte offset of a host pointer in memory, checked to lie inside it with `len` bytes.
uint64_t offset_in(const memory& m, const void* p, uint64_t len) {
  auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(m.base);
  if (len == 0 && (a < b || a - b > m.size)) return 0;  // an empty buffer's base is not used
  if (a < b || !m.in(a - b, len)) fail("a decoded buffer lies outside memory", a - b, len);
  return a - b;
}

wasi::sock_endpoint pick_endpoint(FuzzedDataProvider& in) {
  wasi::sock_endpoint e;
  e.family = in.ConsumeBool() ? wasi::address_family::inet4 : wasi::address_family::inet6;
  for (auto& b : e.ip) b = in.ConsumeIntegral<uint8_t>();
  if (e.family == wasi::address_family::inet4) std::fill(e.ip.begin() + 4, e.ip.end(), 0);
  e.port = in.ConsumeIntegral<uint16_t>();
  return e;
}

// ---- one codec each ---------------------------------------------------------------------------

void filestat(FuzzedDataProvider& in, memory& m) {
  bool snapshot0 = in.ConsumeBool();
  const auto& l = snapshot0 ? layout::snapshot0_filestat : layout::preview1_filestat;
  wasi::filestat st{in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(),
                    static_cast<wasi::filetype>(in.ConsumeIntegralInRange(0, 7)), in.ConsumeIntegral<uint64_t>(),
                    in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(),
                    in.ConsumeIntegral<uint64_t>()};
  uint64_t ptr = pick_ptr(in, m);
  uint64_t size = snapshot0 ? 56 : 64;
  auto before = m.snapshot();
  errc e = layout::store_filestat(m.view(), ptr, st, l);
  bool fits = m.in(ptr, size);
  expect_status(e, fits ? std::nullopt : std::optional(errc::fault), "store_filestat's status");
  check_writes(m, before, fits ? std::vector<std::pair<uint64_t, uint64_t>>{{ptr, ptr + size}} : std::vector<std::pair<uint64_t, uint64_t>>{});
  if (!fits) return;
  // preview1: dev @0, ino @8, filetype @16, nlink u64 @24, size @32, atim @40, mtim @48, ctim
  // @56; wasi_unstable: nlink u32 @20 and everything after it 8 earlier.
  uint64_t shift = snapshot0 ? 8 : 0;
  if (m.u64(ptr, 8) != st.dev || m.u64(ptr + 8, 8) != st.ino || m.base[ptr + 16] != static_cast<uint8_t>(st.type) ||
      m.u64(ptr + (snapshot0 ? 20 : 24), snapshot0 ? 4 : 8) != (snapshot0 ? uint32_t(st.nlink) : st.nlink) ||
      m.u64(ptr + 32 - shift, 8) != st.size || m.u64(ptr + 40 - shift, 8) != st.atim ||
      m.u64(ptr + 48 - shift, 8) != st.mtim || m.u64(ptr + 56 - shift, 8) != st.ctim)
    fail("store_filestat wrote other values", ptr, snapshot0);
}

void fdstat(FuzzedDataProvider& in, memory& m) {
  wasi::fdstat s{static_cast<wasi::filetype>(in.ConsumeIntegralInRange(0, 7)), in.ConsumeIntegral<uint16_t>(),
                 in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>()};
  uint64_t ptr = pick_ptr(in, m);
  auto before = m.snapshot();
  errc e = status_of(layout::encode_fdstat(m.view(), ptr, s));
  bool fits = m.in(ptr, 24);
  expect_status(e, fits ? std::nullopt : std::optional(errc::fault), "encode_fdstat's status");
  check_writes(m, before, fits ? std::vector<std::pair<uint64_t, uint64_t>>{{ptr, ptr + 24}} : std::vector<std::pair<uint64_t, uint64_t>>{});
  // u8 fs_filetype @0, u16 fs_flags @2, u64 rights_base @8, u64 rights_inheriting @16
  if (fits && (m.base[ptr] != static_cast<uint8_t>(s.type) || m.base[ptr + 1] != 0 || m.u64(ptr + 2, 2) != s.flags ||
               m.u64(ptr + 4, 4) != 0 || m.u64(ptr + 8, 8) != s.rights_base || m.u64(ptr + 16, 8) != s.rights_inheriting))
    fail("encode_fdstat wrote other values", ptr);
}

void iovecs(FuzzedDataProvider& in, memory& m) {
  uint64_t ptr = pick_ptr(in, m);
  uint32_t count = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 8) : pick_len(in);
  auto before = m.snapshot();
  layout::iovecs out;
  auto r = layout::decode_iovecs(m.view(), ptr, count, out);
  check_writes(m, before, {});
  // The model: the whole array must be in memory, and the first IOV_MAX buffers.
  std::optional<errc> want;
  if (!m.in(ptr, uint64_t{count} * 8)) want = errc::fault;
  uint32_t decoded = std::min<uint32_t>(count, IOV_MAX);
  for (uint32_t i = 0; !want && i < decoded; ++i) {
    if (!m.in(m.u64(ptr + 8ull * i, 4), m.u64(ptr + 8ull * i + 4, 4))) want = errc::fault;
  }
  expect_status(status_of(r), want, "decode_iovecs' status");
  if (want) return;
  if (out.size() != decoded) fail("decode_iovecs decoded another count", out.size(), decoded);
  for (uint32_t i = 0; i < decoded; ++i) {
    uint64_t len = m.u64(ptr + 8ull * i + 4, 4);
    if (out[i].iov_len != len) fail("an iovec's length differs", i, out[i].iov_len);
    uint64_t at = offset_in(m, out[i].iov_base, len);
    if (len && at != m.u64(ptr + 8ull * i, 4)) fail("an iovec's buffer differs", i, at);
  }
}

void subscription(FuzzedDataProvider& in, memory& m) {
  bool snapshot0 = in.ConsumeBool();
  const auto& l = snapshot0 ? layout::snapshot0_subscription : layout::preview1_subscription;
  uint64_t ptr = pick_ptr(in, m);
  if (!m.in(ptr, l.size)) return;  // the thunk checks the array before decoding a record
  auto before = m.snapshot();
  auto r = layout::decode_subscription(reinterpret_cast<const std::byte*>(m.base + ptr), l);
  check_writes(m, before, {});
  // userdata u64 @0, tag u8 @8; clock: id u32 @16, timeout @24, precision @32, flags u16 @40
  // (wasi_unstable: 8 later, after its u64 identifier); fd_read/fd_write: fd u32 @16.
  uint8_t tag = m.base[ptr + 8];
  expect_status(status_of(r), tag > 2 ? std::optional(errc::inval) : std::nullopt, "decode_subscription's status");
  if (!r) return;
  const auto& s = r.value();
  uint64_t c = snapshot0 ? 8 : 0;
  bool same = s.user == m.u64(ptr, 8) && static_cast<uint8_t>(s.type) == tag;
  if (tag == 0)
    same = same && s.clock_id == m.u64(ptr + 16 + c, 4) && s.timeout == m.u64(ptr + 24 + c, 8) &&
           s.precision == m.u64(ptr + 32 + c, 8) && s.clock_flags == m.u64(ptr + 40 + c, 2);
  else
    same = same && s.fd == m.u64(ptr + 16, 4);
  if (!same) fail("decode_subscription decoded other values", ptr, tag);
}

void event(FuzzedDataProvider& in, memory& m) {
  uint64_t ptr = pick_ptr(in, m);
  if (!m.in(ptr, 32)) return;  // the thunk checks the events array first
  wasi::event e{in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint16_t>(),
                static_cast<wasi::eventtype>(in.ConsumeIntegralInRange(0, 2)), in.ConsumeIntegral<uint64_t>(),
                in.ConsumeIntegral<uint16_t>()};
  auto before = m.snapshot();
  layout::encode_event(reinterpret_cast<std::byte*>(m.base + ptr), e);
  check_writes(m, before, {{ptr, ptr + 32}});
  // userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite: nbytes u64 @16, flags u16 @24; the
  // rest zero.
  bool rw = e.type != wasi::eventtype::clock;
  if (m.u64(ptr, 8) != e.user || m.u64(ptr + 8, 2) != e.error || m.base[ptr + 10] != static_cast<uint8_t>(e.type) ||
      m.u64(ptr + 11, 5) != 0 || m.u64(ptr + 16, 8) != (rw ? e.nbytes : 0) || m.u64(ptr + 24, 2) != (rw ? e.flags : 0) ||
      m.u64(ptr + 26, 6) != 0)
    fail("encode_event wrote other values", ptr);
}

void address_in(FuzzedDataProvider& in, memory& m) {
  uint64_t ptr = pick_ptr(in, m);
  uint32_t port = in.ConsumeBool() ? in.ConsumeIntegral<uint16_t>() : in.ConsumeIntegral<uint32_t>();
  auto before = m.snapshot();
  auto r = layout::decode_address(m.view(), ptr, port);
  check_writes(m, before, {});
  // The model: {u32 buf, u32 len} at ptr; len 128 is {u16 family, address}, 4 and 16 a bare
  // address; the port is the argument.
  std::optional<errc> want;
  uint64_t ip_at = 0, ip_len = 0;
  if (!m.in(ptr, 8)) {
    want = errc::fault;
  } else if (port > 65535) {
    want = errc::inval;
  } else {
    uint64_t buf = m.u64(ptr, 4), len = m.u64(ptr + 4, 4);
    if (len == 128) {
      if (!m.in(buf, 2)) want = errc::fault;
      else if (uint64_t f = m.u64(buf, 2); f == 3) want = errc::afnosupport;
      else if (f == 1 || f == 2) ip_at = buf + 2, ip_len = f == 1 ? 4 : 16;
      else want = errc::inval;
    } else if (len == 4 || len == 16) {
      ip_at = buf, ip_len = len;
    } else {
      want = errc::inval;
    }
    if (!want && !m.in(ip_at, ip_len)) want = errc::fault;
  }
  expect_status(status_of(r), want, "decode_address' status");
  if (want) return;
  const auto& e = r.value();
  bool same = e.port == port && e.family == (ip_len == 4 ? wasi::address_family::inet4 : wasi::address_family::inet6) &&
              std::memcmp(e.ip.data(), m.base + ip_at, ip_len) == 0;
  if (!same) fail("decode_address decoded other values", ptr);
}

void address_out(FuzzedDataProvider& in, memory& m) {
  uint64_t ptr = pick_ptr(in, m);
  auto e = pick_endpoint(in);
  auto before = m.snapshot();
  auto r = layout::check_address_out(m.view(), ptr);
  std::optional<errc> want;
  uint64_t buf = 0, len = 0;
  if (!m.in(ptr, 8)) {
    want = errc::fault;
  } else {
    buf = m.u64(ptr, 4), len = m.u64(ptr + 4, 4);
    if (len != 128 && len != 16) want = errc::inval;
    else if (!m.in(buf, len)) want = errc::fault;
  }
  expect_status(status_of(r), want, "check_address_out's status");
  if (want) return check_writes(m, before, {});
  if (offset_in(m, r.value().buf.data(), len) != buf || r.value().buf.size() != len)
    fail("check_address_out gave another buffer", buf, len);
  r.value().set(e);
  check_writes(m, before, {{buf, buf + len}});
  // 128 bytes: u16 family @0, the address @2; 16: the bare address; zeros after it.
  uint64_t at = len == 128 ? buf + 2 : buf, n = e.family == wasi::address_family::inet4 ? 4 : 16;
  if ((len == 128 && m.u64(buf, 2) != static_cast<uint16_t>(e.family)) || std::memcmp(m.base + at, e.ip.data(), n) != 0 ||
      std::any_of(m.base + at + n, m.base + buf + len, [](uint8_t b) { return b != 0; }))
    fail("address_out wrote other values", buf, len);
}

void addrinfo(FuzzedDataProvider& in, memory& m) {
  uint64_t node = pick_ptr(in, m);
  wasi::addrinfo_entry e{static_cast<wasi::sock_type>(in.ConsumeIntegralInRange(0, 2)),
                         static_cast<wasi::protocol>(in.ConsumeIntegralInRange(0, 2)), pick_endpoint(in)};
  bool hints = in.ConsumeBool();
  auto before = m.snapshot();
  if (hints) {
    auto h = layout::decode_hints(m.view(), node);
    check_writes(m, before, {});
    // u16 ai_flags @0, u8 ai_family @2, u8 ai_socktype @3, u8 ai_protocol @4
    expect_status(status_of(h), m.in(node, 28) ? std::nullopt : std::optional(errc::fault), "decode_hints' status");
    if (h && (h.value().flags != m.u64(node, 2) || static_cast<uint8_t>(h.value().family) != m.base[node + 2] ||
              static_cast<uint8_t>(h.value().type) != m.base[node + 3] || static_cast<uint8_t>(h.value().proto) != m.base[node + 4]))
      fail("decode_hints decoded other values", node);
    return;
  }
  // The model, from the bytes before the call (it writes where it reads): the node {..,
  // u32 ai_addr @12, .., u32 ai_next @24} (28 bytes) points at a sockaddr {u8 sa_family @0, u32 sa_data_len @4, u32 sa_data @8} whose sa_data takes the port
  // (big-endian) and the address: 6 or 18 bytes (a length of 14 counts as 26).
  std::optional<errc> want;
  std::vector<std::pair<uint64_t, uint64_t>> allowed;
  uint64_t next = 0;
  if (!m.in(node, 28)) {
    want = errc::fault;
  } else {
    uint64_t sa = m.u64(node + 12, 4);
    next = m.u64(node + 24, 4);
    if (!m.in(sa, 12)) {
      want = errc::fault;
    } else {
      uint64_t data_len = m.u64(sa + 4, 4), data = m.u64(sa + 8, 4);
      if (data_len == 14) data_len = 26;
      uint64_t need = e.addr.family == wasi::address_family::inet4 ? 6 : 18;
      if (data_len < need || !m.in(data, need)) want = errc::fault;
      else allowed = {{data, data + need}, {sa, sa + 1}, {node + 2, node + 5}, {node + 8, node + 12}, {node + 20, node + 24}};
    }
  }
  auto r = layout::encode_addrinfo(m.view(), node, e);
  expect_status(status_of(r), want, "encode_addrinfo's status");
  check_writes(m, before, allowed);
  if (r && r.value() != next) fail("encode_addrinfo gave another ai_next", r.value(), next);
}

void string_view_of(FuzzedDataProvider& in, memory& m) {
  uint64_t ptr = pick_ptr(in, m);
  uint32_t len = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 64) : pick_len(in);
  auto before = m.snapshot();
  auto r = layout::guest_string(m.view(), ptr, len);
  check_writes(m, before, {});
  expect_status(status_of(r), m.in(ptr, len) ? std::nullopt : std::optional(errc::fault), "guest_string's status");
  if (r && (r.value().size() != len || (len && offset_in(m, r.value().data(), len) != ptr)))
    fail("guest_string gave another view", ptr, len);
}

void string_list(FuzzedDataProvider& in, memory& m) {
  std::vector<std::string> list(in.ConsumeIntegralInRange(0, 6));
  uint64_t bytes = 0;
  for (auto& s : list) {
    s = in.ConsumeRandomLengthString(24);
    s.erase(std::find(s.begin(), s.end(), '\0'), s.end());  // the context holds no NULs
    bytes += s.size() + 1;
  }
  uint64_t argv = pick_ptr(in, m), buf = pick_ptr(in, m);
  auto before = m.snapshot();
  errc e = status_of(layout::encode_string_list(m.view(), list, static_cast<uint32_t>(bytes), argv, buf));
  uint64_t n = list.size() * 4;
  bool fits = m.in(argv, n) && m.in(buf, bytes);
  expect_status(e, fits ? std::nullopt : std::optional(errc::fault), "encode_string_list's status");
  if (!fits) return check_writes(m, before, {});
  check_writes(m, before, {{argv, argv + n}, {buf, buf + bytes}});
  if (argv < buf + bytes && buf < argv + n) return;  // they overlap: the later writes win
  uint64_t at = buf;
  for (size_t i = 0; i < list.size(); ++i) {
    if (m.u64(argv + 4 * i, 4) != at || std::memcmp(m.base + at, list[i].c_str(), list[i].size() + 1) != 0)
      fail("encode_string_list wrote other values", i, at);
    at += list[i].size() + 1;
  }
}

void dirents(FuzzedDataProvider& in, memory& m) {
  std::vector<wasi::dirent> entries(in.ConsumeIntegralInRange(0, 5));
  std::string whole;  // the records as the witx lays them out, one after another
  for (auto& d : entries) {
    d.next = in.ConsumeIntegral<uint64_t>();
    d.ino = in.ConsumeIntegral<uint64_t>();
    d.type = static_cast<wasi::filetype>(in.ConsumeIntegralInRange(0, 7));
    d.name = in.ConsumeRandomLengthString(40);
    // d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20, 3 bytes of padding, name
    char rec[24] = {};
    uint32_t namlen = static_cast<uint32_t>(d.name.size());
    std::memcpy(rec, &d.next, 8);
    std::memcpy(rec + 8, &d.ino, 8);
    std::memcpy(rec + 16, &namlen, 4);
    rec[20] = static_cast<char>(d.type);
    whole.append(rec, 24).append(d.name);
  }
  uint64_t ptr = pick_ptr(in, m), len = in.ConsumeIntegralInRange<uint32_t>(0, 300);
  if (!m.in(ptr, len)) return;  // the thunk checks the buffer first
  auto before = m.snapshot();
  size_t used = layout::encode_dirents({reinterpret_cast<std::byte*>(m.base + ptr), len}, entries);
  size_t want = std::min<size_t>(len, whole.size());
  if (used != want) fail("encode_dirents used another length", used, want);
  check_writes(m, before, {{ptr, ptr + used}});
  if (std::memcmp(m.base + ptr, whole.data(), used) != 0) fail("encode_dirents wrote other bytes", ptr, used);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  using codec = void (*)(FuzzedDataProvider&, memory&);
  static constexpr codec codecs[] = {filestat, fdstat,   iovecs,         subscription, event,      address_in,
                                     address_out, addrinfo, string_view_of, string_list,  dirents};
  codec c = codecs[in.ConsumeIntegralInRange<size_t>(0, std::size(codecs) - 1)];
  memory m = make_memory(in);
  c(in, m);
  return 0;
}
