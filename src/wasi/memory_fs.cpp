// In-memory trees (memory_fs.hpp): directories, files and symlinks as nodes in memory, each
// path call answered as Linux answers it on a host directory (the *at calls host_directory.cpp
// makes, with their errnos), so that a guest cannot tell the two apart except by ino, dev and
// the times the kernel sets by itself. tests/unit/fs_differential_test.cpp compares them call
// by call against a host directory.
//
// Confinement is by construction: a path is resolved in the tree, `..` never above the
// directory it starts from and an absolute symlink never followed (notcapable), as
// RESOLVE_BENEATH does. An overlay reaches its host directory only to read it, through paths
// made of the names the host itself listed, opened beneath the host root with open_beneath.
#include "src/wasi/memory_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "src/wasi/context.hpp"
#include "src/wasi/host_file.hpp"
#include "src/wasi/path_parts.hpp"
#include "wasio/filesystem.hpp"

namespace wasio::wasi {

namespace {

constexpr size_t kPage = 16 * 1024;  // file contents are held in pages; holes take none

timestamp now() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return ns(t);
}

// What a tree holds, counted against its limits: each node and page is charged when made and
// given back when it goes (whichever thread drops it last: an fd closed on another worker).
struct budget {
  memory_tree_limits limits;
  std::atomic<uint64_t> bytes{0}, nodes{0};
  bool take_page() {
    if (bytes.fetch_add(kPage) + kPage > limits.max_bytes) {
      bytes -= kPage;
      return false;
    }
    return true;
  }
};

struct node {
  explicit node(std::shared_ptr<budget> b) : charge(std::move(b)) { ++charge->nodes; }
  ~node() {
    charge->bytes -= pages.size() * kPage;
    --charge->nodes;
  }
  std::shared_ptr<budget> charge;
  filetype type = filetype::regular_file;
  uint64_t ino = 0;
  timestamp atim = 0, mtim = 0, ctim = 0;
  uint64_t links = 1;  // names of a file or symlink
  // An overlay's node whose contents (a file) or entries (a directory) are still the host's:
  // its path beneath the host root ("" for the root itself).
  std::optional<std::string> host;
  uint64_t host_nlink = 0;  // a directory's link count while its entries are the host's
  filesize size = 0;

  // A regular file: its pages (index -> kPage bytes); a page not held reads as zeros. Or the
  // embedder's own file, whose contents are its business.
  std::map<uint64_t, std::unique_ptr<std::byte[]>> pages;
  std::shared_ptr<guest_file> custom;

  // A directory: its entries by name and in listing order (seq: the cookie after `.` and `..`,
  // so that cookies stay valid while entries come and go).
  struct entry {
    uint64_t seq;
    std::shared_ptr<node> n;
  };
  std::map<std::string, entry, std::less<>> names;
  std::map<uint64_t, std::string> listing;
  uint64_t next_seq = 2;
  std::weak_ptr<node> parent;  // empty for the root
  bool removed = false;        // rmdir'ed: nothing can be created in it any more

  // A symlink.
  std::string target;

  bool is_dir() const { return type == filetype::directory; }
};
using node_ptr = std::shared_ptr<node>;

// Page `index` of `n`'s contents, or null for a hole.
const std::byte* page_at(const node& n, uint64_t index) {
  auto it = n.pages.find(index);
  return it == n.pages.end() ? nullptr : it->second.get();
}

}  // namespace

class memory_tree {
 public:
  memory_tree(const memory_tree_limits& l, async::unique_fd host)
      : budget_(std::make_shared<budget>()), host_(std::move(host)) {
    budget_->limits = l;
    static std::atomic<uint64_t> trees{0};
    dev_ = 0x6d656d0000000000ull | ++trees;  // "mem", one device per tree
    root_ = std::make_shared<node>(budget_);
    root_->type = filetype::directory;
    root_->ino = next_ino_++;
    root_->atim = root_->mtim = root_->ctim = now();
    root_->size = kDirectorySize;
    if (host_) {
      root_->host = std::string();
      struct stat st {};
      if (::fstat(host_.get(), &st) == 0) take_host_stat(*root_, st);
    }
  }

  // A deep tree is taken apart level by level: dropping the root would recurse once per level.
  ~memory_tree() {
    std::vector<node_ptr> all{std::move(root_)};
    for (size_t i = 0; i < all.size(); ++i) {
      for (auto& [name, e] : all[i]->names) all.push_back(std::move(e.n));
      all[i]->names.clear();
    }
  }

  std::mutex mu;
  const node_ptr& root() const { return root_; }
  uint64_t bytes() const { return budget_->bytes; }
  uint64_t dev() const { return dev_; }
  static constexpr filesize kDirectorySize = 4096;  // what ext4 reports for a small directory

  // ---- nodes ---------------------------------------------------------------------------
  result<node_ptr> make_node(filetype t) {
    // Under the tree's lock; nodes dropped elsewhere meanwhile only make room.
    if (budget_->nodes >= budget_->limits.max_nodes) return errc::nospc;
    auto n = std::make_shared<node>(budget_);
    n->type = t;
    n->ino = next_ino_++;
    n->atim = n->mtim = n->ctim = now();
    if (t == filetype::directory) n->size = kDirectorySize;
    return n;
  }

  filestat stat(const node& n) const {
    uint64_t nlink = n.links;
    if (n.is_dir()) {
      if (n.host) {
        nlink = n.host_nlink;
      } else {
        nlink = n.removed ? 0 : 2;
        for (auto& [name, e] : n.names) nlink += e.n->is_dir();
      }
    }
    uint64_t size = n.type == filetype::symbolic_link ? n.target.size() : n.custom ? n.custom->size() : n.size;
    return filestat{dev_, n.ino, n.type, nlink, size, n.atim, n.mtim, n.ctim};
  }

  // ---- directories ---------------------------------------------------------------------
  // Reads an overlay directory's host entries into it, the first time it is looked at.
  result<void> populate(const node_ptr& dp) {
    node& d = *dp;
    if (!d.is_dir() || !d.host || !host_) return ok();
    std::string rel = d.host->empty() ? "." : *d.host;
    WASIO_TRY(fd, open_beneath(host_.get(), rel, O_RDONLY | O_DIRECTORY, false));
    DIR* listing = ::fdopendir(fd.get());
    if (!listing) return from_host_errno(errno);
    (void)fd.release();
    std::vector<std::pair<std::string, struct stat>> found;
    for (;;) {
      errno = 0;
      struct ::dirent* de = ::readdir(listing);
      if (!de) break;
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::fstatat(::dirfd(listing), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
      found.emplace_back(std::move(name), st);
    }
    int err = errno;
    std::vector<std::string> targets(found.size());
    for (size_t i = 0; i < found.size(); ++i) {
      if (!S_ISLNK(found[i].second.st_mode)) continue;
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(::dirfd(listing), found[i].first.c_str(), buf, sizeof buf);
      if (n >= 0) targets[i].assign(buf, static_cast<size_t>(n));
    }
    ::closedir(listing);
    if (err) return from_host_errno(err);
    // All made before any is added: a tree out of room leaves the directory as it was.
    std::vector<node_ptr> made;
    for (size_t i = 0; i < found.size(); ++i) {
      auto& [name, st] = found[i];
      WASIO_TRY(n, make_node(type_of(st.st_mode)));
      take_host_stat(*n, st);
      if (n->type == filetype::symbolic_link) {
        n->target = std::move(targets[i]);
      } else {
        n->host = d.host->empty() ? name : *d.host + "/" + name;
      }
      made.push_back(std::move(n));
    }
    for (size_t i = 0; i < found.size(); ++i) add_entry(dp, found[i].first, std::move(made[i]), /*touch=*/false);
    d.host.reset();
    return ok();
  }

  // `n` as `d`'s entry `name`; `touch`: the change shows in d's times.
  void add_entry(const node_ptr& dp, const std::string& name, node_ptr n, bool touch = true) {
    node& d = *dp;
    if (n->is_dir()) n->parent = dp;
    uint64_t seq = d.next_seq++;
    d.listing.emplace(seq, name);
    d.names.insert_or_assign(name, node::entry{seq, std::move(n)});
    if (touch) d.mtim = d.ctim = now();
  }
  node_ptr remove_entry(node& d, std::string_view name) {
    auto it = d.names.find(name);
    node_ptr n = std::move(it->second.n);
    d.listing.erase(it->second.seq);
    d.names.erase(it);
    d.mtim = d.ctim = now();
    return n;
  }

  // ---- file contents -------------------------------------------------------------------
  // Makes an overlay file's contents the tree's own, read from the host, before its first change.
  result<void> copy_up(node& f) {
    if (!f.host) return ok();
    WASIO_TRY(fd, open_beneath(host_.get(), *f.host, O_RDONLY, false));
    std::vector<std::byte> page(kPage);
    filesize size = 0;
    for (uint64_t index = 0;; ++index) {
      size_t got = 0;
      while (got < kPage) {
        ssize_t n = ::pread(fd.get(), page.data() + got, kPage - got, static_cast<off_t>(index * kPage + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return from_host_errno(errno);
        if (n == 0) break;
        got += static_cast<size_t>(n);
      }
      if (got == 0) break;
      size = index * kPage + got;
      if (std::any_of(page.begin(), page.begin() + static_cast<long>(got), [](std::byte b) { return b != std::byte{0}; })) {
        if (!budget_->take_page()) return errc::nospc;
        auto p = std::make_unique<std::byte[]>(kPage);
        std::memcpy(p.get(), page.data(), got);
        f.pages.emplace(index, std::move(p));
      }
      if (got < kPage) break;
    }
    f.size = size;
    f.host.reset();
    return ok();
  }

  size_t read_at(node& f, filesize off, std::span<const ::iovec> iov) {
    size_t done = 0;
    for (auto& v : iov) {
      size_t want = v.iov_len;
      while (want > 0 && off < f.size) {
        uint64_t index = off / kPage;
        size_t in = static_cast<size_t>(off % kPage);
        size_t n = std::min<uint64_t>({want, kPage - in, f.size - off});
        auto* dst = static_cast<std::byte*>(v.iov_base) + (v.iov_len - want);
        if (const std::byte* p = page_at(f, index)) std::memcpy(dst, p + in, n);
        else std::memset(dst, 0, n);
        off += n;
        want -= n;
        done += n;
      }
      if (want > 0) break;
    }
    return done;
  }

  result<size> write_at(node& f, filesize off, std::span<const ::iovec> iov) {
    BOOST_OUTCOME_TRYV(copy_up(f));
    size_t total = async::iov_total(iov);
    if (off > static_cast<filesize>(INT64_MAX) || total > static_cast<filesize>(INT64_MAX) - off) return errc::fbig;
    size_t done = 0;
    for (auto& v : iov) {
      for (size_t at = 0; at < v.iov_len;) {
        uint64_t index = off / kPage;
        size_t in = static_cast<size_t>(off % kPage);
        size_t n = std::min<size_t>(v.iov_len - at, kPage - in);
        auto it = f.pages.find(index);
        if (it == f.pages.end()) {
          // Full: a short write, or nospc when nothing was written (as a full disk).
          if (!budget_->take_page()) return done ? result<size>(static_cast<size>(done)) : errc::nospc;
          it = f.pages.emplace(index, std::make_unique<std::byte[]>(kPage)).first;  // zeroed
        }
        std::memcpy(it->second.get() + in, static_cast<const std::byte*>(v.iov_base) + at, n);
        at += n;
        off += n;
        done += n;
        f.size = std::max(f.size, off);
        f.mtim = f.ctim = now();
      }
    }
    return static_cast<size>(done);
  }

  result<void> set_size(node& f, filesize size) {
    if (size > static_cast<filesize>(INT64_MAX)) return errc::inval;
    if (f.host && size == 0) {
      f.host.reset();  // nothing of the host's is left to read
    } else {
      BOOST_OUTCOME_TRYV(copy_up(f));
    }
    if (size < f.size) {
      uint64_t keep = (size + kPage - 1) / kPage;
      for (auto it = f.pages.lower_bound(keep); it != f.pages.end();) {
        it = f.pages.erase(it);
        budget_->bytes -= kPage;
      }
      if (size % kPage) {
        if (auto it = f.pages.find(size / kPage); it != f.pages.end()) {
          std::memset(it->second.get() + size % kPage, 0, kPage - size % kPage);
        }
      }
    }
    f.size = size;
    f.mtim = f.ctim = now();
    return ok();
  }

  // The host fd of an overlay node still the host's, opened for reading.
  result<async::unique_fd> open_host(const node& n, int flags) {
    return open_beneath(host_.get(), n.host->empty() ? "." : *n.host, flags, false);
  }

 private:
  void take_host_stat(node& n, const struct stat& st) {
    n.atim = ns(st.st_atim);
    n.mtim = ns(st.st_mtim);
    n.ctim = ns(st.st_ctim);
    n.size = static_cast<filesize>(st.st_size);  // a directory's too
    n.host_nlink = static_cast<uint64_t>(st.st_nlink);
  }

  std::shared_ptr<budget> budget_;
  async::unique_fd host_;
  node_ptr root_;
  uint64_t dev_ = 0;
  uint64_t next_ino_ = 1;
};

namespace {

// Sets `n`'s times as futimens/utimensat would (the same checks: host_times).
result<void> apply_times(node& n, timestamp atim, timestamp mtim, uint16_t fl) {
  WASIO_TRY(ts, host_times(atim, mtim, fl));
  if (fl == 0) return ok();  // utimensat(2) with both omitted changes nothing, ctime included
  timestamp t = now();
  auto one = [t](const timespec& s, timestamp& field) {
    if (s.tv_nsec == UTIME_OMIT) return;
    field = s.tv_nsec == UTIME_NOW ? t : ns(s);
  };
  one(ts[0], n.atim);
  one(ts[1], n.mtim);
  n.ctim = t;
  return ok();
}

// What a path resolved to: the directory its last name is in and that name, and what it names
// (null: nothing yet, for a call that creates it). A path of only `.` and `..` components names
// the directory reached, with no name.
struct found {
  node_ptr dir;
  std::string name;
  node_ptr n;
};

// The lookup of walk_beneath (host_directory.cpp) in the tree: `..` from the stack of
// directories walked, never above `base` (notcapable), symlinks expanded (absolute: notcapable;
// more than 40: loop), the last one only when `follow` or a trailing slash asks.
// `creating` (O_CREAT): a last name with a slash after it is isdir before it is looked up.
result<found> walk(memory_tree& t, const node_ptr& base, std::string_view path, bool follow, bool creating = false) {
  if (path[0] == '/') return errc::notcapable;
  std::deque<std::string> todo;
  push_components(todo, path, false);
  bool want_dir = path.back() == '/';
  std::vector<node_ptr> held;
  auto cur = [&]() -> const node_ptr& { return held.empty() ? base : held.back(); };
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
    if (comp.size() > NAME_MAX) return errc::nametoolong;
    if (last && creating && want_dir) return errc::isdir;
    node& d = *cur();
    if (d.removed) return errc::noent;
    BOOST_OUTCOME_TRYV(t.populate(cur()));
    auto it = d.names.find(comp);
    node_ptr child = it == d.names.end() ? nullptr : it->second.n;
    if (!child) {
      if (last) return found{cur(), std::move(comp), nullptr};
      return errc::noent;
    }
    bool expand = child->type == filetype::symbolic_link && (!last || follow || want_dir);
    if (!expand) {
      if (last) {
        if (want_dir && !child->is_dir() && child->type != filetype::symbolic_link) return errc::notdir;
        return found{cur(), std::move(comp), std::move(child)};
      }
      if (!child->is_dir()) return errc::notdir;
      held.push_back(std::move(child));
      continue;
    }
    if (++hops > 40) return errc::loop;
    const std::string& target = child->target;
    if (target.empty()) return errc::noent;
    if (target[0] == '/') return errc::notcapable;
    if (last && target.back() == '/') want_dir = true;
    push_components(todo, target, true);
  }
  return found{nullptr, std::string(), cur()};
}

// The directory a name-taking call (mkdir, unlink, rename, ...) acts in, and the name
// (split_last), as open_parent in host_directory.cpp.
struct parent {
  node_ptr dir;
  std::string name;
  bool trailing_slash = false;
};
result<parent> parent_of(memory_tree& t, const node_ptr& base, std::string_view path) {
  BOOST_OUTCOME_TRYV(check_path(path));
  last_name l = split_last(path);
  WASIO_TRY(f, walk(t, base, l.dir, true));
  if (!f.n) return errc::noent;
  if (!f.n->is_dir()) return errc::notdir;
  return parent{std::move(f.n), std::move(l.name), l.trailing_slash};
}

// What `p` names, not following a symlink there (the directory itself for "."): noent if nothing.
result<node_ptr> name_in(memory_tree& t, const parent& p) {
  if (p.name == ".") return p.dir;
  if (p.dir->removed) return errc::noent;
  BOOST_OUTCOME_TRYV(t.populate(p.dir));
  auto it = p.dir->names.find(p.name);
  if (it == p.dir->names.end()) return errc::noent;
  return it->second.n;
}

// Before a name is created in `p`: the directory still exists and has none by that name.
result<void> can_create(memory_tree& t, const parent& p) {
  if (p.name == ".") return errc::exist;
  if (p.name.size() > NAME_MAX) return errc::nametoolong;
  if (p.dir->removed) return errc::noent;
  BOOST_OUTCOME_TRYV(t.populate(p.dir));
  if (p.dir->names.count(p.name)) return errc::exist;
  return ok();
}

// "name/" where name is a symlink: the directory it leads to, as "." (follow_trailing_slash in
// host_directory.cpp).
result<void> follow_trailing_slash(memory_tree& t, const node_ptr& base, std::string_view path, parent& p) {
  if (!p.trailing_slash || p.name == ".") return ok();
  auto n = name_in(t, p);
  if (!n || n.value()->type != filetype::symbolic_link) return ok();
  WASIO_TRY(f, walk(t, base, path, true));
  if (!f.n) return errc::noent;
  if (!f.n->is_dir()) return errc::notdir;
  p.dir = std::move(f.n);
  p.name = ".";
  return ok();
}

// lseek(2) of `pos` in a file of `size` bytes.
result<filesize> seek_in(filesize& pos, int64_t offset, whence w, filesize size) {
  if (w != whence::set && w != whence::cur && w != whence::end) return errc::inval;
  int64_t from = w == whence::set ? 0 : w == whence::cur ? static_cast<int64_t>(pos) : static_cast<int64_t>(size);
  int64_t to = 0;
  if (__builtin_add_overflow(from, offset, &to) || to < 0) return errc::inval;
  pos = static_cast<filesize>(to);
  return pos;
}

// What every resource on a node of the tree answers alike: its stat and times, advice, sync.
class tree_resource : public resource {
 public:
  tree_resource(std::shared_ptr<memory_tree> t, node_ptr n) : tree_(std::move(t)), n_(std::move(n)) {}

  result<filestat> stat() override {
    std::lock_guard lock(tree_->mu);
    return tree_->stat(*n_);
  }
  result<void> set_times(timestamp atim, timestamp mtim, uint16_t fl) override {
    std::lock_guard lock(tree_->mu);
    return apply_times(*n_, atim, mtim, fl);
  }
  result<void> advise(filesize offset, filesize len, uint8_t) override {
    if (offset > static_cast<filesize>(INT64_MAX) || len > static_cast<filesize>(INT64_MAX)) return errc::inval;
    return ok();
  }
  asio::awaitable<result<void>> sync(bool) override { co_return ok(); }
  asio::awaitable<void> wait(bool) override { co_return; }

 protected:
  std::shared_ptr<memory_tree> tree_;
  node_ptr n_;
};

// An open file of the tree: its own offset and APPEND; always ready, as a file is.
class tree_file : public tree_resource {
 public:
  tree_file(std::shared_ptr<memory_tree> t, node_ptr n, bool append) : tree_resource(std::move(t), std::move(n)), append_(append) {}

  filetype type() const override { return filetype::regular_file; }
  uint64_t rights() const override { return rights::regular_file; }
  asio::awaitable<result<size>> read(std::span<const ::iovec> iov, uint16_t flags) override {
    auto r = co_await pread(iov, offset_, flags);
    if (r) offset_ += r.value();
    co_return r;
  }
  result<void> set_append(bool on) override {
    append_ = on;
    return ok();
  }
  async::readiness poll(bool) override { return async::readiness{true, false, 0, 0}; }

 protected:
  bool append_;
  filesize offset_ = 0;
};

// ---- an embedder's file (guest_file) opened ---------------------------------------------------
class embedder_file final : public tree_file {
 public:
  embedder_file(std::shared_ptr<memory_tree> t, node_ptr n, bool append)
      : tree_file(std::move(t), std::move(n), append), f_(n_->custom) {}

  asio::awaitable<result<size>> write(std::span<const ::iovec> iov, uint16_t) override {
    if (async::iov_total(iov) == 0) co_return 0;
    if (append_) offset_ = f_->size();
    auto r = co_await write_all(iov, offset_);
    if (r) offset_ += r.value();
    co_return r;
  }
  result<size> try_read(std::span<const ::iovec>) override { return errc::again; }
  result<size> try_write(std::span<const ::iovec>) override { return errc::again; }
  asio::awaitable<result<size>> pread(std::span<const ::iovec> iov, filesize offset, uint16_t) override {
    if (offset > static_cast<filesize>(INT64_MAX)) co_return errc::inval;
    size_t done = 0;
    for (auto& v : iov) {
      if (v.iov_len == 0) continue;
      auto r = co_await f_->read_at(offset + done, {static_cast<std::byte*>(v.iov_base), v.iov_len});
      if (!r) co_return done ? result<size>(static_cast<size>(done)) : r.error();
      done += std::min(r.value(), v.iov_len);
      if (r.value() < v.iov_len) break;
    }
    co_return static_cast<size>(done);
  }
  asio::awaitable<result<size>> pwrite(std::span<const ::iovec> iov, filesize offset, uint16_t) override {
    if (offset > static_cast<filesize>(INT64_MAX)) co_return errc::inval;
    co_return co_await write_all(iov, append_ ? f_->size() : offset);
  }
  result<filesize> seek(int64_t offset, whence w) override { return seek_in(offset_, offset, w, f_->size()); }
  result<void> set_size(filesize size) override {
    if (size > static_cast<filesize>(INT64_MAX)) return errc::inval;
    BOOST_OUTCOME_TRYV(f_->resize(size));
    touch();
    return ok();
  }
  result<void> allocate(filesize offset, filesize len) override {
    if (offset > static_cast<filesize>(INT64_MAX) || len > static_cast<filesize>(INT64_MAX) - offset) return errc::inval;
    if (len == 0) return errc::inval;
    return offset + len <= f_->size() ? ok() : set_size(offset + len);
  }

 private:
  // Each iovec in turn, until one is taken short.
  asio::awaitable<result<size>> write_all(std::span<const ::iovec> iov, filesize offset) {
    size_t done = 0;
    for (auto& v : iov) {
      if (v.iov_len == 0) continue;
      auto r = co_await f_->write_at(offset + done, {static_cast<const std::byte*>(v.iov_base), v.iov_len});
      if (!r) co_return done ? result<size>(static_cast<size>(done)) : r.error();
      done += std::min(r.value(), v.iov_len);
      if (r.value() < v.iov_len) break;
    }
    if (done) touch();
    co_return static_cast<size>(done);
  }
  void touch() {
    std::lock_guard lock(tree_->mu);
    n_->mtim = n_->ctim = now();
  }

  std::shared_ptr<guest_file> f_;
};

// ---- an open file ---------------------------------------------------------------------------
class memory_file final : public tree_file {
 public:
  memory_file(std::shared_ptr<memory_tree> t, node_ptr n, std::shared_ptr<resource> host, bool append)
      : tree_file(std::move(t), std::move(n), append), host_(std::move(host)) {}

  asio::awaitable<result<size>> write(std::span<const ::iovec> iov, uint16_t) override { co_return try_write(iov); }
  result<size> try_read(std::span<const ::iovec> iov) override {
    std::lock_guard lock(tree_->mu);
    size_t n = 0;
    if (!n_->host) {
      n = tree_->read_at(*n_, offset_, iov);
    } else if (!host_) {
      return errc::badf;
    } else {
      // Still the host's file: one plain read there, as a NONBLOCK read of a host file is.
      iov = clamp_iov(iov);
      ssize_t got = ::preadv(host_->host_stream()->native_handle(), iov.data(), static_cast<int>(iov.size()),
                             static_cast<off_t>(offset_));
      if (got < 0) return from_host_errno(errno);
      n = static_cast<size_t>(got);
    }
    offset_ += n;
    return static_cast<size>(n);
  }
  result<size> try_write(std::span<const ::iovec> iov) override {
    std::lock_guard lock(tree_->mu);
    if (async::iov_total(iov) == 0) return 0;  // moves nothing, not even to the end with APPEND
    if (append_) offset_ = n_->size;
    auto r = tree_->write_at(*n_, offset_, iov);
    if (r) offset_ += r.value();
    return r;
  }
  asio::awaitable<result<size>> pread(std::span<const ::iovec> iov, filesize offset, uint16_t flags) override {
    if (offset > static_cast<filesize>(INT64_MAX)) co_return errc::inval;  // a negative off_t
    std::shared_ptr<resource> host;
    {
      std::lock_guard lock(tree_->mu);
      if (!n_->host) co_return static_cast<size>(tree_->read_at(*n_, offset, iov));
      if (!host_) co_return errc::badf;  // opened without reading
      host = host_;
    }
    // Still the host's file: read there, through the host file's own transfer paths.
    co_return co_await host->pread(iov, offset, flags);
  }
  asio::awaitable<result<size>> pwrite(std::span<const ::iovec> iov, filesize offset, uint16_t) override {
    if (offset > static_cast<filesize>(INT64_MAX)) co_return errc::inval;
    std::lock_guard lock(tree_->mu);
    // As Linux's pwrite on an O_APPEND description: the data goes to the end whatever the offset.
    co_return tree_->write_at(*n_, append_ ? n_->size : offset, iov);
  }
  result<filesize> seek(int64_t offset, whence w) override {
    std::lock_guard lock(tree_->mu);
    return seek_in(offset_, offset, w, n_->size);
  }
  result<void> set_size(filesize size) override {
    std::lock_guard lock(tree_->mu);
    return tree_->set_size(*n_, size);
  }
  result<void> allocate(filesize offset, filesize len) override {
    if (offset > static_cast<filesize>(INT64_MAX) || len > static_cast<filesize>(INT64_MAX) - offset) return errc::inval;
    if (len == 0) return errc::inval;  // posix_fallocate(3)
    std::lock_guard lock(tree_->mu);
    if (offset + len <= n_->size) return ok();
    return tree_->set_size(*n_, offset + len);
  }

 private:
  std::shared_ptr<resource> host_;  // an overlay file opened while still the host's: read through this
};

// ---- a directory ----------------------------------------------------------------------------
class memory_directory final : public tree_resource {
 public:
  memory_directory(std::shared_ptr<memory_tree> t, node_ptr n) : tree_resource(std::move(t), std::move(n)) {}

  filetype type() const override { return filetype::directory; }
  uint64_t rights() const override { return rights::directory; }

  asio::awaitable<result<size>> read(std::span<const ::iovec>, uint16_t) override { co_return errc::isdir; }
  asio::awaitable<result<size>> write(std::span<const ::iovec>, uint16_t) override { co_return errc::isdir; }
  result<size> try_read(std::span<const ::iovec>) override { return errc::isdir; }
  result<size> try_write(std::span<const ::iovec>) override { return errc::isdir; }
  asio::awaitable<result<size>> pread(std::span<const ::iovec>, filesize, uint16_t) override { co_return errc::isdir; }
  asio::awaitable<result<size>> pwrite(std::span<const ::iovec>, filesize, uint16_t) override { co_return errc::isdir; }
  result<filesize> seek(int64_t, whence) override { return errc::isdir; }
  result<void> allocate(filesize, filesize) override { return errc::isdir; }  // fallocate(2) on a directory
  result<void> set_size(filesize) override { return errc::isdir; }
  async::readiness poll(bool) override { return async::readiness{true, false, 0, EBADF}; }  // as host_directory

  result<std::shared_ptr<resource>> open_at(std::string_view path, const open_request& r) override {
    BOOST_OUTCOME_TRYV(check_path(path));
    bool creat = r.oflags & oflags::creat, excl = r.oflags & oflags::excl;
    bool directory = r.oflags & oflags::directory, trunc = r.oflags & oflags::trunc;
    if (creat && directory) return errc::inval;  // Linux 6.4 and later: O_CREAT | O_DIRECTORY
    std::lock_guard lock(tree_->mu);
    // O_CREAT | O_EXCL follows no symlink at the end: the name must be new.
    WASIO_TRY(f, walk(*tree_, n_, path, r.follow && !(creat && excl), creat));
    node_ptr n = f.n;
    if (!n) {
      if (!creat) return errc::noent;
      if (f.dir->removed) return errc::noent;
      WASIO_TRY(made, tree_->make_node(filetype::regular_file));
      tree_->add_entry(f.dir, f.name, made);
      n = std::move(made);
    } else {
      if (creat && excl) return errc::exist;
      if (directory && !n->is_dir()) return errc::notdir;
      if (n->type == filetype::symbolic_link) return errc::loop;  // O_NOFOLLOW
      if (n->is_dir()) {
        // A directory is never opened for writing (host_directory.cpp says why).
        if (r.write || creat || trunc) return errc::isdir;
        return std::shared_ptr<resource>(std::make_shared<memory_directory>(tree_, std::move(n)));
      }
    }
    if (n->type != filetype::regular_file) return open_special(*n, r);
    if (n->custom) {
      if (r.write && !n->custom->writable()) return errc::acces;
      if (trunc) {
        BOOST_OUTCOME_TRYV(n->custom->resize(0));
      }
      return std::shared_ptr<resource>(std::make_shared<embedder_file>(tree_, std::move(n), r.fdflags & fdflags::append));
    }
    if (trunc && n->size) {
      BOOST_OUTCOME_TRYV(tree_->set_size(*n, 0));
    }
    std::shared_ptr<resource> host;
    if (n->host && r.read) {
      WASIO_TRY(fd, tree_->open_host(*n, O_RDONLY));
      int err = 0;
      auto s = async::host_stream::open(r.executor, fd.get(), &err);
      if (!s) return from_host_errno(err);
      host = host_resource(std::move(s), true);
    }
    return std::shared_ptr<resource>(
        std::make_shared<memory_file>(tree_, std::move(n), std::move(host), r.fdflags & fdflags::append));
  }

  result<filestat> stat_at(std::string_view path, bool follow) override {
    BOOST_OUTCOME_TRYV(check_path(path));
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(f, walk(*tree_, n_, path, follow));
    if (!f.n) return errc::noent;
    return tree_->stat(*f.n);
  }

  result<void> set_times_at(std::string_view path, bool follow, timestamp atim, timestamp mtim,
                            uint16_t fst_flags) override {
    BOOST_OUTCOME_TRYV(host_times(atim, mtim, fst_flags));
    std::lock_guard lock(tree_->mu);
    if (follow) {
      BOOST_OUTCOME_TRYV(check_path(path));
      WASIO_TRY(f, walk(*tree_, n_, path, true));
      if (!f.n) return errc::noent;
      return apply_times(*f.n, atim, mtim, fst_flags);
    }
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    BOOST_OUTCOME_TRYV(follow_trailing_slash(*tree_, n_, path, p));
    if (fst_flags == 0) return ok();  // utimensat(2) looks no further than the directory then
    WASIO_TRY(n, name_in(*tree_, p));
    return apply_times(*n, atim, mtim, fst_flags);
  }

  result<void> create_directory(std::string_view path) override {
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    BOOST_OUTCOME_TRYV(can_create(*tree_, p));
    WASIO_TRY(d, tree_->make_node(filetype::directory));
    tree_->add_entry(p.dir, p.name, std::move(d));
    return ok();
  }

  result<void> remove_directory(std::string_view path) override {
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    if (p.name == ".") return errc::inval;  // rmdir(2) of "."
    WASIO_TRY(n, name_in(*tree_, p));
    if (!n->is_dir()) return errc::notdir;
    BOOST_OUTCOME_TRYV(tree_->populate(n));
    if (!n->names.empty()) return errc::notempty;
    unlink_name(p);
    return ok();
  }

  result<void> unlink_file(std::string_view path) override {
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    WASIO_TRY(n, name_in(*tree_, p));
    if (n->is_dir()) return errc::isdir;
    if (p.trailing_slash) return errc::notdir;  // "file/" names a directory
    unlink_name(p);
    return ok();
  }

  result<void> rename(std::string_view old_path, resource& new_dir, std::string_view new_path) override {
    WASIO_TRY(to_dir, same_tree(new_dir));
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(from, parent_of(*tree_, n_, old_path));
    WASIO_TRY(to, parent_of(*tree_, to_dir->n_, new_path));
    // The order of host_directory's checks and then renameat(2)'s.
    if (from.trailing_slash || to.trailing_slash) {
      WASIO_TRY(n, name_in(*tree_, from));
      if (!n->is_dir()) return errc::notdir;
    }
    if (from.name == "." || to.name == ".") return errc::busy;
    WASIO_TRY(n, name_in(*tree_, from));
    if (to.dir->removed) return errc::noent;
    BOOST_OUTCOME_TRYV(tree_->populate(to.dir));
    auto there = to.dir->names.find(to.name);
    node_ptr old = there == to.dir->names.end() ? nullptr : there->second.n;
    // renameat(2)'s order: into itself (inval), over a directory above itself (notempty), two
    // names of one file (nothing to do), then the kinds.
    auto above = [](const node_ptr& up, node_ptr d) {
      for (; d; d = d->parent.lock()) {
        if (d == up) return true;
      }
      return false;
    };
    if (n->is_dir() && above(n, to.dir)) return errc::inval;
    if (old && old->is_dir() && above(old, from.dir)) return errc::notempty;
    if (old == n) return ok();
    if (old) {
      if (n->is_dir() && !old->is_dir()) return errc::notdir;
      if (!n->is_dir() && old->is_dir()) return errc::isdir;
      if (old->is_dir()) {
        BOOST_OUTCOME_TRYV(tree_->populate(old));
        if (!old->names.empty()) return errc::notempty;
      }
      unlink_name(to);
    }
    node_ptr moved = tree_->remove_entry(*from.dir, from.name);
    tree_->add_entry(to.dir, to.name, std::move(moved));
    n->ctim = now();
    return ok();
  }

  result<void> link(std::string_view old_path, bool follow, resource& new_dir, std::string_view new_path) override {
    WASIO_TRY(to_dir, same_tree(new_dir));
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(to, parent_of(*tree_, to_dir->n_, new_path));
    if (to.trailing_slash) {
      auto there = name_in(*tree_, to);
      return there ? errc::exist : there.error();
    }
    node_ptr n;
    if (follow) {
      BOOST_OUTCOME_TRYV(check_path(old_path));
      WASIO_TRY(f, walk(*tree_, n_, old_path, true));
      if (!f.n) return errc::noent;
      n = std::move(f.n);
    } else {
      WASIO_TRY(from, parent_of(*tree_, n_, old_path));
      BOOST_OUTCOME_TRYV(follow_trailing_slash(*tree_, n_, old_path, from));
      WASIO_TRY(found, name_in(*tree_, from));
      if (from.trailing_slash) return found->is_dir() ? errc::perm : errc::notdir;
      n = std::move(found);
    }
    BOOST_OUTCOME_TRYV(can_create(*tree_, to));  // linkat(2): exist before perm
    if (n->is_dir()) return errc::perm;
    ++n->links;
    n->ctim = now();
    tree_->add_entry(to.dir, to.name, std::move(n));
    return ok();
  }

  result<std::string> readlink(std::string_view path, size_t max) override {
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    BOOST_OUTCOME_TRYV(follow_trailing_slash(*tree_, n_, path, p));
    WASIO_TRY(n, name_in(*tree_, p));
    if (n->type != filetype::symbolic_link) return errc::inval;
    return n->target.substr(0, max);
  }

  result<void> symlink(std::string_view target, std::string_view path) override {
    std::lock_guard lock(tree_->mu);
    WASIO_TRY(p, parent_of(*tree_, n_, path));
    if (p.trailing_slash) {
      // As host_directory: exist where a directory (or a link to one) is, else the lookup's error.
      WASIO_TRY(f, walk(*tree_, n_, path, true));
      return f.n ? errc::exist : errc::noent;
    }
    if (target.find('\0') != std::string_view::npos) return errc::inval;
    if (target.empty()) return errc::noent;  // symlink(2) with an empty target
    if (target.size() >= PATH_MAX) return errc::nametoolong;
    BOOST_OUTCOME_TRYV(can_create(*tree_, p));
    WASIO_TRY(l, tree_->make_node(filetype::symbolic_link));
    l->target = std::string(target);
    tree_->add_entry(p.dir, p.name, std::move(l));
    return ok();
  }

  // `.`, `..`, then the entries in the order they were made; an entry's cookie is its place
  // in that order, so a listing read in pieces goes on right whatever is created or removed
  // meanwhile.
  result<std::vector<dirent>> readdir(uint64_t cookie, size_t max_bytes) override {
    std::lock_guard lock(tree_->mu);
    BOOST_OUTCOME_TRYV(tree_->populate(n_));
    std::vector<dirent> out;
    if (n_->removed) return out;  // as getdents(2) on a removed directory
    size_t bytes = 0;
    auto add = [&](dirent e) {
      bytes += 24 + e.name.size();
      out.push_back(std::move(e));
      return bytes < max_bytes;
    };
    if (cookie == 0 && !add(dirent{1, n_->ino, filetype::directory, "."})) return out;
    if (cookie <= 1) {
      auto up = n_->parent.lock();
      if (!add(dirent{2, (up ? up : n_)->ino, filetype::directory, ".."})) return out;
    }
    for (auto it = n_->listing.lower_bound(std::max<uint64_t>(cookie, 2)); it != n_->listing.end(); ++it) {
      const node& e = *n_->names.find(it->second)->second.n;
      if (!add(dirent{it->first + 1, e.ino, e.type, it->second})) break;
    }
    return out;
  }

 private:
  // The other directory of a rename or link: notdir when it is none, xdev when it is not a
  // directory of this tree.
  result<memory_directory*> same_tree(resource& d) const {
    if (d.type() != filetype::directory) return errc::notdir;
    auto* m = dynamic_cast<memory_directory*>(&d);
    if (!m || m->tree_ != tree_) return errc::xdev;
    return m;
  }

  // Takes the name `p` names away (a file's last name: it goes once no fd holds it; an empty
  // directory: nothing can be made in it any more).
  void unlink_name(const parent& p) {
    node_ptr n = tree_->remove_entry(*p.dir, p.name);
    if (n->is_dir()) n->removed = true;
    else --n->links;
    n->ctim = now();
  }


  // An overlay's FIFO, socket or device: the host's, for reading only (it is not a file whose
  // changes could be kept).
  result<std::shared_ptr<resource>> open_special(const node& n, const open_request& r) {
    if (!n.host || r.write) return errc::acces;
    WASIO_TRY(fd, tree_->open_host(n, O_RDONLY | O_NONBLOCK));
    int err = 0;
    auto s = async::host_stream::open(r.executor, fd.get(), &err);
    if (!s) return from_host_errno(err);
    return host_resource(std::move(s), true);
  }
};

}  // namespace

// memory_fs::add_file: `file` as a new name, beneath the root as a guest's path would be.
result<void> add_guest_file(memory_tree& t, std::string_view path, std::shared_ptr<guest_file> file) {
  if (!file) return errc::inval;
  std::lock_guard lock(t.mu);
  WASIO_TRY(p, parent_of(t, t.root(), path));
  if (p.trailing_slash) return errc::isdir;  // "name/" is no file's name
  BOOST_OUTCOME_TRYV(can_create(t, p));
  WASIO_TRY(n, t.make_node(filetype::regular_file));
  n->custom = std::move(file);
  t.add_entry(p.dir, p.name, std::move(n));
  return ok();
}

std::shared_ptr<memory_tree> make_memory_tree(const memory_tree_limits& limits, async::unique_fd host_root) {
  return std::make_shared<memory_tree>(limits, std::move(host_root));
}

std::shared_ptr<resource> memory_tree_root(const std::shared_ptr<memory_tree>& tree) {
  return std::make_shared<memory_directory>(tree, tree->root());
}

uint64_t memory_tree_bytes(const memory_tree& tree) { return tree.bytes(); }

}  // namespace wasio::wasi

// ---- the embedder's side (include/wasio/filesystem.hpp): the guest's calls on the root -------
namespace wasio {

std::shared_ptr<memory_fs> memory_fs::make(const limits& l) {
  return std::make_shared<memory_fs>(wasi::make_memory_tree({l.max_bytes, l.max_entries}));
}

result<std::shared_ptr<memory_fs>> memory_fs::overlay(const std::string& host_path, const limits& l) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return from_host_errno(errno);
  return std::make_shared<memory_fs>(wasi::make_memory_tree({l.max_bytes, l.max_entries}, async::unique_fd(fd)));
}

namespace {
// The files the embedder opens: regular files only (no FIFO or device of an overlay, which
// would wait), so no executor is needed.
result<std::shared_ptr<wasi::resource>> open_file(wasi::resource& root, std::string_view path, bool write) {
  wasi::resource::open_request r;
  r.follow = true;
  r.read = !write;
  r.write = write;
  if (write) {
    r.oflags = wasi::oflags::creat | wasi::oflags::trunc;
  } else {
    WASIO_TRY(st, root.stat_at(path, true));
    if (st.type == wasi::filetype::directory) return errc::isdir;
    if (st.type != wasi::filetype::regular_file) return errc::inval;
  }
  WASIO_TRY(f, root.open_at(path, r));
  if (dynamic_cast<wasi::embedder_file*>(f.get())) return errc::notsup;  // the embedder's own: it has it
  return f;
}
}  // namespace

result<void> memory_fs::write_file(std::string_view path, std::string_view contents) {
  WASIO_TRY(f, open_file(*wasi::memory_tree_root(tree_), path, true));
  for (size_t at = 0; at < contents.size();) {
    ::iovec v{const_cast<char*>(contents.data() + at), contents.size() - at};
    WASIO_TRY(n, f->try_write({&v, 1}));
    at += n;
  }
  return ok();
}

result<std::string> memory_fs::read_file(std::string_view path) {
  WASIO_TRY(f, open_file(*wasi::memory_tree_root(tree_), path, false));
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ::iovec v{buf, sizeof buf};
    WASIO_TRY(n, f->try_read({&v, 1}));
    if (n == 0) return out;
    out.append(buf, n);
  }
}

result<void> memory_fs::add_file(std::string_view path, std::shared_ptr<guest_file> file) {
  return wasi::add_guest_file(*tree_, path, std::move(file));
}

asio::awaitable<result<std::size_t>> guest_file::write_at(uint64_t, std::span<const std::byte>) { co_return errc::acces; }
result<void> guest_file::resize(uint64_t) { return errc::acces; }

result<void> memory_fs::create_directory(std::string_view path) {
  return wasi::memory_tree_root(tree_)->create_directory(path);
}

result<void> memory_fs::symlink(std::string_view target, std::string_view path) {
  return wasi::memory_tree_root(tree_)->symlink(target, path);
}

result<void> memory_fs::remove(std::string_view path) {
  auto root = wasi::memory_tree_root(tree_);
  WASIO_TRY(st, root->stat_at(path, false));
  return st.type == wasi::filetype::directory ? root->remove_directory(path) : root->unlink_file(path);
}

result<std::vector<std::string>> memory_fs::list(std::string_view path) {
  wasi::resource::open_request r;
  r.oflags = wasi::oflags::directory;
  r.read = r.follow = true;
  WASIO_TRY(d, wasi::memory_tree_root(tree_)->open_at(path.empty() ? "." : path, r));  // "": the root
  WASIO_TRY(entries, d->readdir(0, SIZE_MAX));
  std::vector<std::string> names;
  for (auto& e : entries) {
    if (e.name != "." && e.name != "..") names.push_back(std::move(e.name));
  }
  return names;
}

uint64_t memory_fs::bytes() const { return tree_->bytes(); }

}  // namespace wasio
