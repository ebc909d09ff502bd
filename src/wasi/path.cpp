// Files and directories beneath preopens: the path_* calls.
//
// The sandbox is the kernel's: every lookup goes through openat2 with RESOLVE_BENEATH (no `..`
// above the directory, no absolute paths, no symlink that points outside) and
// RESOLVE_NO_MAGICLINKS (no /proc/self/fd jumps), so a path that a rename changes during the
// lookup cannot escape either. Calls that act on a final name (mkdir, unlink, rename, stat
// without following) first open its parent beneath the directory, then use the *at call with
// a single component.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <deque>
#include <vector>
#include <cerrno>
#include <string>

#include "async/file_io.hpp"
#include "src/wasi/host_file.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::wasi {
namespace {

using async::unique_fd;

// A lookup that tried to leave its directory: EXDEV from RESOLVE_BENEATH, ELOOP from a magic
// link. The guest was not given that capability.
errc path_errno(int e) { return e == EXDEV ? errc::notcapable : from_host_errno(e); }

result<void> check_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return errc::inval;
  if (path.empty()) return errc::noent;
  return ok();
}

result<unique_fd> openat2_beneath(int dirfd, const std::string& path, int flags, bool follow) {
  ::open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  how.mode = (flags & O_CREAT) ? 0666 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename raced a `..` and the kernel could not prove it stayed beneath; retrying
  // is what openat2(2) advises. Bounded, so a process renaming in a loop cannot spin us.
  for (int tries = 0;; ++tries) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return unique_fd(static_cast<int>(fd));
    if (errno == EAGAIN && tries == 64) return errc::again;
    if (errno != EINTR && errno != EAGAIN) return path_errno(errno);
  }
}

// The same lookup without openat2 (kernels before 5.6): one component at a time, each opened
// with O_NOFOLLOW relative to the directory fd already held, `..` taken from our own stack of
// held directories (never from the file system, so a directory renamed meanwhile cannot lead
// out), and symlinks read and expanded by hand: an absolute target is notcapable, more than 40
// hops is loop (Linux's limit).
result<unique_fd> walk_beneath(int dirfd, const std::string& path, int flags, bool follow) {
  if (!path.empty() && path[0] == '/') return errc::notcapable;
  std::deque<std::string> todo;
  auto push_components = [&todo](const std::string& p, bool front) {
    std::vector<std::string> parts;
    for (size_t b = 0, e; b <= p.size(); b = e + 1) {
      e = p.find('/', b);
      if (e == std::string::npos) e = p.size();
      if (e > b) parts.push_back(p.substr(b, e - b));
    }
    if (front) todo.insert(todo.begin(), parts.begin(), parts.end());
    else todo.insert(todo.end(), parts.begin(), parts.end());
  };
  push_components(path, false);
  bool want_dir = !path.empty() && path.back() == '/';
  std::vector<unique_fd> held;  // directories below dirfd, innermost last
  auto cur = [&] { return held.empty() ? dirfd : held.back().get(); };
  int final_flags = flags | O_CLOEXEC;
  int hops = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    bool last = todo.empty();
    if (comp == ".") continue;
    if (comp == "..") {
      if (held.empty()) return errc::notcapable;
      held.pop_back();
      continue;
    }
    bool is_link = false;
    if (last) {
      // A trailing slash makes the last component a directory: a symlink there is followed
      // even without FOLLOW, as the kernel (and openat2) resolve it.
      bool follow_last = follow || want_dir;
      int fd = ::openat(cur(), comp.c_str(), final_flags | O_NOFOLLOW | (want_dir ? O_DIRECTORY : 0), 0666);
      if (fd >= 0) {
        unique_fd f(fd);
        struct stat st {};
        // O_PATH | O_NOFOLLOW opens a symlink itself: follow it by hand if asked to.
        if (!(follow_last && (flags & O_PATH) && ::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))) return f;
        is_link = true;
      } else if (struct stat st {}; follow_last && (errno == ELOOP || errno == ENOTDIR) &&
                                    ::fstatat(cur(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                    S_ISLNK(st.st_mode)) {
        is_link = true;
      } else {
        return from_host_errno(errno);
      }
    } else {
      int fd = ::openat(cur(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return from_host_errno(errno);
      unique_fd f(fd);
      struct stat st {};
      if (::fstat(fd, &st) != 0) return from_host_errno(errno);
      if (S_ISDIR(st.st_mode)) {
        held.push_back(std::move(f));
        continue;
      }
      if (!S_ISLNK(st.st_mode)) return errc::notdir;
      is_link = true;
    }
    if (is_link) {
      if (++hops > 40) return errc::loop;
      char target[PATH_MAX];
      ssize_t n = ::readlinkat(cur(), comp.c_str(), target, sizeof target);
      if (n < 0) return from_host_errno(errno);
      std::string t(target, static_cast<size_t>(n));
      if (t.empty()) return errc::noent;
      if (t[0] == '/') return errc::notcapable;
      if (last && t.back() == '/') want_dir = true;
      push_components(t, true);
    }
  }
  // Only `.` and `..` were left: the directory reached is the file.
  int fd = ::openat(cur(), ".", final_flags & ~(O_CREAT | O_EXCL));
  if (fd < 0) return from_host_errno(errno);
  return unique_fd(fd);
}

// WASIO_RESOLVE=walk selects the fallback from the start (for end-to-end tests of it).
std::atomic<bool> force_walk{[] {
  const char* v = std::getenv("WASIO_RESOLVE");
  return v && std::string_view(v) == "walk";
}()};

bool have_openat2() {
  static const bool yes = [] {
    ::open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return fd >= 0 || errno != ENOSYS;
  }();
  return yes;
}

result<unique_fd> open_beneath(int dirfd, const std::string& path, int flags, bool follow) {
  if (have_openat2() && !force_walk.load(std::memory_order_relaxed)) return openat2_beneath(dirfd, path, flags, follow);
  return walk_beneath(dirfd, path, flags, follow);
}

// The directory behind `fd`, which must hold `needed`.
result<int> dir_of(context& c, fd_t fd, uint64_t needed) {
  WASIO_TRY(e, c.fds.get(fd, needed));
  int dir = e->res->directory_fd();
  if (dir < 0) return errc::notdir;
  return dir;
}

// The parent of the last component of `path`, opened beneath `dirfd`, and that component, for
// the calls that act on a name (mkdir, unlink, rename, readlink, symlink, link, times without
// FOLLOW). Only the parent's lookup is confined by the kernel; the *at call that takes the name
// is not, so the name is always one plain component: a trailing slash would make the kernel
// follow a symlink there even without FOLLOW, and ".." would name the directory above the
// parent (with the preopen as parent: outside the sandbox). So trailing slashes are removed
// (`trailing_slash` keeps what they asked: a directory), and a path that ends in "." or ".."
// names a directory, resolved as a whole beneath `dirfd`, with "." as the name.
struct parent {
  unique_fd fd;
  std::string name;
  bool trailing_slash = false;
};
result<parent> open_parent(int dirfd, std::string_view path) {
  if (auto r = check_path(path); !r) return r.error();
  std::string p(path);
  bool trailing_slash = false;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
    trailing_slash = true;
  }
  auto slash = p.rfind('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    WASIO_TRY(fd, open_beneath(dirfd, p, O_PATH | O_DIRECTORY, true));
    return parent{std::move(fd), ".", true};
  }
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
  WASIO_TRY(fd, open_beneath(dirfd, dir, O_PATH | O_DIRECTORY, true));
  return parent{std::move(fd), std::move(name), trailing_slash};
}

// What `p`'s name is, not following a symlink there: its stat, or the lookup's errno.
result<struct stat> stat_name(const parent& p) {
  struct stat st {};
  if (::fstatat(p.fd.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return path_errno(errno);
  return st;
}

// "name/" where name is a symlink names the directory the symlink leads to (POSIX path
// resolution), for the calls that follow it: that directory, `path` resolved beneath `dirfd` as
// any lookup is, with "." as the name. Other names are left as they are.
result<void> follow_trailing_slash(int dirfd, std::string_view path, parent& p) {
  if (!p.trailing_slash || p.name == ".") return ok();
  auto st = stat_name(p);
  if (!st || !S_ISLNK(st.value().st_mode)) return ok();
  WASIO_TRY(fd, open_beneath(dirfd, std::string(path), O_PATH | O_DIRECTORY, true));
  p.fd = std::move(fd);
  p.name = ".";
  return ok();
}

// A new name given with a trailing slash ("new/"): the kernel creates nothing there (only
// mkdir may), so it is `exist` when the name exists and `noent` when it does not.
result<void> refuse_trailing_slash_create(const parent& p) {
  if (!p.trailing_slash) return ok();
  auto st = stat_name(p);
  return st ? errc::exist : st.error();
}

// /proc/self/fd/N: names an fd we opened beneath a directory, for calls that have no
// fd-relative form that follows it (utimensat, linkat without CAP_DAC_READ_SEARCH).
std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace

void use_fallback_resolution(bool on) { force_walk.store(on, std::memory_order_relaxed); }

result<fd_t> path_open(context& c, fd_t dirfd_guest, uint32_t dirflags, std::string_view path, uint16_t of,
                       uint64_t rights_base, uint64_t rights_inheriting, uint16_t fdfl) {
  uint64_t needed = rights::path_open;
  if (of & oflags::creat) needed |= rights::path_create_file;
  if (of & oflags::trunc) needed |= rights::path_filestat_set_size;
  WASIO_TRY(parent_entry, c.fds.get(dirfd_guest, needed));
  int parent = parent_entry->res->directory_fd();
  if (parent < 0) return errc::notdir;
  if (of & ~(oflags::creat | oflags::directory | oflags::excl | oflags::trunc)) return errc::inval;
  if (fdfl & ~fdflags::all) return errc::inval;
  if (auto r = check_path(path); !r) return r.error();
  // Rights are narrowed, never refused: wasi-libc asks for all of them.
  uint64_t base = rights_base & parent_entry->stat.rights_inheriting;
  uint64_t inheriting = rights_inheriting & parent_entry->stat.rights_inheriting;

  bool wants_write = base & (rights::fd_write | rights::fd_allocate | rights::fd_filestat_set_size);
  bool wants_read = base & (rights::fd_read | rights::fd_readdir);
  int flags = (of & oflags::directory) ? O_RDONLY | O_DIRECTORY
              : wants_write           ? (wants_read ? O_RDWR : O_WRONLY)
                                      : O_RDONLY;
  // Opening a FIFO blocks until its other end opens: never on the worker thread. Regular files
  // ignore O_NONBLOCK; a FIFO's reads and writes then go through its host_stream's reactor.
  flags |= O_NONBLOCK;
  if (of & oflags::creat) flags |= O_CREAT;
  if (of & oflags::excl) flags |= O_EXCL;
  if (of & oflags::trunc) flags |= O_TRUNC;
  if (fdfl & fdflags::append) flags |= O_APPEND;
  if (fdfl & fdflags::dsync) flags |= O_DSYNC;
  if (fdfl & fdflags::sync) flags |= O_SYNC;
  if (fdfl & fdflags::rsync) flags |= O_RSYNC;
  auto opened = open_beneath(parent, std::string(path), flags,
                             dirflags & lookupflags::symlink_follow);
  if (!opened && opened.error() == errc::isdir && !(flags & O_DIRECTORY) && !(of & oflags::creat)) {
    // A directory opened without O_DIRECTORY but asking for write rights: open it read-only,
    // as a directory, as wasmtime does.
    opened = open_beneath(parent, std::string(path), O_RDONLY | O_DIRECTORY,
                          dirflags & lookupflags::symlink_follow);
  }
  if (!opened) return opened.error();
  unique_fd fd = std::move(opened).value();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return from_host_errno(errno);

  std::shared_ptr<resource> res;
  if (S_ISDIR(st.st_mode)) {
    res = directory_resource(std::move(fd));
  } else {
    int err = 0;
    auto stream = async::host_stream::open(c.executor, fd.get(), &err);
    if (!stream) return from_host_errno(err);
    res = host_resource(std::move(stream), /*private_file=*/true);
  }
  bool dir = res->type() == filetype::directory;
  fd_entry e = entry_for(std::move(res));  // type and the rights such a file can have
  e.stat.flags = fdfl;
  e.stat.rights_base &= base;
  e.stat.rights_inheriting = dir ? inheriting : 0;
  return c.fds.insert(std::move(e));
}

result<filestat> path_filestat_get(context& c, fd_t dir, uint32_t flags, std::string_view path) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_filestat_get));
  if (auto r = check_path(path); !r) return r.error();
  // O_PATH opens anything, symlinks themselves included when not following.
  WASIO_TRY(fd, open_beneath(dirfd, std::string(path), O_PATH, flags & lookupflags::symlink_follow));
  struct stat st {};
  if (::fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) return from_host_errno(errno);
  return to_filestat(st);
}

result<void> path_create_directory(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_create_directory));
  WASIO_TRY(p, open_parent(dirfd, path));
  if (::mkdirat(p.fd.get(), p.name.c_str(), 0777) != 0) return path_errno(errno);
  return ok();
}

result<void> path_remove_directory(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_remove_directory));
  WASIO_TRY(p, open_parent(dirfd, path));
  if (::unlinkat(p.fd.get(), p.name.c_str(), AT_REMOVEDIR) != 0) return path_errno(errno);
  return ok();
}

result<void> path_unlink_file(context& c, fd_t dir, std::string_view path) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_unlink_file));
  WASIO_TRY(p, open_parent(dirfd, path));
  // "file/" names a directory: unlink must not remove a file through it (POSIX says ENOTDIR).
  if (p.trailing_slash) {
    WASIO_TRY(st, stat_name(p));
    return S_ISDIR(st.st_mode) ? errc::isdir : errc::notdir;
  }
  if (::unlinkat(p.fd.get(), p.name.c_str(), 0) != 0) return path_errno(errno);
  return ok();
}

result<void> path_rename(context& c, fd_t old_dir, std::string_view old_path, fd_t new_dir,
                         std::string_view new_path) {
  WASIO_TRY(from_dir, dir_of(c, old_dir, rights::path_rename_source));
  WASIO_TRY(to_dir, dir_of(c, new_dir, rights::path_rename_target));
  WASIO_TRY(from, open_parent(from_dir, old_path));
  WASIO_TRY(to, open_parent(to_dir, new_path));
  // rename(2) follows neither name; a trailing slash on either asks for a directory.
  if (from.trailing_slash || to.trailing_slash) {
    WASIO_TRY(st, stat_name(from));
    if (!S_ISDIR(st.st_mode)) return errc::notdir;
  }
  if (::renameat(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str()) != 0) return path_errno(errno);
  return ok();
}

result<void> path_filestat_set_times(context& c, fd_t dir, uint32_t flags, std::string_view path, timestamp atim,
                                     timestamp mtim, uint16_t fst_flags) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_filestat_set_times));
  WASIO_TRY(ts, host_times(atim, mtim, fst_flags));
  if (flags & lookupflags::symlink_follow) {
    if (auto r = check_path(path); !r) return r.error();
    WASIO_TRY(fd, open_beneath(dirfd, std::string(path), O_PATH, true));
    if (::utimensat(AT_FDCWD, proc_path(fd.get()).c_str(), ts.data(), 0) != 0) return from_host_errno(errno);
    return ok();
  }
  WASIO_TRY(p, open_parent(dirfd, path));
  if (auto r = follow_trailing_slash(dirfd, path, p); !r) return r.error();
  if (::utimensat(p.fd.get(), p.name.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW) != 0) return path_errno(errno);
  return ok();
}

result<void> path_link(context& c, fd_t old_dir, uint32_t old_flags, std::string_view old_path, fd_t new_dir,
                       std::string_view new_path) {
  WASIO_TRY(from_dir, dir_of(c, old_dir, rights::path_link_source));
  WASIO_TRY(to_dir, dir_of(c, new_dir, rights::path_link_target));
  WASIO_TRY(to, open_parent(to_dir, new_path));
  if (auto r = refuse_trailing_slash_create(to); !r) return r.error();
  if (old_flags & lookupflags::symlink_follow) {
    // Resolve (and confine) the target first, then link what was found.
    if (auto r = check_path(old_path); !r) return r.error();
    WASIO_TRY(fd, open_beneath(from_dir, std::string(old_path), O_PATH, true));
    if (::linkat(AT_FDCWD, proc_path(fd.get()).c_str(), to.fd.get(), to.name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      return path_errno(errno);
    }
    return ok();
  }
  WASIO_TRY(from, open_parent(from_dir, old_path));
  if (auto r = follow_trailing_slash(from_dir, old_path, from); !r) return r.error();
  if (from.trailing_slash) {  // "old/" names a directory, and directories have no hard links
    WASIO_TRY(st, stat_name(from));
    return S_ISDIR(st.st_mode) ? errc::perm : errc::notdir;
  }
  if (::linkat(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str(), 0) != 0) return path_errno(errno);
  return ok();
}

result<std::string> path_readlink(context& c, fd_t dir, std::string_view path, size_t max) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_readlink));
  WASIO_TRY(p, open_parent(dirfd, path));
  if (auto r = follow_trailing_slash(dirfd, path, p); !r) return r.error();  // "link/" is its directory: not a link
  std::string out(std::max<size_t>(max, 1), '\0');
  ssize_t n = ::readlinkat(p.fd.get(), p.name.c_str(), out.data(), out.size());
  if (n < 0) return path_errno(errno);
  out.resize(std::min(static_cast<size_t>(n), max));
  return out;
}

result<void> path_symlink(context& c, std::string_view target, fd_t dir, std::string_view path) {
  WASIO_TRY(dirfd, dir_of(c, dir, rights::path_symlink));
  if (target.find('\0') != std::string_view::npos) return errc::inval;
  WASIO_TRY(p, open_parent(dirfd, path));
  if (auto r = refuse_trailing_slash_create(p); !r) return r.error();
  if (::symlinkat(std::string(target).c_str(), p.fd.get(), p.name.c_str()) != 0) return path_errno(errno);
  return ok();
}

}  // namespace wasio::wasi
