// The guest-memory side of the ABI (engine/memory.hpp, engine/layout.hpp) over sentinel memory:
// exact bytes written, nothing written outside, every out-of-range pointer a fault.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <array>
#include <vector>

#include "engine/layout.hpp"
#include "engine/memory.hpp"

namespace wasio::engine {
namespace {

constexpr uint8_t kSentinel = 0xA5;

struct sentinel_memory {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(256, kSentinel);
  guest_memory view() { return guest_memory(bytes.data(), bytes.size()); }
  bool untouched_except(size_t from, size_t len) const {
    for (size_t i = 0; i < bytes.size(); ++i) {
      if ((i < from || i >= from + len) && bytes[i] != kSentinel) return false;
    }
    return true;
  }
};

TEST(guest_memory, bounds) {
  sentinel_memory m;
  auto v = m.view();
  EXPECT_TRUE(v.bytes(0, 256));
  EXPECT_TRUE(v.bytes(256, 0));  // an empty range at the end is in bounds
  EXPECT_EQ(v.bytes(256, 1).error(), errc::fault);
  EXPECT_EQ(v.bytes(255, 2).error(), errc::fault);
  EXPECT_EQ(v.bytes(0xFFFFFFFF, 2).error(), errc::fault);       // wraps in 32 bits
  EXPECT_EQ(v.bytes(16, 0xFFFFFFF8ull).error(), errc::fault);   // ditto
  EXPECT_EQ(v.load<uint64_t>(249).error(), errc::fault);
  EXPECT_EQ(v.store<uint32_t>(253, 1).error(), errc::fault);
  EXPECT_TRUE(m.untouched_except(0, 0));
  EXPECT_EQ(guest_memory().bytes(0, 1).error(), errc::fault);  // no memory at all
}

TEST(guest_memory, unaligned_store_writes_exactly_its_bytes) {
  sentinel_memory m;
  ASSERT_TRUE(m.view().store<uint64_t>(13, 0x0102030405060708ull));
  EXPECT_TRUE(m.untouched_except(13, 8));
  EXPECT_EQ(m.bytes[13], 0x08);
  EXPECT_EQ(m.bytes[20], 0x01);
}

// A maximal (4 GiB) memory: a record whose fields straddle its end must fault, never wrap
// around to address 0 (the address records of the socket calls read a pointer and a length,
// then the address they point at).
TEST(layout, records_straddling_the_end_of_a_4_gib_memory_fault) {
  constexpr size_t k4G = size_t{1} << 32;
  void* p = ::mmap(nullptr, k4G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto* base = static_cast<uint8_t*>(p);
  guest_memory m(base, k4G);
  // Address 0 holds a plausible record: {buf=64, len=16}, and 64.. a plausible address.
  std::memcpy(base + 0, "\x40\0\0\0\x10\0\0\0", 8);
  for (uint32_t ptr : {0xFFFFFFFCu, 0xFFFFFFFDu, 0xFFFFFFFFu}) {
    std::memcpy(base + ptr, "\x40\0\0", std::min<size_t>(4, k4G - ptr));
    EXPECT_EQ(layout::decode_address(m, ptr, 80).error(), errc::fault) << ptr;
    EXPECT_EQ(layout::check_address_out(m, ptr).error(), errc::fault) << ptr;
  }
  // The pointed-at address itself straddles the end: {buf=0xFFFFFFFF, len=128} at 8.
  std::memcpy(base + 8, "\xff\xff\xff\xff\x80\0\0\0", 8);
  EXPECT_EQ(layout::decode_address(m, 8, 80).error(), errc::fault);
  EXPECT_EQ(layout::check_address_out(m, 8).error(), errc::fault);
  EXPECT_EQ(m.load<uint32_t>(uint64_t{0xFFFFFFFE} + 4).error(), errc::fault);
  ::munmap(p, k4G);
}

TEST(layout, iovecs_decode_and_check_every_buffer) {
  sentinel_memory m;
  auto v = m.view();
  // Two iovecs at 8: {100, 5}, {200, 0}.
  ASSERT_TRUE(v.store<uint32_t>(8, 100));
  ASSERT_TRUE(v.store<uint32_t>(12, 5));
  ASSERT_TRUE(v.store<uint32_t>(16, 200));
  ASSERT_TRUE(v.store<uint32_t>(20, 0));
  layout::iovecs iov;
  ASSERT_TRUE(layout::decode_iovecs(v, 8, 2, iov));
  ASSERT_EQ(iov.size(), 2u);
  EXPECT_EQ(iov[0].iov_base, m.bytes.data() + 100);
  EXPECT_EQ(iov[0].iov_len, 5u);
  EXPECT_EQ(iov[1].iov_len, 0u);

  ASSERT_TRUE(v.store<uint32_t>(12, 157));  // 100 + 157 > 256
  EXPECT_EQ(layout::decode_iovecs(v, 8, 2, iov).error(), errc::fault);
  EXPECT_EQ(layout::decode_iovecs(v, 250, 1, iov).error(), errc::fault);         // the array itself
  EXPECT_EQ(layout::decode_iovecs(v, 0, 0x20000000, iov).error(), errc::fault);  // count * 8 overflows 32 bits
  EXPECT_TRUE(layout::decode_iovecs(v, 0, 0, iov));
}

TEST(layout, fdstat_is_24_bytes_with_zeroed_padding) {
  sentinel_memory m;
  wasi::fdstat st{wasi::filetype::regular_file, wasi::fdflags::append | wasi::fdflags::nonblock, 0x1122334455667788ull, 0x99};
  ASSERT_TRUE(layout::encode_fdstat(m.view(), 40, st));
  EXPECT_TRUE(m.untouched_except(40, 24));
  std::array<uint8_t, 24> want = {4, 0, 5, 0, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                  0x99, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(std::equal(want.begin(), want.end(), m.bytes.begin() + 40));
  EXPECT_EQ(layout::encode_fdstat(m.view(), 240, st).error(), errc::fault);
  EXPECT_TRUE(m.untouched_except(40, 24));
}

TEST(layout, subscriptions_and_events) {
  std::array<std::byte, 48> sub{};
  uint64_t user = 0xABCDEF;
  std::memcpy(sub.data(), &user, 8);
  sub[8] = std::byte{0};  // clock
  uint32_t id = 1;
  uint64_t timeout = 123456789;
  uint16_t flags = 1;
  std::memcpy(sub.data() + 16, &id, 4);
  std::memcpy(sub.data() + 24, &timeout, 8);
  std::memcpy(sub.data() + 40, &flags, 2);
  auto s = layout::decode_subscription(sub.data()).value();
  EXPECT_EQ(s.user, user);
  EXPECT_EQ(s.type, wasi::eventtype::clock);
  EXPECT_EQ(s.clock_id, 1u);
  EXPECT_EQ(s.timeout, timeout);
  EXPECT_EQ(s.clock_flags, 1);
  // wasi_unstable: the same clock 8 bytes further on, behind a u64 identifier.
  std::array<std::byte, 56> old{};
  std::memcpy(old.data(), &user, 8);
  std::memcpy(old.data() + 24, &id, 4);
  std::memcpy(old.data() + 32, &timeout, 8);
  std::memcpy(old.data() + 48, &flags, 2);
  auto o = layout::decode_subscription(old.data(), layout::snapshot0_subscription).value();
  EXPECT_EQ(o.clock_id, 1u);
  EXPECT_EQ(o.timeout, timeout);
  EXPECT_EQ(o.clock_flags, 1);

  sub[8] = std::byte{1};
  uint32_t fd = 7;
  std::memcpy(sub.data() + 16, &fd, 4);
  EXPECT_EQ(layout::decode_subscription(sub.data()).value().fd, 7u);
  sub[8] = std::byte{3};
  EXPECT_EQ(layout::decode_subscription(sub.data()).error(), errc::inval);

  std::array<std::byte, 40> out;
  out.fill(std::byte{kSentinel});
  layout::encode_event(out.data(), wasi::event{user, 8, wasi::eventtype::fd_read, 42, 1});
  uint64_t u, nbytes;
  uint16_t err, fl;
  std::memcpy(&u, out.data(), 8);
  std::memcpy(&err, out.data() + 8, 2);
  std::memcpy(&nbytes, out.data() + 16, 8);
  std::memcpy(&fl, out.data() + 24, 2);
  EXPECT_EQ(u, user);
  EXPECT_EQ(err, 8);
  EXPECT_EQ(out[10], std::byte{1});
  EXPECT_EQ(nbytes, 42u);
  EXPECT_EQ(fl, 1);
  EXPECT_EQ(out[32], std::byte{kSentinel});  // 32 bytes, no more
}

}  // namespace
}  // namespace wasio::engine
