// Thunks: path_*, fd_readdir, fd_filestat_get.
#include <string_view>

#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

// filestat, preview1: dev u64 @0, ino u64 @8, filetype u8 @16, nlink u64 @24, size u64 @32,
// atim @40, mtim @48, ctim @56 (64 bytes). wasi_unstable had a u32 nlink @20, so everything
// after it is 8 bytes earlier (56 bytes).
struct filestat_layout {
  uint32_t size, nlink, nlink_bytes, st_size, atim, mtim, ctim;
};
constexpr filestat_layout preview1_filestat{64, 24, 8, 32, 40, 48, 56};
constexpr filestat_layout snapshot0_filestat{56, 20, 4, 24, 32, 40, 48};

errc store_filestat(const guest_memory& m, uint32_t ptr, const wasi::filestat& st, const filestat_layout& l) {
  WASIO_TRY_ERRC(out, m.bytes(ptr, l.size));
  std::byte rec[64] = {};
  std::memcpy(rec, &st.dev, 8);
  std::memcpy(rec + 8, &st.ino, 8);
  rec[16] = static_cast<std::byte>(st.type);
  std::memcpy(rec + l.nlink, &st.nlink, l.nlink_bytes);  // little-endian: the low bytes
  std::memcpy(rec + l.st_size, &st.size, 8);
  std::memcpy(rec + l.atim, &st.atim, 8);
  std::memcpy(rec + l.mtim, &st.mtim, 8);
  std::memcpy(rec + l.ctim, &st.ctim, 8);
  std::memcpy(out.data(), rec, l.size);
  return errc::success;
}

errc filestat_get(call c, uint32_t fd, uint32_t buf, const filestat_layout& l) {
  if (!c.mem().contains(buf, l.size)) return errc::fault;
  WASIO_TRY_ERRC(st, wasi::fd_filestat_get(c.ctx(), fd));
  return store_filestat(c.mem(), buf, st, l);
}
errc fd_filestat_get(call c, uint32_t fd, uint32_t buf) { return filestat_get(c, fd, buf, preview1_filestat); }
errc fd_filestat_get_snapshot0(call c, uint32_t fd, uint32_t buf) { return filestat_get(c, fd, buf, snapshot0_filestat); }

errc path_filestat(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf,
                   const filestat_layout& l) {
  WASIO_TRY_ERRC(p, layout::guest_string(c.mem(), path, path_len));
  if (!c.mem().contains(buf, l.size)) return errc::fault;
  WASIO_TRY_ERRC(st, wasi::path_filestat_get(c.ctx(), fd, flags, p));
  return store_filestat(c.mem(), buf, st, l);
}
errc path_filestat_get(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf) {
  return path_filestat(c, fd, flags, path, path_len, buf, preview1_filestat);
}
errc path_filestat_get_snapshot0(call c, uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t buf) {
  return path_filestat(c, fd, flags, path, path_len, buf, snapshot0_filestat);
}

// fd_readdir: dirent records {u64 d_next, u64 d_ino, u32 d_namlen, u8 d_type} (24 bytes), each
// followed by its name, packed into the buffer; the last one is cut off where the buffer ends,
// and bufused == buf_len then tells the guest to call again from the last cookie it read whole.
errc fd_readdir(call c, uint32_t fd, uint32_t buf, uint32_t buf_len, uint64_t cookie, uint32_t bufused_ptr) {
  WASIO_TRY_ERRC(used, c.mem().out<uint32_t>(bufused_ptr));
  WASIO_TRY_ERRC(out, c.mem().bytes(buf, buf_len));
  WASIO_TRY_ERRC(entries, wasi::fd_readdir(c.ctx(), fd, cookie, buf_len));
  size_t at = 0;
  for (auto& e : entries) {
    std::byte rec[24] = {};
    uint32_t namlen = static_cast<uint32_t>(e.name.size());
    std::memcpy(rec, &e.next, 8);
    std::memcpy(rec + 8, &e.ino, 8);
    std::memcpy(rec + 16, &namlen, 4);
    rec[20] = static_cast<std::byte>(e.type);
    size_t n = std::min<size_t>(sizeof rec, buf_len - at);
    std::memcpy(out.data() + at, rec, n);
    at += n;
    n = std::min<size_t>(namlen, buf_len - at);
    std::memcpy(out.data() + at, e.name.data(), n);
    at += n;
    if (at == buf_len) break;
  }
  used.set(static_cast<uint32_t>(at));
  return errc::success;
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
    row<"fd_filestat_get", &fd_filestat_get>(),
    row<"fd_readdir", &fd_readdir>(),
    row<"path_open", &path_open>(),
    row<"path_filestat_get", &path_filestat_get>(),
    row<"path_create_directory", &path_create_directory>(),
    row<"path_remove_directory", &path_remove_directory>(),
    row<"path_unlink_file", &path_unlink_file>(),
    row<"path_rename", &path_rename>(),
    // wasi_unstable's variants, whose ABI differs.
    row<"fd_filestat_get", &fd_filestat_get_snapshot0, wasi::unstable>(),
    row<"path_filestat_get", &path_filestat_get_snapshot0, wasi::unstable>(),
};

}  // namespace

std::span<const import_row> path_rows() { return rows; }

}  // namespace wasio::engine
