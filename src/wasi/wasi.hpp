// WASI preview1 functions in host types, one declaration per spec function, grouped as the spec
// groups them. Each comment gives the spec's summary and the errors it can return. Calls that can
// block return an awaitable: they suspend the calling coroutine (and so the guest), never the
// thread. Guest memory is already decoded by the caller (engine/), so buffers are host spans.
// Spec: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md
#pragma once
#include <sys/uio.h>

#include <asio/awaitable.hpp>
#include <cstddef>
#include <span>
#include <string_view>

#include "src/wasi/abi.hpp"
#include "src/wasi/context.hpp"
#include "wasio/result.hpp"

namespace wasio::wasi {

// ---- args / environ -------------------------------------------------------------------------
struct string_list_sizes {
  size count;      // number of strings
  size buf_bytes;  // their total length, each with its NUL
};
// args_sizes_get / environ_sizes_get: how much room args_get / environ_get need.
// Errors: none (overflow, if the lists exceed the 32-bit guest, is `overflow`).
result<string_list_sizes> string_list_sizes_of(const std::vector<std::string>& list);

// ---- clock ----------------------------------------------------------------------------------
// clock_res_get: the resolution of a clock. Errors: inval (unknown clock id).
result<timestamp> clock_res_get(uint32_t id);
// clock_time_get: the time of a clock in ns; `precision` is a hint and is ignored, as by every
// host. Errors: inval (unknown clock id).
result<timestamp> clock_time_get(uint32_t id, timestamp precision);

// ---- random ---------------------------------------------------------------------------------
// random_get: fill `buf` with cryptographically secure random bytes (getrandom(2)).
// Errors: io if the host source fails.
result<void> random_get(std::span<std::byte> buf);

// ---- sched ----------------------------------------------------------------------------------
// sched_yield: let the other guests on this worker run. Always suspends once. Errors: none.
asio::awaitable<result<void>> sched_yield();

// ---- fd -------------------------------------------------------------------------------------
// fd_read: read into `iov` (readv). Suspends on an empty pipe/terminal/socket unless the guest
// set NONBLOCK (then again). Errors: badf, notcapable (no fd_read right), isdir, again, io.
asio::awaitable<result<size>> fd_read(context& c, fd_t fd, std::span<const ::iovec> iov);
// fd_write: write `iov` (writev). Suspends while a pipe/socket is full unless NONBLOCK.
// Errors: badf, notcapable (no fd_write right), isdir, again, pipe, io.
asio::awaitable<result<size>> fd_write(context& c, fd_t fd, std::span<const ::iovec> iov);
// fd_close: close a descriptor (stdio and preopens too). Errors: badf.
result<void> fd_close(context& c, fd_t fd);
// fd_seek: move the offset (lseek). Errors: badf, notcapable (no fd_seek right; fd_tell suffices
// for a zero move from cur), spipe (pipe), inval (bad whence or negative result), isdir.
result<filesize> fd_seek(context& c, fd_t fd, int64_t offset, uint8_t whence);
// fd_tell: the current offset. Errors: badf, notcapable (no fd_tell right), spipe.
result<filesize> fd_tell(context& c, fd_t fd);
// fd_fdstat_get: type, flags and rights of a descriptor. Errors: badf.
result<fdstat> fd_fdstat_get(context& c, fd_t fd);
// fd_fdstat_set_flags: set APPEND, DSYNC, NONBLOCK, RSYNC, SYNC. The flags are the guest's own
// view: the host descriptor, maybe shared with the embedder, is not changed.
// Errors: badf, notcapable (no fd_fdstat_set_flags right), inval (unknown bits).
result<void> fd_fdstat_set_flags(context& c, fd_t fd, uint16_t flags);
// fd_prestat_get: the length of a preopened directory's name. Errors: badf (not a preopen).
result<size> fd_prestat_get(context& c, fd_t fd);
// fd_prestat_dir_name: the name itself, without a NUL. Errors: badf; nametoolong when the guest
// buffer is shorter than the name (wasmtime's choice; the spec is silent).
result<std::string_view> fd_prestat_dir_name(context& c, fd_t fd);

// ---- poll -----------------------------------------------------------------------------------
// poll_oneoff: wait until at least one subscription is ready: a clock reaching its deadline
// (relative, or absolute with SUBSCRIPTION_CLOCK_ABSTIME) or an fd ready to read/write. Writes
// one event per ready subscription to `out` (at most subs.size()) and returns their count. A
// problem with one subscription (bad fd, unknown clock) is an event with that error, not a
// failed call. Errors: inval (no subscriptions).
asio::awaitable<result<size>> poll_oneoff(context& c, std::span<const subscription> subs,
                                          std::span<event> out);

}  // namespace wasio::wasi
