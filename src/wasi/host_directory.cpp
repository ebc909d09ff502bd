// Host directories as resources: the path calls beneath a preopen, and fd_readdir.
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
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "src/wasi/host_file.hpp"
#include "src/wasi/path_parts.hpp"
#include "src/wasi/resource.hpp"

namespace wasio::wasi {
namespace {


using async::unique_fd;

// A lookup that tried to leave its directory: EXDEV from RESOLVE_BENEATH, ELOOP from a magic
// link. The guest was not given that capability.
errc path_errno(int e) { return e == EXDEV ? errc::notcapable : from_host_errno(e); }

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
  push_components(todo, path, false);
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
      // CREAT on a name with a trailing slash: the kernel answers EISDIR once the parent is
      // found, exists the name or not (open_last_lookups), before it would follow a symlink.
      if (want_dir && (flags & O_CREAT)) return errc::isdir;
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
      push_components(todo, t, true);
    }
  }
  // Only `.` and `..` were left: the directory reached is the file. Opened with the flags
  // asked for, so that the kernel answers as it does for the whole path (CREAT on a directory
  // is isdir, with EXCL exist).
  int fd = ::openat(cur(), ".", final_flags);
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
  last_name l = split_last(path);
  WASIO_TRY(fd, open_beneath(dirfd, l.dir, O_PATH | O_DIRECTORY, true));
  return parent{std::move(fd), std::move(l.name), l.trailing_slash};
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


// A directory: no transfers; the path calls beneath it, and its listing.
class host_directory final : public resource {
 public:
  explicit host_directory(unique_fd fd) : fd_(std::move(fd)) {}
  ~host_directory() override {
    if (listing_) ::closedir(listing_);
  }

  filetype type() const override { return filetype::directory; }
  uint64_t rights() const override { return rights::directory; }
  int directory_fd() const override { return fd_.get(); }

  asio::awaitable<result<size>> read(std::span<const ::iovec>, uint16_t) override { co_return errc::isdir; }
  asio::awaitable<result<size>> write(std::span<const ::iovec>, uint16_t) override { co_return errc::isdir; }
  result<size> try_read(std::span<const ::iovec>) override { return errc::isdir; }
  result<size> try_write(std::span<const ::iovec>) override { return errc::isdir; }
  asio::awaitable<result<size>> pread(std::span<const ::iovec>, filesize, uint16_t) override { co_return errc::isdir; }
  asio::awaitable<result<size>> pwrite(std::span<const ::iovec>, filesize, uint16_t) override { co_return errc::isdir; }
  result<filesize> seek(int64_t, whence) override { return errc::isdir; }
  result<filestat> stat() override { return host_fd_stat(fd_.get()); }
  result<void> set_times(timestamp atim, timestamp mtim, uint16_t fl) override {
    return host_fd_set_times(fd_.get(), atim, mtim, fl);
  }
  result<void> advise(filesize offset, filesize len, uint8_t advice) override {
    return host_fd_advise(fd_.get(), offset, len, advice);
  }
  result<void> allocate(filesize offset, filesize len) override { return host_fd_allocate(fd_.get(), offset, len); }
  result<void> set_size(filesize size) override { return host_fd_set_size(fd_.get(), size); }
  asio::awaitable<result<void>> sync(bool data_only) override { return host_fd_sync(fd_.get(), data_only); }
  // Nothing to wait for: poll_oneoff reports it as badf.
  async::readiness poll(bool) override { return async::readiness{true, false, 0, EBADF}; }
  asio::awaitable<void> wait(bool) override { co_return; }

  result<std::shared_ptr<resource>> open_at(std::string_view path, const open_request& r) override {
    if (auto c = check_path(path); !c) return c.error();
    int flags = (r.oflags & oflags::directory) ? O_RDONLY | O_DIRECTORY
                : r.write                      ? (r.read ? O_RDWR : O_WRONLY)
                                               : O_RDONLY;
    // Opening a FIFO blocks until its other end opens: never on the worker thread. Regular
    // files ignore O_NONBLOCK; a FIFO's reads and writes then go through its host_stream's
    // reactor.
    flags |= O_NONBLOCK;
    if (r.oflags & oflags::creat) flags |= O_CREAT;
    if (r.oflags & oflags::excl) flags |= O_EXCL;
    if (r.oflags & oflags::trunc) flags |= O_TRUNC;
    if (r.fdflags & fdflags::append) flags |= O_APPEND;
    if (r.fdflags & fdflags::dsync) flags |= O_DSYNC;
    if (r.fdflags & fdflags::sync) flags |= O_SYNC;
    if (r.fdflags & fdflags::rsync) flags |= O_RSYNC;
    auto opened = open_beneath(fd_.get(), std::string(path), flags, r.follow);
    if (!opened) return opened.error();
    unique_fd fd = std::move(opened).value();
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return from_host_errno(errno);
    if (S_ISDIR(st.st_mode)) {
      // A directory is never opened for writing: open(2)'s EISDIR without O_DIRECTORY, and
      // wasmtime's IsDirectory with it too, which wasi-testsuite's path_open_preopen checks.
      if (r.write) return errc::isdir;
      return std::shared_ptr<resource>(std::make_shared<host_directory>(std::move(fd)));
    }
    int err = 0;
    auto stream = async::host_stream::open(r.executor, fd.get(), &err);
    if (!stream) return from_host_errno(err);
    return host_resource(std::move(stream), /*private_file=*/true);
  }

  result<filestat> stat_at(std::string_view path, bool follow) override {
    if (auto r = check_path(path); !r) return r.error();
    // O_PATH opens anything, symlinks themselves included when not following.
    WASIO_TRY(fd, open_beneath(fd_.get(), std::string(path), O_PATH, follow));
    struct stat st {};
    if (::fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) return from_host_errno(errno);
    return to_filestat(st);
  }

  result<void> create_directory(std::string_view path) override {
    WASIO_TRY(p, open_parent(fd_.get(), path));
    if (::mkdirat(p.fd.get(), p.name.c_str(), 0777) != 0) return path_errno(errno);
    return ok();
  }

  result<void> remove_directory(std::string_view path) override {
    WASIO_TRY(p, open_parent(fd_.get(), path));
    if (::unlinkat(p.fd.get(), p.name.c_str(), AT_REMOVEDIR) != 0) return path_errno(errno);
    return ok();
  }

  result<void> unlink_file(std::string_view path) override {
    WASIO_TRY(p, open_parent(fd_.get(), path));
    // "file/" names a directory: unlink must not remove a file through it (POSIX says ENOTDIR).
    if (p.trailing_slash) {
      WASIO_TRY(st, stat_name(p));
      return S_ISDIR(st.st_mode) ? errc::isdir : errc::notdir;
    }
    if (::unlinkat(p.fd.get(), p.name.c_str(), 0) != 0) return path_errno(errno);
    return ok();
  }

  result<void> rename(std::string_view old_path, resource& new_dir, std::string_view new_path) override {
    WASIO_TRY(to_dir, host_directory_fd(new_dir));
    WASIO_TRY(from, open_parent(fd_.get(), old_path));
    WASIO_TRY(to, open_parent(to_dir, new_path));
    // rename(2) follows neither name; a trailing slash on either asks for a directory.
    if (from.trailing_slash || to.trailing_slash) {
      WASIO_TRY(st, stat_name(from));
      if (!S_ISDIR(st.st_mode)) return errc::notdir;
    }
    if (::renameat(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str()) != 0) return path_errno(errno);
    return ok();
  }

  result<void> set_times_at(std::string_view path, bool follow, timestamp atim, timestamp mtim,
                            uint16_t fst_flags) override {
    WASIO_TRY(ts, host_times(atim, mtim, fst_flags));
    if (follow) {
      if (auto r = check_path(path); !r) return r.error();
      WASIO_TRY(fd, open_beneath(fd_.get(), std::string(path), O_PATH, true));
      if (::utimensat(AT_FDCWD, proc_path(fd.get()).c_str(), ts.data(), 0) != 0) return from_host_errno(errno);
      return ok();
    }
    WASIO_TRY(p, open_parent(fd_.get(), path));
    if (auto r = follow_trailing_slash(fd_.get(), path, p); !r) return r.error();
    if (::utimensat(p.fd.get(), p.name.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW) != 0) return path_errno(errno);
    return ok();
  }

  result<void> link(std::string_view old_path, bool follow, resource& new_dir, std::string_view new_path) override {
    WASIO_TRY(to_dir, host_directory_fd(new_dir));
    WASIO_TRY(to, open_parent(to_dir, new_path));
    if (auto r = refuse_trailing_slash_create(to); !r) return r.error();
    if (follow) {
      // Resolve (and confine) the target first, then link what was found.
      if (auto r = check_path(old_path); !r) return r.error();
      WASIO_TRY(fd, open_beneath(fd_.get(), std::string(old_path), O_PATH, true));
      if (::linkat(AT_FDCWD, proc_path(fd.get()).c_str(), to.fd.get(), to.name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        return path_errno(errno);
      }
      return ok();
    }
    WASIO_TRY(from, open_parent(fd_.get(), old_path));
    if (auto r = follow_trailing_slash(fd_.get(), old_path, from); !r) return r.error();
    if (from.trailing_slash) {  // "old/" names a directory, and directories have no hard links
      WASIO_TRY(st, stat_name(from));
      return S_ISDIR(st.st_mode) ? errc::perm : errc::notdir;
    }
    if (::linkat(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str(), 0) != 0) return path_errno(errno);
    return ok();
  }

  result<std::string> readlink(std::string_view path, size_t max) override {
    WASIO_TRY(p, open_parent(fd_.get(), path));
    if (auto r = follow_trailing_slash(fd_.get(), path, p); !r) return r.error();  // "link/" is its directory: not a link
    std::string out(std::max<size_t>(max, 1), '\0');
    ssize_t n = ::readlinkat(p.fd.get(), p.name.c_str(), out.data(), out.size());
    if (n < 0) return path_errno(errno);
    out.resize(std::min(static_cast<size_t>(n), max));
    return out;
  }

  result<void> symlink(std::string_view target, std::string_view path) override {
    WASIO_TRY(p, open_parent(fd_.get(), path));
    if (p.trailing_slash) {
      // "name/" asks for a directory, and nothing is created there: it is exist where one is
      // (or a symlink to one), notdir where a file is, noent where nothing is (wasmtime's
      // answers, which wasi-testsuite's path_symlink_trailing_slashes checks; Linux says exist
      // for the file too).
      auto there = open_beneath(fd_.get(), std::string(path), O_PATH, true);
      return there ? errc::exist : there.error();
    }
    if (::symlinkat(std::string(target).c_str(), p.fd.get(), p.name.c_str()) != 0) return path_errno(errno);
    return ok();
  }

  // A listing is read through a description of its own (so that the cookie, the entry's index,
  // means the same whatever the guest does with the fd), kept open between calls with the
  // entries of the last call: a guest reading one record per call goes on where it was,
  // instead of reading the listing again from its start each time (which was quadratic: 45 s
  // for 20,000 entries). Cookie 0 starts a fresh listing, as rewinddir(3) does; so does a cookie
  // before the kept entries.
  result<std::vector<dirent>> readdir(uint64_t cookie, size_t max_bytes) override {
    if (!listing_ || cookie == 0 || cookie < kept_from_) {
      if (listing_) ::closedir(std::exchange(listing_, nullptr));
      int d = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (d < 0) return from_host_errno(errno);
      listing_ = ::fdopendir(d);
      if (!listing_) {
        ::close(d);
        return from_host_errno(errno);
      }
      kept_.clear();
      kept_from_ = next_ = 0;
    }
    // Invariant: kept_ holds the entries kept_from_ .. next_ - 1.
    while (!kept_.empty() && kept_from_ < cookie) {
      kept_.pop_front();
      ++kept_from_;
    }
    std::vector<dirent> out;
    while (next_ < cookie) {  // entries before the cookie: read past, not kept
      errno = 0;
      if (!::readdir(listing_)) return errno ? result<std::vector<dirent>>(from_host_errno(errno)) : out;
      kept_from_ = ++next_;
    }
    size_t bytes = 0;
    for (uint64_t index = cookie;; ++index) {
      if (index == next_) {
        errno = 0;
        struct ::dirent* de = ::readdir(listing_);
        if (!de) {
          if (errno) return from_host_errno(errno);
          break;
        }
        kept_.push_back(dirent{next_ + 1, static_cast<uint64_t>(de->d_ino), dirent_type(de->d_type), de->d_name});
        ++next_;
      }
      const dirent& e = kept_[index - kept_from_];
      bytes += 24 + e.name.size();
      out.push_back(e);
      if (bytes >= max_bytes) break;
    }
    return out;
  }

 private:
  // The fd of `d`, the other directory of a rename or link: notdir when it is none, xdev when it
  // is another kind, with which no rename(2) or link(2) can share a file.
  static result<int> host_directory_fd(const resource& d) {
    if (d.type() != filetype::directory) return errc::notdir;
    int fd = d.directory_fd();
    if (fd < 0) return errc::xdev;
    return fd;
  }

  unique_fd fd_;
  DIR* listing_ = nullptr;
  std::deque<dirent> kept_;  // entries kept_from_, kept_from_ + 1, ... of the listing
  uint64_t kept_from_ = 0;
  uint64_t next_ = 0;  // the index of the entry readdir(3) gives next
};

}  // namespace

result<unique_fd> open_beneath(int dirfd, const std::string& path, int flags, bool follow) {
  if (have_openat2() && !force_walk.load(std::memory_order_relaxed)) return openat2_beneath(dirfd, path, flags, follow);
  return walk_beneath(dirfd, path, flags, follow);
}

void use_fallback_resolution(bool on) { force_walk.store(on, std::memory_order_relaxed); }

std::shared_ptr<resource> directory_resource(async::unique_fd dir) {
  return std::make_shared<host_directory>(std::move(dir));
}

}  // namespace wasio::wasi
