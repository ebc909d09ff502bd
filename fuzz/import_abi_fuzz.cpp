// libFuzzer harness: the import ABI. Each input is one call of one WASI function (any row of
// src/wasi/functions.hpp, under either module name, with or without its optional parameters)
// with arguments and guest memory from the fuzzer, made by a real guest on a real V8 through the
// public embedding API, in fiber or in asyncify mode. It checks what no guest may ever cause:
//   - the host crashing, hanging or corrupting its memory (ASan, UBSan, libFuzzer's timeout);
//   - the call writing guest memory outside what it was given: every byte that changed must lie
//     in an output the call's parameters describe (sentinel memory, as wazero's tests do);
//   - an errno outside the spec's, or a trap (a WASI call returns an errno, it never traps);
//   - the host changing anything outside the preopened directory (a directory beside it is
//     reached from inside only through symlinks: `up -> ../outside`, `abs -> /…/outside`);
//   - the host leaking fds across calls.
// The preopens are a host directory (fd 3), an in-memory one (fd 4) and an overlay of the first
// (fd 5), made afresh for every input, so each input runs the same way again.
#include <asio/use_future.hpp>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/wasi/functions.hpp"
#include "wasio/wasio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using wasio::wasi::arg_kind;

// Page 0 holds the fuzzer's bytes, page 1 the shadow stack (asyncify's unwind buffer goes
// there), page 2 the fuzzer's bytes again at its end.
constexpr uint32_t kPages = 3, kMemSize = kPages * 65536, kStackFloor = 65536, kStackTop = 2 * 65536;

// ---- the guest: one module per (row, module name, parameter count) ----------------------------
// _start calls env.before() (the harness fills memory), the import with env.arg(k) for each
// parameter, then env.after(errno).
struct variant {
  const wasio::wasi::function_row* row;
  bool unstable;
  std::vector<wasio::wasi::arg_spec> params;
  std::vector<wasio::module> mod;  // fiber, asyncify
};

void leb(std::vector<uint8_t>& o, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    o.push_back(b | (v ? 0x80 : 0));
  } while (v);
}
void sleb(std::vector<uint8_t>& o, int64_t v) {
  for (;;) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    o.push_back(b | (done ? 0 : 0x80));
    if (done) return;
  }
}
void name(std::vector<uint8_t>& o, std::string_view s) {
  leb(o, s.size());
  o.insert(o.end(), s.begin(), s.end());
}
void section(std::vector<uint8_t>& o, uint8_t id, const std::vector<uint8_t>& body) {
  o.push_back(id);
  leb(o, body.size());
  o.insert(o.end(), body.begin(), body.end());
}

std::vector<uint8_t> build_module(const variant& v) {
  constexpr uint8_t i32 = 0x7f, i64 = 0x7e;
  std::vector<uint8_t> m = {0, 'a', 's', 'm', 1, 0, 0, 0}, s;
  // Types: 0 () -> (), 1 (i32) -> (), 2 (i32) -> (i64), 3 the import's.
  s = {4, 0x60, 0, 0, 0x60, 1, i32, 0, 0x60, 1, i32, 1, i64, 0x60};
  leb(s, v.params.size());
  for (const auto& p : v.params) s.push_back(wasio::wasi::is_i64(p.kind) ? i64 : i32);
  s.push_back(v.row->returns ? 1 : 0);
  if (v.row->returns) s.push_back(i32);
  section(m, 1, s);
  s = {4};
  for (auto [mod, field, type] : {std::tuple<std::string_view, std::string_view, uint8_t>{"env", "before", 0},
                                  {"env", "after", 1},
                                  {"env", "arg", 2},
                                  {v.unstable ? "wasi_unstable" : "wasi_snapshot_preview1", v.row->name, 3}}) {
    name(s, mod);
    name(s, field);
    s.push_back(0);
    s.push_back(type);
  }
  section(m, 2, s);
  section(m, 3, {1, 0});
  section(m, 5, {1, 1, kPages, kPages});
  // Global 0, the shadow-stack pointer as wasm-ld makes it (named below): asyncify needs one.
  s = {1, i32, 1, 0x41};
  sleb(s, kStackTop);
  s.push_back(0x0b);
  section(m, 6, s);
  s = {2};
  name(s, "memory");
  s.insert(s.end(), {2, 0});
  name(s, "_start");
  s.insert(s.end(), {0, 4});
  section(m, 7, s);
  std::vector<uint8_t> body = {0, 0x10, 0};
  for (size_t k = 0; k < v.params.size(); ++k) {
    body.push_back(0x41);
    leb(body, k);  // k < 64: the same in signed LEB128
    body.insert(body.end(), {0x10, 2});
    if (!wasio::wasi::is_i64(v.params[k].kind)) body.push_back(0xa7);  // i32.wrap_i64
  }
  body.insert(body.end(), {0x10, 3});
  if (v.row->returns) body.insert(body.end(), {0x10, 1});
  body.push_back(0x0b);
  s = {1};
  leb(s, body.size());
  s.insert(s.end(), body.begin(), body.end());
  section(m, 10, s);
  section(m, 11, {1, 0, 0x41, 0, 0x0b, 1, 0});  // one byte of data at 0: the stack lies above it
  s.clear();
  name(s, "name");
  std::vector<uint8_t> globals = {1, 0};
  name(globals, "__stack_pointer");
  s.push_back(7);  // global names
  leb(s, globals.size());
  s.insert(s.end(), globals.begin(), globals.end());
  section(m, 0, s);
  return m;
}

// ---- one input ---------------------------------------------------------------------------------
struct byte_reader {
  const uint8_t* p;
  size_t n;
  uint64_t take(size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) {
      v |= uint64_t{n ? *p : uint8_t{0}} << (8 * i);
      if (n) ++p, --n;
    }
    return v;
  }
};

struct region {
  uint64_t at, len;
};

struct current_call {
  const variant* v = nullptr;
  std::vector<uint64_t> args;
  const uint8_t* image = nullptr;
  size_t image_len = 0;
  bool asyncify = false, filled = false, returned = false;
  int32_t err = -1;
  std::vector<uint8_t> before;  // guest memory as the call got it
} cur;

// An argument of kind `k` from the input, biased towards the values that find bugs: small fds,
// pointers into the image at either end of memory, just below 2^32, lengths around the image.
uint64_t make_arg(arg_kind k, byte_reader& r) {
  uint8_t sel = static_cast<uint8_t>(r.take(1));
  switch (k) {
    case arg_kind::fd: {
      uint32_t v = static_cast<uint32_t>(r.take(1));
      return sel % 8 == 7 ? static_cast<uint32_t>(r.take(4)) : v % 12;
    }
    case arg_kind::str: case arg_kind::iovs: case arg_kind::buf: case arg_kind::ptr: case arg_kind::out32:
    case arg_kind::out64: {
      uint32_t v = static_cast<uint32_t>(r.take(2));
      switch (sel % 8) {
        case 4: case 5: return kMemSize - v % 4096;
        case 6: return 0xffffffffu - v % 64;
        case 7: return (static_cast<uint32_t>(r.take(2)) << 16) | v;
        default: return v;
      }
    }
    case arg_kind::len: case arg_kind::u32: {
      uint32_t v = static_cast<uint32_t>(r.take(2));
      switch (sel % 4) {
        case 0: case 1: return v % 64;
        case 2: return v;
        default: return (static_cast<uint32_t>(r.take(2)) << 16) | v;
      }
    }
    default:
      if (wasio::wasi::is_i64(k)) return sel % 2 ? r.take(8) : r.take(1);
      return sel % 2 ? static_cast<uint32_t>(r.take(4)) : r.take(1);
  }
}

uint32_t load32(const std::vector<uint8_t>& mem, uint64_t at) {
  if (at + 4 > mem.size()) return 0;
  uint32_t v;
  std::memcpy(&v, mem.data() + at, 4);
  return v;
}

// The guest's args and environment (args_get and environ_get write exactly these).
const std::vector<std::string> kArgs = {"fuzz", "-x"}, kEnv = {"A=1", "BB=22"};
uint64_t packed_size(const std::vector<std::string>& v) {
  uint64_t n = 0;
  for (const auto& s : v) n += s.size() + 1;
  return n;
}

// Where the call may write, from its parameters and the memory it was given.
std::vector<region> outputs(const variant& v, const std::vector<uint64_t>& a, const std::vector<uint8_t>& mem) {
  std::vector<region> out;
  std::string_view fn = v.row->name;
  auto is = [&](std::string_view s) { return fn == s || fn == std::string(s) + "_v2"; };
  bool reads = fn.find("read") != std::string_view::npos || fn.find("recv") != std::string_view::npos;
  for (size_t i = 0; i < v.params.size(); ++i) {
    std::string_view pname = v.params[i].name;
    uint64_t p = a[i], len = i + 1 < v.params.size() ? a[i + 1] : 0;
    switch (v.params[i].kind) {
      case arg_kind::out32: out.push_back({p, 4}); break;
      case arg_kind::out64: out.push_back({p, 8}); break;
      case arg_kind::buf: out.push_back({p, len}); break;
      case arg_kind::iovs:
        if (reads) {
          for (uint64_t k = 0; k < std::min<uint64_t>(len, 1024); ++k) {
            out.push_back({load32(mem, p + 8 * k), load32(mem, p + 8 * k + 4)});
          }
        }
        break;
      case arg_kind::ptr:
        if (is("args_get")) out.push_back({p, pname == "argv" ? 4 * kArgs.size() : packed_size(kArgs)});
        else if (is("environ_get")) out.push_back({p, pname == "environ" ? 4 * kEnv.size() : packed_size(kEnv)});
        else if (is("fd_fdstat_get")) out.push_back({p, 24});
        else if (is("fd_prestat_get")) out.push_back({p, 8});
        else if (is("fd_filestat_get") || is("path_filestat_get")) out.push_back({p, v.unstable ? 56u : 64u});
        else if (is("poll_oneoff") && pname == "out") out.push_back({p, 32 * a[2]});
        else if (pname == "addr" && (is("sock_recv_from") || is("sock_getlocaladdr") || is("sock_getpeeraddr"))) {
          out.push_back({load32(mem, p), load32(mem, p + 4)});  // {buf, buf_len}
        } else if (pname != "in" && pname != "addr" && pname != "hints" && pname != "res" &&
                   !(is("sock_setsockopt") && pname == "value")) {
          out.push_back({p, 4});  // a u32 (or u16) out-parameter: ro_flags, a, b, port, value, len
        }
        break;
      default: break;
    }
  }
  return out;
}

__attribute__((no_sanitize("coverage"))) bool inside(const std::vector<region>& rs, uint64_t at) {
  for (const auto& r : rs) {
    if (at >= r.at && at - r.at < r.len) return true;
  }
  return false;
}

// The first byte of `mem` that differs from what the call was given and lies outside
// `allowed`. Compared a block at a time: the harness's own loops are not what the fuzzer is to
// explore (nor are they instrumented for it).
__attribute__((no_sanitize("coverage"))) std::optional<size_t> written_outside(std::span<std::byte> mem,
                                                                              const std::vector<region>& allowed) {
  constexpr size_t kBlock = 512;
  for (size_t b = 0; b < mem.size(); b += kBlock) {
    size_t n = std::min(kBlock, mem.size() - b);
    if (std::memcmp(mem.data() + b, cur.before.data() + b, n) == 0) continue;
    for (size_t i = b; i < b + n; ++i) {
      if (static_cast<uint8_t>(mem[i]) != cur.before[i] && !inside(allowed, i)) return i;
    }
  }
  return std::nullopt;
}

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "import_abi_fuzz: %s (%s%s)\n", why.c_str(), cur.v->unstable ? "wasi_unstable." : "",
               std::string(cur.v->row->name).c_str());
  for (size_t i = 0; i < cur.args.size(); ++i) {
    std::fprintf(stderr, "  %s = %llu (0x%llx)\n", std::string(cur.v->params[i].name).c_str(),
                 static_cast<unsigned long long>(cur.args[i]), static_cast<unsigned long long>(cur.args[i]));
  }
  std::abort();
}

// Relative clock timeouts to at most a millisecond: a guest may sleep as long as it likes, the
// fuzzer may not.
void shorten_clocks(std::span<std::byte> mem, uint64_t in, uint64_t n, bool unstable) {
  uint32_t size = unstable ? 56 : 48, timeout = unstable ? 32 : 24;
  for (uint64_t k = 0; k < std::min<uint64_t>(n, 4096); ++k) {
    uint64_t at = in + k * size;
    if (at + size > mem.size()) break;
    if (static_cast<uint8_t>(mem[at + 8]) != 0) continue;
    uint64_t t;
    std::memcpy(&t, mem.data() + at + timeout, 8);
    t %= 1'000'000;
    std::memcpy(mem.data() + at + timeout, &t, 8);
  }
}

wasio::host_functions hooks() {
  wasio::host_functions h;
  h.define("env", "before", [](wasio::call_context& c) {
    if (cur.filled) return;  // asyncify rewinds into the call, not into this
    cur.filled = true;
    auto mem = c.bytes(0, c.memory().size());
    std::memset(mem.data(), 0xa5, mem.size());
    size_t n = std::min<size_t>(cur.image_len, kStackFloor);
    std::memcpy(mem.data(), cur.image, n);
    std::memcpy(mem.data() + mem.size() - n, cur.image, n);
    if (cur.v->row->name == std::string_view("poll_oneoff")) shorten_clocks(mem, cur.args[0], cur.args[2], cur.v->unstable);
    cur.before.assign(reinterpret_cast<uint8_t*>(mem.data()), reinterpret_cast<uint8_t*>(mem.data()) + mem.size());
  });
  h.define("env", "arg", [](uint32_t k) -> uint64_t { return cur.args.at(k); });
  h.define("env", "after", [](wasio::call_context& c, int32_t err) {
    cur.returned = true;
    cur.err = err;
    if (err < 0 || err > 76) fail("errno " + std::to_string(err) + " is not one of the spec's");
    auto mem = c.bytes(0, c.memory().size());
    if (mem.size() != cur.before.size()) fail("the call changed the memory's size");
    auto allowed = outputs(*cur.v, cur.args, cur.before);
    if (cur.asyncify) allowed.push_back({kStackFloor, kStackTop - kStackFloor});  // the unwind buffer
    if (auto at = written_outside(mem, allowed)) {
      fail("the call wrote byte " + std::to_string(*at) + " of guest memory, outside its outputs");
    }
  });
  return h;
}

// ---- the sandbox ------------------------------------------------------------------------------
fs::path base, in_dir, out_dir;

// What a change outside would show: every entry's mode, size, mtime and ctime (utimensat and
// chmod change ctime too). Not atime: reading the directory here changes that.
std::string outside_state() {
  auto line = [](const fs::path& p) {
    struct stat st {};
    lstat(p.c_str(), &st);
    return p.string() + " " + std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + " " +
           std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec) + "\n";
  };
  std::string s = line(out_dir);
  for (const auto& e : fs::recursive_directory_iterator(out_dir)) s += line(e.path());
  return s;
}
std::string outside_before;

void make_inside() {
  std::error_code ec;
  fs::remove_all(in_dir, ec);
  fs::create_directories(in_dir / "dir" / "sub");
  for (auto [file, text] : {std::pair{"a.txt", "hello"}, {"dir/b", "0123456789"}}) {
    FILE* f = std::fopen((in_dir / file).c_str(), "w");
    std::fputs(text, f);
    std::fclose(f);
  }
  fs::create_symlink("../outside", in_dir / "up");
  fs::create_symlink(out_dir, in_dir / "abs");
  fs::create_symlink("a.txt", in_dir / "link");
  fs::create_symlink("loop", in_dir / "loop");
  fs::create_symlink("../../outside/secret", in_dir / "dir" / "deep");
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::vector<std::unique_ptr<variant>> variants;
std::unique_ptr<wasio::runtime> runtimes[2];
size_t fds_at_start = 0;

void setup() {
  // Files the guest writes stop at 16 MiB (EFBIG, not a signal): fd_allocate and friends with
  // lengths from the fuzzer must not fill the disk.
  signal(SIGXFSZ, SIG_IGN);
  rlimit fsize{16 << 20, 16 << 20};
  setrlimit(RLIMIT_FSIZE, &fsize);
  char tmpl[] = "/tmp/wasio-abi-fuzz.XXXXXX";
  base = mkdtemp(tmpl);
  in_dir = base / "inside";
  out_dir = base / "outside";
  fs::create_directories(out_dir / "sub");
  FILE* f = std::fopen((out_dir / "secret").c_str(), "w");
  std::fputs("secret", f);
  std::fclose(f);
  outside_before = outside_state();
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(base, ec);
  });

  const char* dir = std::getenv("WASIO_FUZZ_DIR");
  for (int m = 0; m < 2; ++m) {
    wasio::runtime_options o;
    o.workers = 1;
    o.mode = m ? wasio::suspension_mode::asyncify : wasio::suspension_mode::fiber;
    o.host = hooks();
    o.cache_dir = std::string(dir ? dir : "/tmp") + "/import_abi-cache";
    runtimes[m] = std::make_unique<wasio::runtime>(std::move(o));
  }
  for (const auto& row : wasio::wasi::functions) {
    for (bool unstable : {false, true}) {
      if (!(row.modules & (unstable ? wasio::wasi::unstable : wasio::wasi::preview1))) continue;
      std::vector<wasio::wasi::arg_spec> all;
      wasio::wasi::arg_reader params(row.params);
      for (wasio::wasi::arg_spec a; params.next(a);) all.push_back(a);
      bool optional = !all.empty() && all.back().optional;
      for (int with = optional ? 0 : 1; with < 2; ++with) {
        auto v = std::make_unique<variant>();
        v->row = &row;
        v->unstable = unstable;
        v->params = all;
        if (!with) v->params.pop_back();
        auto bytes = build_module(*v);
        for (int m = 0; m < 2; ++m) {
          auto loaded = runtimes[m]->load(bytes);
          if (!loaded) {
            std::fprintf(stderr, "import_abi_fuzz: %s: %s\n", std::string(row.name).c_str(), loaded.error().c_str());
            std::abort();
          }
          v->mod.push_back(loaded.value());
        }
        variants.push_back(std::move(v));
      }
    }
  }
  // Each runtime makes its worker's isolate at its first guest: that is set-up, not a leak of
  // the first input's.
  for (uint8_t mode : {0, 1}) {
    uint8_t in[] = {0, mode};
    LLVMFuzzerTestOneInput(in, sizeof in);
  }
  fds_at_start = open_fds();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setup();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  byte_reader r{data, size};
  const variant& v = *variants[r.take(1) % variants.size()];
  int mode = static_cast<int>(r.take(1) & 1);
  cur = current_call{};
  cur.v = &v;
  cur.asyncify = mode == 1;
  for (const auto& p : v.params) cur.args.push_back(make_arg(p.kind, r));
  cur.image = r.p;
  cur.image_len = r.n;

  make_inside();
  wasio::config cfg;
  cfg.args = kArgs;
  cfg.env = kEnv;
  cfg.preopens = {wasio::preopen{in_dir.string(), "/"}, wasio::preopen::memory("/mem"),
                  wasio::preopen::overlay(in_dir.string(), "/over")};
  cfg.limits.open_fds = 32;
  cfg.limits.wall_time = std::chrono::seconds(2);  // a call that never returns is a finding (below)
  wasio::exit_status st = runtimes[mode]->async_run(v.mod[mode], std::move(cfg), asio::use_future).get();

  bool exited = st.how == wasio::exit_status::kind::exited;
  if (!exited) fail("the guest did not exit: " + st.message);
  if (!cur.returned && v.row->returns) fail("the call did not return, yet the guest exited");
  if (v.row->returns && st.code != 0) fail("exit code " + std::to_string(st.code) + " from a call that returns");
  if (outside_state() != outside_before) fail("the call changed something outside the preopen");
  static size_t runs = 0;
  if (++runs % 64 == 0 && open_fds() > fds_at_start + 8) fail("the host holds more fds after the call than before");
  return 0;
}
