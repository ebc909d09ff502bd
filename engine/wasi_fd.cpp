// Thunks: fd_*.
#include <optional>

#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

// The transfer fd_read / fd_write / fd_pread / fd_pwrite ask for, not yet started. Chosen in a
// plain function so that transfer() below awaits one operation: GCC gives each co_await of a
// coroutine its own room in the frame, kept while the guest waits.
asio::awaitable<result<wasi::size>> start_transfer(call c, uint32_t fd, std::span<const ::iovec> v, bool write,
                                                   std::optional<uint64_t> offset) {
  if (offset) return write ? wasi::fd_pwrite(c.ctx(), fd, v, *offset) : wasi::fd_pread(c.ctx(), fd, v, *offset);
  return write ? wasi::fd_write(c.ctx(), fd, v) : wasi::fd_read(c.ctx(), fd, v);
}

// fd_read / fd_write / fd_pread / fd_pwrite: decode the iovecs, transfer (at `offset` if one is
// given), store the count. Every pointer is checked before the transfer: data taken from a pipe
// must not be lost to a bad result pointer.
asio::awaitable<errc> transfer(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t count_ptr, bool write,
                               std::optional<uint64_t> offset = std::nullopt) {
  WASIO_CO_TRY_ERRC(count, c.mem().out<uint32_t>(count_ptr));
  layout::iovecs iov;
  if (auto d = layout::decode_iovecs(c.mem(), iovs, iovs_len, iov); !d) co_return d.error();
  result<wasi::size> r = co_await start_transfer(c, fd, {iov.data(), iov.size()}, write, offset);
  if (!r) co_return r.error();
  count.set(r.value());
  co_return errc::success;
}

asio::awaitable<errc> fd_read(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nread_ptr) {
  return transfer(c, fd, iovs, iovs_len, nread_ptr, false);
}

asio::awaitable<errc> fd_write(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nwritten_ptr) {
  return transfer(c, fd, iovs, iovs_len, nwritten_ptr, true);
}

asio::awaitable<errc> fd_pread(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint64_t offset, uint32_t nread) {
  return transfer(c, fd, iovs, iovs_len, nread, false, offset);
}

asio::awaitable<errc> fd_pwrite(call c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint64_t offset,
                                uint32_t nwritten) {
  return transfer(c, fd, iovs, iovs_len, nwritten, true, offset);
}

errc fd_close(call c, uint32_t fd) {
  return status(wasi::fd_close(c.ctx(), fd));
}

// wasi_snapshot_preview1 whence: set 0, cur 1, end 2.
errc fd_seek(call c, uint32_t fd, uint64_t offset, uint32_t whence, uint32_t newoffset_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint64_t>(newoffset_ptr));
  if (whence > 2) return errc::inval;
  WASIO_TRY_ERRC(pos, wasi::fd_seek(c.ctx(), fd, static_cast<int64_t>(offset), static_cast<uint8_t>(whence)));
  out.set(pos);
  return errc::success;
}

// wasi_unstable (snapshot 0) numbered whence cur 0, end 1, set 2.
errc fd_seek_snapshot0(call c, uint32_t fd, uint64_t offset, uint32_t whence, uint32_t newoffset_ptr) {
  constexpr wasi::whence to_preview1[] = {wasi::whence::cur, wasi::whence::end, wasi::whence::set};
  if (whence > 2) return errc::inval;
  return fd_seek(c, fd, offset, static_cast<uint32_t>(to_preview1[whence]), newoffset_ptr);
}

errc fd_tell(call c, uint32_t fd, uint32_t offset_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint64_t>(offset_ptr));
  WASIO_TRY_ERRC(pos, wasi::fd_tell(c.ctx(), fd));
  out.set(pos);
  return errc::success;
}

errc fd_fdstat_get(call c, uint32_t fd, uint32_t stat_ptr) {
  if (!c.mem().contains(stat_ptr, layout::fdstat_size)) return errc::fault;
  WASIO_TRY_ERRC(st, wasi::fd_fdstat_get(c.ctx(), fd));
  (void)layout::encode_fdstat(c.mem(), stat_ptr, st);
  return errc::success;
}

errc fd_fdstat_set_flags(call c, uint32_t fd, uint32_t flags) {
  if (flags > 0xffff) return errc::inval;
  return status(wasi::fd_fdstat_set_flags(c.ctx(), fd, static_cast<uint16_t>(flags)));
}

errc fd_prestat_get(call c, uint32_t fd, uint32_t prestat_ptr) {
  WASIO_TRY_ERRC(out, c.mem().bytes(prestat_ptr, layout::prestat_size));
  WASIO_TRY_ERRC(len, wasi::fd_prestat_get(c.ctx(), fd));
  uint8_t rec[layout::prestat_size] = {};  // tag 0: a directory
  std::memcpy(rec + 4, &len, 4);
  std::memcpy(out.data(), rec, sizeof rec);
  return errc::success;
}

errc fd_prestat_dir_name(call c, uint32_t fd, uint32_t path_ptr, uint32_t path_len) {
  WASIO_TRY_ERRC(out, c.mem().bytes(path_ptr, path_len));
  WASIO_TRY_ERRC(name, wasi::fd_prestat_dir_name(c.ctx(), fd));
  if (path_len < name.size()) return errc::nametoolong;
  std::memcpy(out.data(), name.data(), name.size());
  return errc::success;
}

errc fd_advise(call c, uint32_t fd, uint64_t offset, uint64_t len, uint32_t advice) {
  if (advice > 0xff) return errc::inval;
  return status(wasi::fd_advise(c.ctx(), fd, offset, len, static_cast<uint8_t>(advice)));
}
errc fd_allocate(call c, uint32_t fd, uint64_t offset, uint64_t len) {
  return status(wasi::fd_allocate(c.ctx(), fd, offset, len));
}
asio::awaitable<errc> fd_datasync(call c, uint32_t fd) { co_return status(co_await wasi::fd_datasync(c.ctx(), fd)); }
asio::awaitable<errc> fd_sync(call c, uint32_t fd) { co_return status(co_await wasi::fd_sync(c.ctx(), fd)); }
errc fd_fdstat_set_rights(call c, uint32_t fd, uint64_t base, uint64_t inheriting) {
  return status(wasi::fd_fdstat_set_rights(c.ctx(), fd, base, inheriting));
}
errc fd_filestat_set_size(call c, uint32_t fd, uint64_t size) {
  return status(wasi::fd_filestat_set_size(c.ctx(), fd, size));
}
errc fd_filestat_set_times(call c, uint32_t fd, uint64_t atim, uint64_t mtim, uint32_t fst_flags) {
  if (fst_flags > 0xffff) return errc::inval;
  return status(wasi::fd_filestat_set_times(c.ctx(), fd, atim, mtim, static_cast<uint16_t>(fst_flags)));
}
errc fd_renumber(call c, uint32_t from, uint32_t to) { return status(wasi::fd_renumber(c.ctx(), from, to)); }

errc filestat_get(call c, uint32_t fd, uint32_t buf, const layout::filestat_layout& l) {
  if (!c.mem().contains(buf, l.size)) return errc::fault;
  WASIO_TRY_ERRC(st, wasi::fd_filestat_get(c.ctx(), fd));
  return layout::store_filestat(c.mem(), buf, st, l);
}
errc fd_filestat_get(call c, uint32_t fd, uint32_t buf) { return filestat_get(c, fd, buf, layout::preview1_filestat); }
errc fd_filestat_get_snapshot0(call c, uint32_t fd, uint32_t buf) { return filestat_get(c, fd, buf, layout::snapshot0_filestat); }


// fd_readdir: the records as layout::encode_dirents packs them; bufused == buf_len tells the
// guest to call again from the last cookie it read whole.
errc fd_readdir(call c, uint32_t fd, uint32_t buf, uint32_t buf_len, uint64_t cookie, uint32_t bufused_ptr) {
  WASIO_TRY_ERRC(used, c.mem().out<uint32_t>(bufused_ptr));
  WASIO_TRY_ERRC(out, c.mem().bytes(buf, buf_len));
  WASIO_TRY_ERRC(entries, wasi::fd_readdir(c.ctx(), fd, cookie, buf_len));
  used.set(static_cast<uint32_t>(layout::encode_dirents(out, entries)));
  return errc::success;
}

constexpr import_row rows[] = {
    row<"fd_advise", &fd_advise>(),
    row<"fd_allocate", &fd_allocate>(),
    row<"fd_datasync", &fd_datasync>(),
    row<"fd_sync", &fd_sync>(),
    row<"fd_fdstat_set_rights", &fd_fdstat_set_rights>(),
    row<"fd_filestat_set_size", &fd_filestat_set_size>(),
    row<"fd_filestat_set_times", &fd_filestat_set_times>(),
    row<"fd_renumber", &fd_renumber>(),
    row<"fd_read", &fd_read>(),
    row<"fd_write", &fd_write>(),
    row<"fd_pread", &fd_pread>(),
    row<"fd_pwrite", &fd_pwrite>(),
    row<"fd_close", &fd_close>(),
    row<"fd_seek", &fd_seek>(),
    row<"fd_tell", &fd_tell>(),
    row<"fd_fdstat_get", &fd_fdstat_get>(),
    row<"fd_fdstat_set_flags", &fd_fdstat_set_flags>(),
    row<"fd_prestat_get", &fd_prestat_get>(),
    row<"fd_prestat_dir_name", &fd_prestat_dir_name>(),
    row<"fd_filestat_get", &fd_filestat_get>(),
    row<"fd_readdir", &fd_readdir>(),
    // wasi_unstable's variants, whose ABI differs.
    row<"fd_filestat_get", &fd_filestat_get_snapshot0, wasi::unstable>(),
    row<"fd_seek", &fd_seek_snapshot0, wasi::unstable>(),
};

}  // namespace

std::span<const import_row> fd_rows() { return rows; }

}  // namespace wasio::engine
