// fd_* calls and sched_yield.
#include <fcntl.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>

#include "async/file_io.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::wasi {
namespace {

result<size> transferred(const async::io_result& r) {
  if (r.error) return from_host_errno(r.error);
  return static_cast<size>(r.bytes);  // at most the guest's buffers, which fit in 32 bits
}

}  // namespace

asio::awaitable<result<void>> sched_yield() {
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, asio::use_awaitable);
  co_return ok();
}

namespace {

// fd_read and fd_write: the same checks, then one transfer that suspends unless NONBLOCK.
asio::awaitable<result<size>> transfer(context& c, fd_t fd, std::span<const ::iovec> iov, bool write) {
  WASIO_CO_TRY(e, c.fds.get(fd, write ? rights::fd_write : rights::fd_read));
  if (e->stat.type == filetype::directory) co_return errc::isdir;
  if (!e->stream) co_return errc::badf;
  iov = clamp_iov(iov);
  // The shared_ptr keeps the stream alive if the guest closes the fd meanwhile.
  auto stream = e->stream;
  if (e->stat.flags & fdflags::nonblock) {
    co_return transferred(write ? stream->try_writev(iov) : stream->try_readv(iov));
  }
  if (stream->is_file()) co_return co_await file_transfer(c, *e, iov, std::nullopt, write);
  async::io_result r;
  if (write) {
    r = co_await stream->async_writev(iov);
  } else {
    r = co_await stream->async_readv(iov);
  }
  co_return transferred(r);
}

}  // namespace

asio::awaitable<result<size>> file_transfer(const context& c, const fd_entry& e,
                                            std::span<const ::iovec> iov,
                                            std::optional<filesize> offset, bool write) {
  auto stream = e.stream;  // taken before the first wait: the guest may close the fd meanwhile
  bool synced = e.stat.flags & (fdflags::sync | fdflags::dsync);
  // A statement, not a function argument, around co_await: docs/why-gcc-coroutines.md.
  async::io_result r = co_await async::file_transfer(c.executor, stream->native_handle(), iov, offset, write, synced);
  co_return transferred(r);
}

asio::awaitable<result<size>> fd_read(context& c, fd_t fd, std::span<const ::iovec> iov) {
  return transfer(c, fd, iov, false);
}

asio::awaitable<result<size>> fd_write(context& c, fd_t fd, std::span<const ::iovec> iov) {
  return transfer(c, fd, iov, true);
}

result<void> fd_close(context& c, fd_t fd) { return c.fds.close(fd); }

result<filesize> fd_seek(context& c, fd_t fd, int64_t offset, uint8_t w) {
  // A zero move from the current offset is a tell, and needs only fd_tell (as wasmtime does).
  uint64_t needed = (w == static_cast<uint8_t>(whence::cur) && offset == 0) ? rights::fd_tell
                                                                            : rights::fd_seek;
  WASIO_TRY(e, c.fds.get(fd, needed));
  int host_whence;
  switch (static_cast<whence>(w)) {
    case whence::set: host_whence = SEEK_SET; break;
    case whence::cur: host_whence = SEEK_CUR; break;
    case whence::end: host_whence = SEEK_END; break;
    default: return errc::inval;
  }
  if (!e->stream) return e->stat.type == filetype::directory ? errc::isdir : errc::badf;
  if (e->stream->can_block()) return errc::spipe;  // pipes, terminals, sockets
  off_t r = ::lseek(e->stream->native_handle(), static_cast<off_t>(offset), host_whence);
  if (r < 0) return from_host_errno(errno);
  return static_cast<filesize>(r);
}

result<filesize> fd_tell(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_tell));
  if (!e->stream) return e->stat.type == filetype::directory ? errc::isdir : errc::badf;
  if (e->stream->can_block()) return errc::spipe;
  off_t r = ::lseek(e->stream->native_handle(), 0, SEEK_CUR);
  if (r < 0) return from_host_errno(errno);
  return static_cast<filesize>(r);
}

result<fdstat> fd_fdstat_get(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd));
  return e->stat;
}

result<void> fd_fdstat_set_flags(context& c, fd_t fd, uint16_t flags) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_fdstat_set_flags));
  if (flags & ~fdflags::all) return errc::inval;
  if (e->private_description && e->stream) {
    int h = e->stream->native_handle();
    int fl = ::fcntl(h, F_GETFL);
    if (fl < 0) return from_host_errno(errno);
    fl = (flags & fdflags::append) ? (fl | O_APPEND) : (fl & ~O_APPEND);
    if (::fcntl(h, F_SETFL, fl) != 0) return from_host_errno(errno);
  }
  e->stat.flags = flags;
  return ok();
}

result<size> fd_prestat_get(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd));
  if (!e->is_preopen) return errc::badf;
  return static_cast<size>(e->preopen_name.size());
}

result<std::string_view> fd_prestat_dir_name(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd));
  if (!e->is_preopen) return errc::badf;
  return std::string_view(e->preopen_name);
}

}  // namespace wasio::wasi
