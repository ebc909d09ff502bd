// The path_* calls: the rights of the directory fds are checked here, and path_open's are
// narrowed; the directory resolves the paths, confined beneath itself (resource.hpp; the host's
// in host_directory.cpp).
#include "src/wasi/wasi.hpp"

namespace wasio::wasi {

result<fd_t> path_open(context& c, fd_t dir, uint32_t dirflags, std::string_view path, uint16_t of,
                       uint64_t rights_base, uint64_t rights_inheriting, uint16_t fdfl) {
  uint64_t needed = rights::path_open;
  if (of & oflags::creat) needed |= rights::path_create_file;
  if (of & oflags::trunc) needed |= rights::path_filestat_set_size;
  WASIO_TRY(parent, c.fds.get(dir, needed));
  if (parent->stat.type != filetype::directory) return errc::notdir;
  if (of & ~(oflags::creat | oflags::directory | oflags::excl | oflags::trunc)) return errc::inval;
  // CREAT with DIRECTORY: Linux gives EINVAL since 6.4 and created a regular file before it, so
  // the answer is given here, before any lookup, for every kernel and directory kind alike (as
  // wasmtime's wasi-common path_open: "directory oflags").
  if ((of & oflags::creat) && (of & oflags::directory)) return errc::inval;
  if (fdfl & ~fdflags::all) return errc::inval;
  // Rights are narrowed, never refused: wasi-libc asks for all of them.
  uint64_t base = rights_base & parent->stat.rights_inheriting;
  uint64_t inheriting = rights_inheriting & parent->stat.rights_inheriting;
  resource::open_request r;
  r.oflags = of;
  r.fdflags = fdfl;
  r.write = base & (rights::fd_write | rights::fd_allocate | rights::fd_filestat_set_size);
  r.read = base & (rights::fd_read | rights::fd_readdir);
  r.follow = dirflags & lookupflags::symlink_follow;
  r.executor = c.executor;
  WASIO_TRY(opened, parent->res->open_at(path, r));
  bool is_dir = opened->type() == filetype::directory;
  fd_entry e = entry_for(std::move(opened));  // type and the rights such a file can have
  e.stat.flags = fdfl;
  e.stat.rights_base &= base;
  e.stat.rights_inheriting = is_dir ? inheriting : 0;
  return c.fds.insert(std::move(e));
}

result<filestat> path_filestat_get(context& c, fd_t dir, uint32_t flags, std::string_view path) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_filestat_get));
  return e->res->stat_at(path, flags & lookupflags::symlink_follow);
}

result<void> path_create_directory(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_create_directory));
  return e->res->create_directory(path);
}

result<void> path_remove_directory(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_remove_directory));
  return e->res->remove_directory(path);
}

result<void> path_unlink_file(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_unlink_file));
  return e->res->unlink_file(path);
}

result<void> path_rename(context& c, fd_t old_dir, std::string_view old_path, fd_t new_dir,
                         std::string_view new_path) {
  WASIO_TRY(from, c.fds.get(old_dir, rights::path_rename_source));
  WASIO_TRY(to, c.fds.get(new_dir, rights::path_rename_target));
  return from->res->rename(old_path, *to->res, new_path);
}

result<void> path_filestat_set_times(context& c, fd_t dir, uint32_t flags, std::string_view path, timestamp atim,
                                     timestamp mtim, uint16_t fst_flags) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_filestat_set_times));
  return e->res->set_times_at(path, flags & lookupflags::symlink_follow, atim, mtim, fst_flags);
}

result<void> path_link(context& c, fd_t old_dir, uint32_t old_flags, std::string_view old_path, fd_t new_dir,
                       std::string_view new_path) {
  WASIO_TRY(from, c.fds.get(old_dir, rights::path_link_source));
  WASIO_TRY(to, c.fds.get(new_dir, rights::path_link_target));
  return from->res->link(old_path, old_flags & lookupflags::symlink_follow, *to->res, new_path);
}

result<std::string> path_readlink(context& c, fd_t dir, std::string_view path, size_t max) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_readlink));
  return e->res->readlink(path, max);
}

result<void> path_symlink(context& c, std::string_view target, fd_t dir, std::string_view path) {
  WASIO_TRY(e, c.fds.get(dir, rights::path_symlink));
  if (target.find('\0') != std::string_view::npos) return errc::inval;
  return e->res->symlink(target, path);
}

}  // namespace wasio::wasi
