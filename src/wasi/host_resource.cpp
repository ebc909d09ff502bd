// The host resources: files, pipes, terminals and sockets behind a host fd, and directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>

#include <asio/this_coro.hpp>

#include "async/file_io.hpp"
#include "src/wasi/host_file.hpp"
#include "src/wasi/resource.hpp"

namespace wasio::wasi {

// ---- what every resource answers unless its kind does otherwise ---------------------------
asio::awaitable<result<size>> resource::pread(std::span<const ::iovec>, filesize, uint16_t) { co_return errc::spipe; }
asio::awaitable<result<size>> resource::pwrite(std::span<const ::iovec>, filesize, uint16_t) { co_return errc::spipe; }
result<filesize> resource::seek(int64_t, whence) { return errc::spipe; }
result<void> resource::set_size(filesize) { return errc::inval; }
result<void> resource::set_times(timestamp, timestamp, uint16_t) { return errc::notsup; }
result<void> resource::advise(filesize, filesize, uint8_t) { return errc::spipe; }
result<void> resource::allocate(filesize, filesize) { return errc::spipe; }
asio::awaitable<result<void>> resource::sync(bool) { co_return errc::inval; }
result<void> resource::set_append(bool) { return ok(); }  // the guest's view alone
result<std::shared_ptr<resource>> resource::open_at(std::string_view, const open_request&) { return errc::notdir; }
result<filestat> resource::stat_at(std::string_view, bool) { return errc::notdir; }
result<void> resource::set_times_at(std::string_view, bool, timestamp, timestamp, uint16_t) { return errc::notdir; }
result<void> resource::create_directory(std::string_view) { return errc::notdir; }
result<void> resource::remove_directory(std::string_view) { return errc::notdir; }
result<void> resource::unlink_file(std::string_view) { return errc::notdir; }
result<void> resource::rename(std::string_view, resource&, std::string_view) { return errc::notdir; }
result<void> resource::link(std::string_view, bool, resource&, std::string_view) { return errc::notdir; }
result<std::string> resource::readlink(std::string_view, size_t) { return errc::notdir; }
result<void> resource::symlink(std::string_view, std::string_view) { return errc::notdir; }
result<std::vector<dirent>> resource::readdir(uint64_t, size_t) { return errc::notdir; }

result<filestat> host_fd_stat(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return from_host_errno(errno);
  return to_filestat(st);
}

result<void> host_fd_set_size(int fd, filesize size) {
  if (size > static_cast<filesize>(INT64_MAX)) return errc::inval;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return from_host_errno(errno);
  return ok();
}

result<void> host_fd_set_times(int fd, timestamp atim, timestamp mtim, uint16_t fl) {
  WASIO_TRY(ts, host_times(atim, mtim, fl));
  if (::futimens(fd, ts.data()) != 0) return from_host_errno(errno);
  return ok();
}

result<void> host_fd_advise(int fd, filesize offset, filesize len, uint8_t advice) {
  if (offset > static_cast<filesize>(INT64_MAX) || len > static_cast<filesize>(INT64_MAX)) return errc::inval;
  // WASI's advice values are POSIX's, in POSIX's order.
  static constexpr int host_advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                        POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  int r = ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(len), host_advice[advice]);
  return r == 0 ? ok() : result<void>(from_host_errno(r));
}

result<void> host_fd_allocate(int fd, filesize offset, filesize len) {
  if (offset > static_cast<filesize>(INT64_MAX) || len > static_cast<filesize>(INT64_MAX) - offset) {
    return errc::inval;
  }
  int r = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
  return r == 0 ? ok() : result<void>(from_host_errno(r));
}

asio::awaitable<result<void>> host_fd_sync(int fd, bool data_only) {
  auto ex = co_await asio::this_coro::executor;
  auto r = co_await async::file_sync(ex, fd, data_only);
  if (r.error) co_return from_host_errno(r.error);
  co_return ok();
}

namespace {

result<size> transferred(const async::io_result& r) {
  if (r.error) return from_host_errno(r.error);
  return static_cast<size>(r.bytes);  // at most the guest's buffers, which fit in 32 bits
}

// A host fd through async::host_stream.
class host_stream_resource final : public resource {
 public:
  host_stream_resource(std::shared_ptr<async::host_stream> s, bool private_file)
      : s_(std::move(s)), private_(private_file) {
    using kind = async::host_stream::kind;
    switch (s_->type()) {
      case kind::regular_file:
        type_ = filetype::regular_file;
        rights_ = rights::regular_file;
        break;
      case kind::block_device:
        type_ = filetype::block_device;
        rights_ = rights::regular_file;
        break;
      case kind::character_device:
        type_ = filetype::character_device;
        // A terminal has no seek rights (wasi-libc's isatty test); /dev/null and friends do.
        rights_ = ::isatty(s_->native_handle()) ? rights::stream : rights::stream | rights::fd_seek | rights::fd_tell;
        break;
      case kind::socket_stream:
      case kind::socket_dgram:
        type_ = s_->type() == kind::socket_dgram ? filetype::socket_dgram : filetype::socket_stream;
        rights_ = rights::socket;
        break;
      default:
        // Pipes have no preview1 file type; wasmtime reports them as `unknown` too. They may be
        // asked to seek (and answer spipe), as programs probe seekability that way.
        type_ = filetype::unknown;
        rights_ = rights::stream | rights::fd_seek | rights::fd_tell;
    }
  }

  filetype type() const override { return type_; }
  uint64_t rights() const override { return rights_; }
  int fd() const { return s_->native_handle(); }
  async::host_stream* host_stream() override { return s_.get(); }

  asio::awaitable<result<size>> read(std::span<const ::iovec> iov, uint16_t flags) override {
    return transfer(iov, std::nullopt, flags, false);
  }
  asio::awaitable<result<size>> write(std::span<const ::iovec> iov, uint16_t flags) override {
    return transfer(iov, std::nullopt, flags, true);
  }
  result<size> try_read(std::span<const ::iovec> iov) override { return transferred(s_->try_readv(iov)); }
  result<size> try_write(std::span<const ::iovec> iov) override { return transferred(s_->try_writev(iov)); }

  asio::awaitable<result<size>> pread(std::span<const ::iovec> iov, filesize offset, uint16_t flags) override {
    return transfer(iov, offset, flags, false);
  }
  asio::awaitable<result<size>> pwrite(std::span<const ::iovec> iov, filesize offset, uint16_t flags) override {
    return transfer(iov, offset, flags, true);
  }
  result<filesize> seek(int64_t offset, whence w) override {
    if (s_->can_block()) return errc::spipe;  // pipes, terminals, sockets
    int host_whence = w == whence::set ? SEEK_SET : w == whence::cur ? SEEK_CUR : SEEK_END;
    off_t r = ::lseek(fd(), static_cast<off_t>(offset), host_whence);
    if (r < 0) return from_host_errno(errno);
    return static_cast<filesize>(r);
  }
  result<filestat> stat() override {
    WASIO_TRY(fs, host_fd_stat(fd()));
    if (type_ == filetype::unknown) fs.type = filetype::unknown;  // pipes, as fdstat says
    return fs;
  }
  result<void> set_size(filesize size) override { return host_fd_set_size(fd(), size); }
  result<void> set_times(timestamp atim, timestamp mtim, uint16_t fl) override {
    return host_fd_set_times(fd(), atim, mtim, fl);
  }
  result<void> advise(filesize offset, filesize len, uint8_t advice) override {
    return host_fd_advise(fd(), offset, len, advice);
  }
  result<void> allocate(filesize offset, filesize len) override { return host_fd_allocate(fd(), offset, len); }
  asio::awaitable<result<void>> sync(bool data_only) override { return host_fd_sync(fd(), data_only); }
  result<void> set_append(bool on) override {
    // Stdio descriptions are shared with the embedder and keep the guest's flags as a view.
    if (!private_) return ok();
    int fl = ::fcntl(fd(), F_GETFL);
    if (fl < 0) return from_host_errno(errno);
    fl = on ? (fl | O_APPEND) : (fl & ~O_APPEND);
    if (::fcntl(fd(), F_SETFL, fl) != 0) return from_host_errno(errno);
    return ok();
  }

  async::readiness poll(bool write) override {
    async::readiness r = write ? s_->poll_writable() : s_->poll_readable();
    if (!s_->can_block()) r.ready = true;  // files are always ready, as poll(2) says
    return r;
  }
  asio::awaitable<void> wait(bool write) override {
    auto self = s_;
    // Two statements, not `co_await (c ? a() : b())`: GCC 12 mishandles awaitable temporaries in
    // a conditional expression.
    if (write) {
      co_await self->wait_writable();
    } else {
      co_await self->wait_readable();
    }
  }

 private:
  asio::awaitable<result<size>> transfer(std::span<const ::iovec> iov, std::optional<filesize> offset, uint16_t flags,
                                         bool write) {
    if (offset && s_->can_block()) co_return errc::spipe;  // pread/pwrite on pipes, terminals, sockets
    if (offset && *offset > static_cast<filesize>(INT64_MAX)) co_return errc::inval;
    auto s = s_;  // the shared_ptr keeps the stream alive if the guest closes the fd meanwhile
    async::io_result r;
    // Statements, not conditional expressions around co_await: see docs/why-gcc-coroutines.md.
    if (s->is_file()) {
      // Off the worker when the kernel would block; always for writes to a file opened for
      // synchronous writes.
      bool synced = flags & (fdflags::sync | fdflags::dsync);
      r = co_await async::file_transfer(s->executor(), s->native_handle(), iov, offset, write, synced);
    } else if (write) {
      r = co_await s->async_writev(iov);
    } else {
      r = co_await s->async_readv(iov);
    }
    co_return transferred(r);
  }

  std::shared_ptr<async::host_stream> s_;
  bool private_;
  filetype type_;
  uint64_t rights_;
};

}  // namespace

std::shared_ptr<resource> host_resource(std::shared_ptr<async::host_stream> s, bool private_file) {
  return std::make_shared<host_stream_resource>(std::move(s), private_file);
}


}  // namespace wasio::wasi
