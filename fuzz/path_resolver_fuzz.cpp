// libFuzzer harness: the path resolvers, alone (no engine). Each input builds a small tree of
// directories, files and symlinks beneath a fresh temporary preopen, beside a directory
// `outside` that the tree reaches only through symlinks (`up -> ../outside`, an absolute one,
// one to `/`, and whatever the input adds), then makes up to 16 path calls on the directory
// resources of src/wasi (resource::open_at, stat_at, set_times_at, create_directory, ...) with
// paths made of the tree's names, `..`, `.`, empty components and the trailing forms `/`, `//`,
// `/.`, `/./`, from the preopen or from a directory opened beneath it. Each input runs on one
// of:
//   - a host directory with the openat2 resolver, or with the component walk the host falls
//     back to on kernels without openat2; or both, on two copies of the tree, which must then
//     answer every call alike;
//   - an overlay of the host directory, or an in-memory tree built with the same calls.
// After every call it checks what a sandbox must hold:
//   - nothing outside the preopen changed: entries, types, modes, sizes, link counts, times;
//   - on a host directory, every file the call opened or stat'ed is one beneath the preopen
//     (its device and inode are), so that reading outside is caught as well as writing;
//   - an overlay never writes the host directory under it;
//   - no fd is left open once the input's resources are gone; ASan and UBSan stay quiet.
#include <fcntl.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "async/unique_fd.hpp"
#include "src/wasi/memory_fs.hpp"
#include "src/wasi/resource.hpp"
#include "src/wasi/wasi.hpp"

namespace {

namespace fs = std::filesystem;
using namespace wasio;
using namespace wasio::wasi;

std::string g_log;  // the input's calls so far, printed on a failure

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "path_resolver: %s\ncalls:\n%s", what.c_str(), g_log.c_str());
  std::abort();
}

const fs::path& base_dir() {
  static const fs::path p = [] {
    auto d = fs::temp_directory_path() / ("wasio-path-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    // libFuzzer ends with exit(): the tree goes with the process.
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(base_dir(), ec);
    });
    return d;
  }();
  return p;
}

// Every entry beneath `root` (lstat, not followed): what a call may not change outside, and
// whose device and inode a call may reach inside.
struct entry_state {
  unsigned mode;
  int64_t size;
  uint64_t nlink, ino, dev;
  int64_t mtim, ctim;
  bool operator==(const entry_state&) const = default;
};
using snapshot_t = std::map<std::string, entry_state>;
snapshot_t snapshot(const fs::path& root) {
  snapshot_t s;
  auto add = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return;
    s[p.lexically_relative(root).string()] = {st.st_mode, st.st_size, st.st_nlink, st.st_ino, st.st_dev,
                                             st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec,
                                             st.st_ctim.tv_sec * 1'000'000'000 + st.st_ctim.tv_nsec};
  };
  add(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    add(it->path());
  return s;
}

std::string diff(const snapshot_t& a, const snapshot_t& b) {
  for (auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return "'" + k + "' is gone";
    if (!(it->second == v)) return "'" + k + "' changed";
  }
  for (auto& [k, v] : b)
    if (!a.count(k)) return "'" + k + "' appeared";
  return {};
}

// ---- the input's vocabulary ---------------------------------------------------------------------
constexpr const char* kNames[] = {"a", "b", "c", "up", "abs", "root", "loop", "..", ".", "", "secret", "dir", "new"};
constexpr const char* kEndings[] = {"", "", "", "/", "//", "/.", "/./", "/.."};

std::string pick_path(FuzzedDataProvider& in) {
  std::string p = in.ConsumeIntegralInRange(0, 15) == 0 ? "/" : "";
  int n = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < n; ++i) {
    if (i) p += '/';
    p += kNames[in.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)];
  }
  return p + kEndings[in.ConsumeIntegralInRange<size_t>(0, std::size(kEndings) - 1)];
}
std::string pick_target(FuzzedDataProvider& in, const fs::path& outside) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return outside.string();
    case 1: return outside.string() + "/secret";
    case 2: return "../outside/dir";
    default: return pick_path(in);
  }
}

// The tree a sandbox starts with: three symlinks that lead out, then the input's entries.
struct setup_step {
  int kind;  // 0 directory, 1 file, 2 symlink
  std::string path, target;
};
std::vector<setup_step> pick_setup(FuzzedDataProvider& in, const fs::path& outside) {
  std::vector<setup_step> s = {{2, "up", "../outside"}, {2, "abs", outside.string()}, {2, "root", "/"},
                               {0, "a", ""},            {1, "a/secret", ""},         {2, "loop", "loop"}};
  int n = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < n; ++i) {
    int kind = in.ConsumeIntegralInRange(0, 2);
    std::string name = std::string(kNames[in.ConsumeIntegralInRange(0, 2)]);
    if (in.ConsumeBool()) name += std::string("/") + kNames[in.ConsumeIntegralInRange(0, 2)];
    s.push_back({kind, name, kind == 2 ? pick_target(in, outside) : ""});
  }
  return s;
}

void make_host_tree(const fs::path& dir, const std::vector<setup_step>& steps) {
  fs::create_directories(dir);
  for (auto& s : steps) {
    auto p = dir / s.path;
    // The host's own calls follow symlinks: an entry is made only where its parent is a real
    // directory of the tree, never through one of the tree's symlinks.
    struct stat st {};
    if (::lstat(p.parent_path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (s.kind == 0) ::mkdir(p.c_str(), 0755);
    else if (s.kind == 2) (void)::symlink(s.target.c_str(), p.c_str());
    else if (int fd = ::open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644); fd >= 0) {
      (void)::write(fd, "x", 1);
      ::close(fd);
    }
  }
}

// ---- the views ----------------------------------------------------------------------------------
enum class kind { openat2, walk, both, overlay, memory };

struct view {
  bool walk = false;                             // the host's fallback resolver
  fs::path host_root;                            // empty for the memory tree
  bool host_inodes = false;                      // dev/ino of what it stats are the host's
  std::vector<std::shared_ptr<resource>> dirs;   // [0] the preopen, then directories opened
};

std::shared_ptr<resource> open_host(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open " + p.string());
  return directory_resource(async::unique_fd(fd));
}

// What a call answered, to compare two views: the errno, and for a stat the file's type.
struct answer {
  errc e = errc::success;
  int type = -1;
  bool operator==(const answer&) const = default;
};

// Checks that a file a view opened or stat'ed lies beneath its preopen.
void check_inside(const view& v, const filestat& st, const std::string& what) {
  if (!v.host_inodes) return;
  for (auto& [k, e] : snapshot(v.host_root))
    if (e.dev == st.dev && e.ino == st.ino) return;
  fail(what + " reached a file outside the preopen (dev " + std::to_string(st.dev) + ", ino " +
       std::to_string(st.ino) + ")");
}

struct call {
  int op;
  size_t dir, dir2;
  std::string path, path2;
  uint16_t oflags, fdflags, fst;
  bool follow, read, write;
};

call pick_call(FuzzedDataProvider& in, const fs::path& outside) {
  call c;
  c.op = in.ConsumeIntegralInRange(0, 10);
  c.dir = in.ConsumeIntegralInRange(0, 3);
  c.dir2 = in.ConsumeIntegralInRange(0, 3);
  c.path = pick_path(in);
  c.path2 = c.op == 10 ? pick_target(in, outside) : pick_path(in);
  c.oflags = in.ConsumeIntegral<uint16_t>() & (oflags::creat | oflags::directory | oflags::excl | oflags::trunc);
  if (c.oflags & oflags::directory) c.oflags &= ~oflags::creat;  // path_open refuses both (inval)
  c.fdflags = in.ConsumeBool() ? fdflags::append : 0;
  c.fst = in.ConsumeIntegral<uint16_t>() & (fstflags::atim | fstflags::atim_now | fstflags::mtim | fstflags::mtim_now);
  c.follow = in.ConsumeBool();
  c.read = in.ConsumeBool();
  c.write = in.ConsumeBool();
  return c;
}

const char* kOps[] = {"open_at",    "stat_at", "set_times_at", "create_directory", "remove_directory", "unlink_file",
                      "rename",     "link",    "readlink",     "open_at+write",    "symlink"};

answer apply(asio::io_context& io, view& v, const call& c) {
  use_fallback_resolution(v.walk);
  resource& d = *v.dirs[c.dir % v.dirs.size()];
  resource& d2 = *v.dirs[c.dir2 % v.dirs.size()];
  auto st = [](const result<void>& r) { return answer{r ? errc::success : r.error()}; };
  switch (c.op) {
    case 0:
    case 9: {
      resource::open_request r;
      r.oflags = c.oflags;
      r.fdflags = c.fdflags;
      r.read = c.read;
      r.write = c.write || c.op == 9;
      r.follow = c.follow;
      r.executor = io.get_executor();
      auto f = d.open_at(c.path, r);
      if (!f) return {f.error()};
      auto s = f.value()->stat();
      if (!s) fail("stat of an opened file failed");
      check_inside(v, s.value(), "open_at");
      if (s.value().type == filetype::directory) {
        if (v.dirs.size() < 4) v.dirs.push_back(f.value());
      } else if (r.write) {
        // A write, a truncation and new times on what was opened: outside, they would show.
        const char byte = 'y';
        ::iovec iov{const_cast<char*>(&byte), 1};
        (void)f.value()->try_write({&iov, 1});
        (void)f.value()->set_size(2);
        (void)f.value()->set_times(0, 0, fstflags::atim_now | fstflags::mtim_now);
      }
      return {errc::success, static_cast<int>(s.value().type)};
    }
    case 1: {
      auto s = d.stat_at(c.path, c.follow);
      if (!s) return {s.error()};
      check_inside(v, s.value(), "stat_at");
      return {errc::success, static_cast<int>(s.value().type)};
    }
    case 2: return st(d.set_times_at(c.path, c.follow, 1'000'000'000, 2'000'000'000, c.fst));
    case 3: return st(d.create_directory(c.path));
    case 4: return st(d.remove_directory(c.path));
    case 5: return st(d.unlink_file(c.path));
    case 6: return st(d.rename(c.path, d2, c.path2));
    case 7: return st(d.link(c.path, c.follow, d2, c.path2));
    case 8: {
      auto r = d.readlink(c.path, 64);
      return {r ? errc::success : r.error()};
    }
    default: return st(d.symlink(c.path2, c.path));
  }
}

int open_fds() {
  int n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int fds_before = open_fds();
  const auto k = static_cast<kind>(in.ConsumeIntegralInRange(0, 4));
  const fs::path& base = base_dir();
  const fs::path outside = base / "outside";
  std::error_code ec;
  for (auto& e : fs::directory_iterator(base)) fs::remove_all(e.path(), ec);
  fs::create_directories(outside / "dir");
  if (int fd = ::open((outside / "secret").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644); fd >= 0) {
    (void)::write(fd, "secret\n", 7);
    ::close(fd);
  }
  const auto steps = pick_setup(in, outside);
  g_log.clear();
  for (auto& s : steps) g_log += "  setup " + std::to_string(s.kind) + " '" + s.path + "' -> '" + s.target + "'\n";

  asio::io_context io;  // outlives the views, whose files are opened on it
  {
    std::vector<view> views;
    if (k == kind::memory) {
      view v;
      v.dirs.push_back(memory_tree_root(make_memory_tree({})));
      // The same tree, made through the tree's own calls.
      for (auto& s : steps) {
        if (s.kind == 0) (void)v.dirs[0]->create_directory(s.path);
        else if (s.kind == 2) (void)v.dirs[0]->symlink(s.target, s.path);
        else {
          resource::open_request r;
          r.oflags = oflags::creat | oflags::excl;
          r.write = true;
          r.executor = io.get_executor();
          if (auto f = v.dirs[0]->open_at(s.path, r)) {
            const char byte = 'x';
            ::iovec iov{const_cast<char*>(&byte), 1};
            (void)f.value()->try_write({&iov, 1});
          }
        }
      }
      views.push_back(std::move(v));
    } else {
      for (int i = 0; i < (k == kind::both ? 2 : 1); ++i) {
        view v;
        v.host_root = base / ("sandbox" + std::to_string(i));
        make_host_tree(v.host_root, steps);
        v.walk = k == kind::walk || (k == kind::both && i == 1);
        v.host_inodes = k != kind::overlay;
        if (k == kind::overlay) {
          int fd = ::open(v.host_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (fd < 0) fail("cannot open " + v.host_root.string());
          v.dirs.push_back(memory_tree_root(make_memory_tree({}, async::unique_fd(fd))));
        } else {
          v.dirs.push_back(open_host(v.host_root));
        }
        views.push_back(std::move(v));
      }
    }
    const snapshot_t outside_before = snapshot(outside);
    const snapshot_t lower_before = k == kind::overlay ? snapshot(views[0].host_root) : snapshot_t{};

    for (int i = 0, n = in.ConsumeIntegralInRange(1, 16); i < n && in.remaining_bytes(); ++i) {
      call c = pick_call(in, outside);
      g_log += "  " + std::string(kOps[c.op]) + " dir " + std::to_string(c.dir) + " '" + c.path + "' '" + c.path2 +
               "' oflags " + std::to_string(c.oflags) + " follow " + std::to_string(c.follow) + "\n";
      answer first = apply(io, views[0], c);
      if (views.size() == 2) {
        answer second = apply(io, views[1], c);
        if (!(first == second))
          fail("openat2 and the walk differ: errno " + std::to_string(static_cast<int>(first.e)) + " type " +
               std::to_string(first.type) + " against errno " + std::to_string(static_cast<int>(second.e)) +
               " type " + std::to_string(second.type));
      }
      if (auto d = diff(outside_before, snapshot(outside)); !d.empty()) fail("outside the preopen, " + d);
      if (k == kind::overlay)
        if (auto d = diff(lower_before, snapshot(views[0].host_root)); !d.empty()) fail("under the overlay, " + d);
    }
    // The directory holding both is outside them too: nothing may appear beside them.
    std::set<std::string> names;
    for (auto& e : fs::directory_iterator(base)) names.insert(e.path().filename().string());
    for (auto& n : names)
      if (n != "outside" && n.rfind("sandbox", 0) != 0) fail("'" + n + "' appeared beside the preopen");
  }
  use_fallback_resolution(false);
  if (int n = open_fds(); n > fds_before) fail(std::to_string(n - fds_before) + " fds left open");
  return 0;
}
