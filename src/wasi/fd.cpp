// fd_* calls: rights and fd flags are checked here, against the fd's entry; what the fd refers to
// answers for its kind (resource.hpp).
#include <climits>

#include "src/wasi/wasi.hpp"

namespace wasio::wasi {
namespace {

// fd_read and fd_write: the same checks, then one transfer that suspends unless NONBLOCK.
asio::awaitable<result<size>> transfer(context& c, fd_t fd, std::span<const ::iovec> iov, bool write) {
  WASIO_CO_TRY(e, c.fds.get(fd, write ? rights::fd_write : rights::fd_read));
  iov = clamp_iov(iov);
  // The shared_ptr keeps the resource alive if the guest closes the fd meanwhile.
  std::shared_ptr<resource> r = e->res;
  uint16_t flags = e->stat.flags;
  if (flags & fdflags::nonblock) co_return write ? r->try_write(iov) : r->try_read(iov);
  // Statements, not conditional expressions around co_await: see docs/why-gcc-coroutines.md.
  if (write) co_return co_await r->write(iov, flags);
  co_return co_await r->read(iov, flags);
}

// fd_pread and fd_pwrite: at an offset, which needs fd_seek besides fd_read or fd_write.
asio::awaitable<result<size>> positional(context& c, fd_t fd, std::span<const ::iovec> iov, filesize offset,
                                         bool write) {
  WASIO_CO_TRY(e, c.fds.get(fd, (write ? rights::fd_write : rights::fd_read) | rights::fd_seek));
  std::shared_ptr<resource> r = e->res;
  uint16_t flags = e->stat.flags;
  iov = clamp_iov(iov);
  if (write) co_return co_await r->pwrite(iov, offset, flags);
  co_return co_await r->pread(iov, offset, flags);
}

}  // namespace

asio::awaitable<result<size>> fd_read(context& c, fd_t fd, std::span<const ::iovec> iov) {
  return transfer(c, fd, iov, false);
}

asio::awaitable<result<size>> fd_write(context& c, fd_t fd, std::span<const ::iovec> iov) {
  return transfer(c, fd, iov, true);
}

asio::awaitable<result<size>> fd_pread(context& c, fd_t fd, std::span<const ::iovec> iov, filesize offset) {
  return positional(c, fd, iov, offset, false);
}

asio::awaitable<result<size>> fd_pwrite(context& c, fd_t fd, std::span<const ::iovec> iov, filesize offset) {
  return positional(c, fd, iov, offset, true);
}

result<void> fd_close(context& c, fd_t fd) { return c.fds.close(fd); }

result<filesize> fd_seek(context& c, fd_t fd, int64_t offset, uint8_t w) {
  // A zero move from the current offset is a tell, and needs only fd_tell (as wasmtime does).
  uint64_t needed = (w == static_cast<uint8_t>(whence::cur) && offset == 0) ? rights::fd_tell
                                                                            : rights::fd_seek;
  WASIO_TRY(e, c.fds.get(fd, needed));
  if (w > static_cast<uint8_t>(whence::end)) return errc::inval;
  return e->res->seek(offset, static_cast<whence>(w));
}

result<filesize> fd_tell(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_tell));
  return e->res->seek(0, whence::cur);
}

result<fdstat> fd_fdstat_get(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd));
  return e->stat;
}

result<void> fd_fdstat_set_flags(context& c, fd_t fd, uint16_t flags) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_fdstat_set_flags));
  if (flags & ~fdflags::all) return errc::inval;
  if (auto r = e->res->set_append(flags & fdflags::append); !r) return r.error();
  e->stat.flags = flags;
  return ok();
}

result<void> fd_fdstat_set_rights(context& c, fd_t fd, uint64_t base, uint64_t inheriting) {
  WASIO_TRY(e, c.fds.get(fd));
  if ((base & ~e->stat.rights_base) || (inheriting & ~e->stat.rights_inheriting)) return errc::notcapable;
  e->stat.rights_base = base;
  e->stat.rights_inheriting = inheriting;
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

result<void> fd_renumber(context& c, fd_t from, fd_t to) { return c.fds.renumber(from, to); }

result<filestat> fd_filestat_get(context& c, fd_t fd) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_filestat_get));
  return e->res->stat();
}

result<void> fd_filestat_set_size(context& c, fd_t fd, filesize size) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_filestat_set_size));
  return e->res->set_size(size);
}

result<void> fd_filestat_set_times(context& c, fd_t fd, timestamp atim, timestamp mtim, uint16_t fst_flags) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_filestat_set_times));
  return e->res->set_times(atim, mtim, fst_flags);
}

result<void> fd_advise(context& c, fd_t fd, filesize offset, filesize len, uint8_t advice) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_advise));
  if (advice > advice_max) return errc::inval;
  return e->res->advise(offset, len, advice);
}

result<void> fd_allocate(context& c, fd_t fd, filesize offset, filesize len) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_allocate));
  return e->res->allocate(offset, len);
}

namespace {
asio::awaitable<result<void>> flush(context& c, fd_t fd, bool data_only) {
  WASIO_CO_TRY(e, c.fds.get(fd, data_only ? rights::fd_datasync : rights::fd_sync));
  std::shared_ptr<resource> r = e->res;  // the guest may close the fd while the flush waits
  co_return co_await r->sync(data_only);
}
}  // namespace

asio::awaitable<result<void>> fd_datasync(context& c, fd_t fd) { return flush(c, fd, true); }
asio::awaitable<result<void>> fd_sync(context& c, fd_t fd) { return flush(c, fd, false); }

result<std::vector<dirent>> fd_readdir(context& c, fd_t fd, uint64_t cookie, size_t max_bytes) {
  WASIO_TRY(e, c.fds.get(fd, rights::fd_readdir));
  return e->res->readdir(cookie, max_bytes);
}

}  // namespace wasio::wasi
