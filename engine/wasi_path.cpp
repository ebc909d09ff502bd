// Thunks: path_*.
#include <string_view>

#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

errc path_filestat(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf,
                   const layout::filestat_layout& l) {
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  if (!c.mem().contains(buf, l.size)) return errc::fault;
  WASIO_TRY_ERRC(st, wasi::path_filestat_get(c.ctx(), fd, flags, p));
  return layout::store_filestat(c.mem(), buf, st, l);
}
errc path_filestat_get(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf) {
  return path_filestat(c, fd, flags, path, path_len, buf, layout::preview1_filestat);
}
errc path_filestat_get_snapshot0(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf) {
  return path_filestat(c, fd, flags, path, path_len, buf, layout::snapshot0_filestat);
}


errc path_open(call c, uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t path_len, uint32_t oflags,
               uint64_t rights_base, uint64_t rights_inheriting, uint32_t fdflags, uint32_t fd_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint32_t>(fd_ptr));
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  if (oflags > 0xffff || fdflags > 0xffff) return errc::inval;
  WASIO_TRY_ERRC(opened, wasi::path_open(c.ctx(), fd, dirflags, p, static_cast<uint16_t>(oflags), rights_base,
                                         rights_inheriting, static_cast<uint16_t>(fdflags)));
  out.set(opened);
  return errc::success;
}

template <result<void> (*Fn)(wasi::context&, wasi::fd_t, std::string_view)>
errc on_path(call c, uint32_t fd, uint32_t path, uint32_t path_len) {
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  return status(Fn(c.ctx(), fd, p));
}
errc path_create_directory(call c, uint32_t fd, uint32_t path, uint32_t len) {
  return on_path<&wasi::path_create_directory>(c, fd, path, len);
}
errc path_remove_directory(call c, uint32_t fd, uint32_t path, uint32_t len) {
  return on_path<&wasi::path_remove_directory>(c, fd, path, len);
}
errc path_unlink_file(call c, uint32_t fd, uint32_t path, uint32_t len) {
  return on_path<&wasi::path_unlink_file>(c, fd, path, len);
}

errc path_rename(call c, uint32_t fd, uint32_t old_path, uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                 uint32_t new_len) {
  WASIO_TRY_ERRC(from, layout::guest_string(c.mem(), old_path, old_len));
  WASIO_TRY_ERRC(to, layout::guest_string(c.mem(), new_path, new_len));
  return status(wasi::path_rename(c.ctx(), fd, from, new_fd, to));
}

errc path_filestat_set_times(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint64_t atim,
                              uint64_t mtim, uint32_t fst_flags) {
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  if (fst_flags > 0xffff) return errc::inval;
  return status(wasi::path_filestat_set_times(c.ctx(), fd, flags, p, atim, mtim, static_cast<uint16_t>(fst_flags)));
}

errc path_link(call c, uint32_t old_fd, uint32_t old_flags, uint32_t old_path, uint32_t old_len, uint32_t new_fd,
               uint32_t new_path, uint32_t new_len) {
  WASIO_TRY_ERRC(from, layout::guest_string(c.mem(), old_path, old_len));
  WASIO_TRY_ERRC(to, layout::guest_string(c.mem(), new_path, new_len));
  return status(wasi::path_link(c.ctx(), old_fd, old_flags, from, new_fd, to));
}

// path_readlink: the target, truncated to buf_len, no NUL; bufused says how much was written.
errc path_readlink(call c, uint32_t fd, uint32_t path, uint32_t path_len, uint32_t buf, uint32_t buf_len,
                   uint32_t bufused_ptr) {
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  WASIO_TRY_ERRC(out, c.mem().bytes(buf, buf_len));
  WASIO_TRY_ERRC(used, c.mem().out<uint32_t>(bufused_ptr));
  WASIO_TRY_ERRC(target, wasi::path_readlink(c.ctx(), fd, p, buf_len));
  std::memcpy(out.data(), target.data(), target.size());
  used.set(static_cast<uint32_t>(target.size()));
  return errc::success;
}

errc path_symlink(call c, uint32_t old_path, uint32_t old_len, uint32_t fd, uint32_t new_path, uint32_t new_len) {
  WASIO_TRY_ERRC(target, layout::guest_string(c.mem(), old_path, old_len));
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), new_path, new_len));
  return status(wasi::path_symlink(c.ctx(), target, fd, p));
}

constexpr import_row rows[] = {
    row<"path_filestat_set_times", &path_filestat_set_times>(),
    row<"path_link", &path_link>(),
    row<"path_readlink", &path_readlink>(),
    row<"path_symlink", &path_symlink>(),
    row<"path_open", &path_open>(),
    row<"path_filestat_get", &path_filestat_get>(),
    row<"path_create_directory", &path_create_directory>(),
    row<"path_remove_directory", &path_remove_directory>(),
    row<"path_unlink_file", &path_unlink_file>(),
    row<"path_rename", &path_rename>(),
    // wasi_unstable's variants, whose ABI differs.
    row<"path_filestat_get", &path_filestat_get_snapshot0, wasi::unstable>(),
};

}  // namespace

std::span<const import_row> path_rows() { return rows; }

}  // namespace wasio::engine
