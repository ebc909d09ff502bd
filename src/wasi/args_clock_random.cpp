// args/environ, clock and random: the calls that never block.
#include <sys/random.h>
#include <time.h>

#include <cerrno>

#include "src/wasi/wasi.hpp"

namespace wasio::wasi {

result<string_list_sizes> string_list_sizes_of(const std::vector<std::string>& list) {
  uint64_t bytes = 0;
  for (auto& s : list) bytes += s.size() + 1;
  if (list.size() > UINT32_MAX || bytes > UINT32_MAX) return errc::overflow;
  return string_list_sizes{static_cast<size>(list.size()), static_cast<size>(bytes)};
}

namespace {
// WASI clock ids map one to one onto the POSIX clocks the spec names.
bool host_clock(uint32_t id, clockid_t* out) {
  switch (static_cast<clockid>(id)) {
    case clockid::realtime: *out = CLOCK_REALTIME; return true;
    case clockid::monotonic: *out = CLOCK_MONOTONIC; return true;
    case clockid::process_cputime_id: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case clockid::thread_cputime_id: *out = CLOCK_THREAD_CPUTIME_ID; return true;
  }
  return false;
}
}  // namespace

result<timestamp> clock_res_get(uint32_t id) {
  clockid_t c;
  if (!host_clock(id, &c)) return errc::inval;
  timespec ts{};
  if (::clock_getres(c, &ts) != 0) return from_host_errno(errno);
  return static_cast<timestamp>(ts.tv_sec) * 1'000'000'000u + static_cast<timestamp>(ts.tv_nsec);
}

result<timestamp> clock_time_get(uint32_t id, timestamp /*precision*/) {
  clockid_t c;
  if (!host_clock(id, &c)) return errc::inval;
  timespec ts{};
  // Thread CPU time is the worker thread's, shared by its guests: the best a pool can offer
  // (wasmtime on a multi-threaded runtime does the same).
  if (::clock_gettime(c, &ts) != 0) return from_host_errno(errno);
  return static_cast<timestamp>(ts.tv_sec) * 1'000'000'000u + static_cast<timestamp>(ts.tv_nsec);
}

result<void> random_get(std::span<std::byte> buf) {
  while (!buf.empty()) {
    ssize_t n = ::getrandom(buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return from_host_errno(errno);
    }
    buf = buf.subspan(static_cast<size_t>(n));
  }
  return ok();
}

}  // namespace wasio::wasi
