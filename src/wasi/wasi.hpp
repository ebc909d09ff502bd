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
#include <vector>

#include "async/socket.hpp"
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

// fd_pread / fd_pwrite: read or write at `offset` without moving the file offset.
// Errors: badf, notcapable (fd_read or fd_write, and fd_seek), spipe (pipes), isdir, inval.
asio::awaitable<result<size>> fd_pread(context& c, fd_t fd, std::span<const ::iovec> iov, filesize offset);
asio::awaitable<result<size>> fd_pwrite(context& c, fd_t fd, std::span<const ::iovec> iov, filesize offset);
// fd_filestat_get: the attributes of an open file. Errors: badf, notcapable.
result<filestat> fd_filestat_get(context& c, fd_t fd);
// fd_readdir: the entries of a directory from `cookie` on, `.` and `..` included, until about
// `max_bytes` of dirent records would be filled (the caller truncates the last one). Cookies are
// positions in the listing, stable across calls. Errors: badf, notcapable, notdir.
result<std::vector<dirent>> fd_readdir(context& c, fd_t fd, uint64_t cookie, size_t max_bytes);

// fd_advise: posix_fadvise. Errors: badf, notcapable, inval (advice > 5), spipe.
result<void> fd_advise(context& c, fd_t fd, filesize offset, filesize len, uint8_t advice);
// fd_allocate: posix_fallocate. Errors: badf, notcapable, inval, nospc, spipe.
result<void> fd_allocate(context& c, fd_t fd, filesize offset, filesize len);
// fd_datasync / fd_sync: fdatasync / fsync, off the worker thread (async/file_io.hpp): a flush
// waits for the disk. Errors: badf, notcapable, io.
asio::awaitable<result<void>> fd_datasync(context& c, fd_t fd);
asio::awaitable<result<void>> fd_sync(context& c, fd_t fd);
// fd_fdstat_set_rights: narrow an fd's rights; asking for one it lacks is notcapable.
result<void> fd_fdstat_set_rights(context& c, fd_t fd, uint64_t base, uint64_t inheriting);
// fd_filestat_set_size: ftruncate. Errors: badf, notcapable, inval, isdir, fbig.
result<void> fd_filestat_set_size(context& c, fd_t fd, filesize size);
// fd_filestat_set_times: futimens, with the NOW flags; a time and its NOW flag together are inval.
result<void> fd_filestat_set_times(context& c, fd_t fd, timestamp atim, timestamp mtim, uint16_t fst_flags);
// fd_renumber: move `from` onto `to`, closing `to` first if it is open. The spec's text has
// `to` open, but a closed `to` is taken, as the preview1->preview2 adapter and wasmer do: real
// programs rely on it (YoWASP's ABC moves stdout away with fd_renumber(1, 7) and back while 1
// is closed). Errors: badf (`from` not open; `to` closed and beyond the fd limit).
result<void> fd_renumber(context& c, fd_t from, fd_t to);

// ---- path ---------------------------------------------------------------------------------
// Every path is resolved beneath the directory fd with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS): `..`, absolute paths and symlinks that leave it give notcapable.
// A path with a NUL byte is inval.

// Resolve paths component by component instead of with openat2, as on kernels older than 5.6
// (which get it automatically). For tests of that path; process-wide. The environment variable
// WASIO_RESOLVE=walk sets it at start-up.
void use_fallback_resolution(bool on);

// path_open: open or create a file or directory. Without LOOKUP_SYMLINK_FOLLOW a final
// symlink gives loop. The new fd's rights are the requested ones narrowed by the directory's
// inheriting rights. Errors: badf, notcapable, noent, exist, notdir, isdir, loop, inval, acces.
result<fd_t> path_open(context& c, fd_t dir, uint32_t dirflags, std::string_view path, uint16_t oflags,
                       uint64_t rights_base, uint64_t rights_inheriting, uint16_t fdflags);
// path_filestat_get: the attributes of the file at a path. Errors as path_open.
result<filestat> path_filestat_get(context& c, fd_t dir, uint32_t flags, std::string_view path);
// path_create_directory, path_remove_directory, path_unlink_file: mkdir, rmdir, unlink.
// Errors: badf, notcapable, noent, exist, notempty, notdir, isdir, perm.
result<void> path_create_directory(context& c, fd_t dir, std::string_view path);
result<void> path_remove_directory(context& c, fd_t dir, std::string_view path);
result<void> path_unlink_file(context& c, fd_t dir, std::string_view path);
// path_rename: rename, possibly across two directory fds. Errors as above, plus xdev.
result<void> path_rename(context& c, fd_t old_dir, std::string_view old_path, fd_t new_dir,
                         std::string_view new_path);

// path_filestat_set_times: utimensat on the file at a path. Errors as fd_filestat_set_times,
// plus the lookup's.
result<void> path_filestat_set_times(context& c, fd_t dir, uint32_t flags, std::string_view path, timestamp atim,
                                     timestamp mtim, uint16_t fst_flags);
// path_link: a hard link. Following a final symlink links its target, which must itself lie
// beneath the directory. Errors: badf, notcapable, noent, exist, xdev, perm.
result<void> path_link(context& c, fd_t old_dir, uint32_t old_flags, std::string_view old_path, fd_t new_dir,
                       std::string_view new_path);
// path_readlink: the target of a symlink, truncated to `max` bytes (no NUL).
// Errors: badf, notcapable, noent, inval (not a symlink).
result<std::string> path_readlink(context& c, fd_t dir, std::string_view path, size_t max);
// path_symlink: create a symlink with contents `target` (any string: following it later is
// still confined). Errors: badf, notcapable, noent, exist.
result<void> path_symlink(context& c, std::string_view target, fd_t dir, std::string_view path);

// ---- poll -----------------------------------------------------------------------------------
// poll_oneoff: wait until at least one subscription is ready: a clock reaching its deadline
// (relative, or absolute with SUBSCRIPTION_CLOCK_ABSTIME) or an fd ready to read/write. Writes
// one event per ready subscription to `out` (at most subs.size()) and returns their count. A
// problem with one subscription (bad fd, unknown clock) is an event with that error, not a
// failed call. Errors: inval (no subscriptions, or more than kMaxSubscriptions).
inline constexpr uint32_t kMaxSubscriptions = 65536;
asio::awaitable<result<size>> poll_oneoff(context& c, std::span<const subscription> subs,
                                          std::span<event> out);

// ---- sock ---------------------------------------------------------------------------------
// Every sock_* call on an fd: badf when it is not open, notsock when it is not a socket. A call
// that would wait suspends the guest unless the fd has NONBLOCK (then again).

// sock_accept: accept a connection on a listening socket; the new fd has `flags` (only NONBLOCK
// is allowed). Errors: badf, notsock, inval (other flags, or not listening), again, mfile,
// notcapable.
asio::awaitable<result<fd_t>> sock_accept(context& c, fd_t fd, uint16_t flags);

struct recv_result {
  size bytes;
  uint16_t flags;  // roflags
};
// sock_recv: receive into `iov`. riflags: RECV_PEEK leaves the data queued; RECV_WAITALL waits
// until `iov` is full (or the peer shuts down). roflags RECV_DATA_TRUNCATED: a datagram did not
// fit. Errors: badf, notsock, inval (unknown flags), again, notconn, connreset.
asio::awaitable<result<recv_result>> sock_recv(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags);
// sock_send: send `iov`; siflags has no flags (others are inval). Errors: badf, notsock, inval,
// again, notconn, pipe (the peer is gone; never a signal), connreset.
asio::awaitable<result<size>> sock_send(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags);
// sock_shutdown: shut down the read side (SHUT_RD, 1), the write side (SHUT_WR, 2) or both.
// Errors: badf, notsock, inval (other values), notconn (not connected, or listening).
result<void> sock_shutdown(context& c, fd_t fd, uint8_t how);

// ---- the WasmEdge socket extension ----------------------------------------------------------
// https://github.com/second-state/wasmedge_wasi_socket and stealthrocket/wasi-go's
// imports/wasi_snapshot_preview1/wasmedge.go define it. No socket can be opened, and no name
// resolved, unless context::net allows some network; bind, listen, connect and send-to an
// address outside its allow-lists are acces.

// sock_open: a new socket. Errors: notcapable (no network allowed), inval (unknown type),
// afnosupport (a family other than inet4/inet6: unix sockets would reach outside the
// preopens), mfile, nfile.
result<fd_t> sock_open(context& c, address_family af, sock_type type);
// sock_bind: bind to `addr`. Errors: badf, notsock, acces (not allowed), addrinuse, addrnotavail,
// inval (already bound, or the family differs from the socket's).
result<void> sock_bind(context& c, fd_t fd, const sock_endpoint& addr);
// sock_listen: listen with `backlog`. A socket not yet bound listens on an ephemeral port of
// every address, which allow_bind must allow as such. Errors: badf, notsock, acces, inval.
result<void> sock_listen(context& c, fd_t fd, uint32_t backlog);
// sock_connect: connect to `addr`; suspends until it is established unless NONBLOCK (then
// inprogress). Errors: badf, notsock, acces (not allowed), connrefused, timedout, netunreach,
// hostunreach, isconn, already, inprogress, afnosupport.
asio::awaitable<result<void>> sock_connect(context& c, fd_t fd, const sock_endpoint& addr);
// sock_recv_from: sock_recv that also gives the sender's address (family unspec when the socket
// reports none, as a connected stream does).
struct recv_from_result {
  recv_result r;
  sock_endpoint from;
};
asio::awaitable<result<recv_from_result>> sock_recv_from(context& c, fd_t fd, std::span<const ::iovec> iov,
                                                         uint16_t flags);
// sock_send_to: sock_send to `addr` (a datagram socket; ignored by a connected stream, as by the
// kernel). Errors: sock_send's, plus acces (not allowed), afnosupport.
asio::awaitable<result<size>> sock_send_to(context& c, fd_t fd, std::span<const ::iovec> iov, uint16_t flags,
                                           const sock_endpoint& addr);
// sock_getlocaladdr / sock_getpeeraddr: the socket's own address, its peer's.
// Errors: badf, notsock, notconn (no peer), notsup (not an IP socket).
result<sock_endpoint> sock_getlocaladdr(context& c, fd_t fd);
result<sock_endpoint> sock_getpeeraddr(context& c, fd_t fd);
// sock_getsockopt / sock_setsockopt: the SOL_SOCKET options with an integer value, and
// TCP_NODELAY. SO_TYPE answers a sock_type, SO_ERROR a WASI errno. SO_LINGER, SO_RCVTIMEO,
// SO_SNDTIMEO and SO_BINDTODEVICE are notsup (as in wasi-go): a guest's waits are the reactor's,
// which kernel timeouts do not reach. Errors: badf, notsock, inval (unknown level or name, or a
// read-only option set), notsup.
result<int32_t> sock_getsockopt(context& c, fd_t fd, uint32_t level, uint32_t name);
// The value to set is a 32-bit integer (`value` holds 4 bytes; other sizes are inval).
result<void> sock_setsockopt(context& c, fd_t fd, uint32_t level, uint32_t name, std::span<const std::byte> value);
// sock_getaddrinfo: resolve `node` and `service` (either may be empty, not both) through the
// worker's asynchronous resolver, suspending the guest. `hints` gives the family (unspec: any),
// socket type, protocol and aiflags. At most `max` results. Errors: notcapable (no network
// allowed), inval (both empty, bad service), afnosupport, noent (no such name), again (a
// temporary failure of the resolver), notsup.
asio::awaitable<result<std::vector<addrinfo_entry>>> sock_getaddrinfo(context& c, std::string node,
                                                                      std::string service, addrinfo_hints hints,
                                                                      size_t max);

}  // namespace wasio::wasi
