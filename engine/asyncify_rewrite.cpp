// The asyncify rewrite, in a helper process (engine/rewrite_helper.cpp says why), with a
// deadline, its messages in the error; its record kept in the disk cache.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "async/unique_fd.hpp"
#include "engine/disk_cache.hpp"
#include "engine/imports.hpp"
#include "engine/module.hpp"
#include "engine/rewrite_record.hpp"

extern char** environ;

// The helper's executable, embedded in the library by the build (cmake/embed_binary.cmake).
extern const unsigned char wasio_rewrite_helper[];
extern const unsigned long wasio_rewrite_helper_size;

namespace wasio::engine {

using namespace rewrite_record;

namespace {

// Takes the child's record (a header, an error text, the module bytes) into `res`; false when
// it is not a whole, well-formed record. The module's bytes stay where they are.
bool parse_record(byte_buffer data, rewrite_result& res) {
  header h{};
  auto d = data.bytes();
  if (d.size() < sizeof h) return false;
  std::memcpy(&h, d.data(), sizeof h);
  if (h.magic != kMagic || d.size() != sizeof h + uint64_t{h.error_len} + h.bytes_len) return false;
  res.asyncified = h.flags & asyncified;
  res.has_stack_pointer = h.flags & has_sp;
  res.stack_start = h.stack_start;
  res.unwinds_at_every_import = h.flags & every_import;
  res.imports_blocking = h.flags & blocks;
  res.memory_imported = h.flags & memory_imported;
  res.counts_ticks = h.flags & ticks;
  res.jspi = h.flags & jspi;
  res.moved_start = h.flags & moved_start;
  if (h.bytes_len) {
    data.narrow(sizeof h + h.error_len, h.bytes_len);
    res.bytes = std::move(data);
  }
  return true;
}

// The helper's executable, written once per process into a sealed memfd and run from there
// (/proc/self/fd/N), so that it needs no installed path: the library may be linked into any
// program, anywhere. -1 (with errno) if it could not be made.
int helper_executable() {
  static int fd = [] {
    int f = ::memfd_create("wasio-rewrite", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (f < 0) return -1;
    if (!async::write_all(f, wasio_rewrite_helper, wasio_rewrite_helper_size) ||
        ::fcntl(f, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
      int e = errno;
      ::close(f);
      errno = e;
      return -1;
    }
    return f;
  }();
  return fd;
}

// How long binaryen may take on one module (170 s were seen on a 31 MB one).
constexpr auto kRewriteDeadline = std::chrono::minutes(15);

// The helper's arguments for `settings` (rewrite_helper.cpp): IMPORT_MEMORY LEGALIZE ALWAYS
// TICKS BLOCKING ALL JSPI. They are all its output depends on besides the module, so the cache key is made
// of them too.
std::vector<std::string> helper_arguments(const rewrite_settings& settings) {
  std::string blocking = asyncify_import_list(), all = asyncify_import_list(true);
  if (!settings.extra_blocking.empty()) blocking += "," + settings.extra_blocking;
  if (!settings.extra_all.empty()) all += "," + settings.extra_all;
  auto flag = [](bool b) { return std::string(b ? "1" : "0"); };
  std::string ticks = settings.ticks ? (settings.tick_yields ? "2" : "1") : "0";
  return {flag(settings.import_memory), flag(settings.legalize), flag(settings.always), std::move(ticks),
          std::move(blocking), std::move(all), settings.jspi ? "1" : settings.ticks_only ? "2" : "0",
          std::to_string(settings.start)};
}

struct helper_output {
  std::string record;
  std::string error;  // empty: the helper succeeded
};

// Runs the helper on `wasm`: its stdin a memfd with the module, its stdout and stderr pipes read
// until it exits or the deadline passes (then it is killed).
helper_output run_helper(std::span<const uint8_t> wasm, const rewrite_settings& settings) {
  helper_output out;
  auto fail = [&out](std::string what) {
    out.error = "asyncify rewrite: " + what;
    return out;
  };
  int exe = helper_executable();
  if (exe < 0) return fail(std::string("cannot make its helper: ") + std::strerror(errno));
  async::unique_fd input(::memfd_create("wasio-rewrite-input", MFD_CLOEXEC));
  if (!input || !async::write_all(input.get(), wasm.data(), wasm.size()) || ::lseek(input.get(), 0, SEEK_SET) != 0) {
    return fail(std::string("cannot pass it the module: ") + std::strerror(errno));
  }
  int o[2], e[2];
  if (::pipe2(o, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  async::unique_fd out_r(o[0]), out_w(o[1]);
  if (::pipe2(e, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  async::unique_fd err_r(e[0]), err_w(e[1]);

  std::string path = "/proc/self/fd/" + std::to_string(exe);
  std::vector<std::string> args = helper_arguments(settings);
  std::vector<char*> argv = {const_cast<char*>("wasio-rewrite")};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  // Signals as a fresh process has them: the embedder may block or ignore some.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all_signals;
  sigemptyset(&none);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) return fail(std::string("cannot start its helper: ") + std::strerror(spawned));
  out_w.reset();
  err_w.reset();

  std::string messages;
  auto deadline = std::chrono::steady_clock::now() + kRewriteDeadline;
  bool timed_out = false;
  for (bool out_open = true, err_open = true; out_open || err_open;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 60'000)));
    if (n < 0 && errno != EINTR) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return fail(std::string("poll: ") + std::strerror(errno));
    }
    char buf[65536];
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (!fds[i].revents) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else if (i == 0) {
        out.record.append(buf, static_cast<size_t>(got));
      } else {
        messages.append(buf, static_cast<size_t>(got));
        if (messages.size() > 8192) messages.erase(0, messages.size() - 4096);  // its last words are what count
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // binaryen's last message, on one line.
  while (!messages.empty() && (messages.back() == '\n' || messages.back() == ' ')) messages.pop_back();
  if (auto nl = messages.rfind('\n'); nl != std::string::npos) messages.erase(0, nl + 1);
  std::string said = messages.empty() ? "" : ": " + messages;
  if (timed_out) {
    return fail("binaryen took longer than " + std::to_string(kRewriteDeadline.count()) + " minutes on this module");
  }
  if (WIFSIGNALED(status)) {
    return fail("binaryen crashed on this module (signal " + std::to_string(WTERMSIG(status)) + ")" + said);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("binaryen failed on this module" + said);
  return out;
}

// Everything the rewrite's output depends on besides the input (the helper's arguments, and
// the version of what it does with them): a change to any of it is another cache key.
std::string settings_of(const rewrite_settings& s) {
  std::string text = "wasio-asyncify-9;level=1";
  for (const auto& a : helper_arguments(s)) text += ";" + a;
  return text;
}

}  // namespace

rewrite_result asyncify_rewrite(std::span<const uint8_t> wasm, const rewrite_settings& settings,
                                const rewrite_cache* cache, bool cached_only) {
  rewrite_result res;
  std::string key;
  if (cache) {
    std::string text = settings_of(settings);
    auto as_bytes = [](std::string_view s) { return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
    key = disk_cache::key({as_bytes(cache->input_digest), as_bytes(text)});
    if (auto stored = cache->dir->get(key)) {
      if (parse_record(std::move(*stored), res)) {
        res.from_cache = true;
        return res;
      }
      cache->dir->drop(key);
      res = {};
    }
  }
  if (cached_only) {
    res.error = "not in the cache";
    return res;
  }
  auto out = run_helper(wasm, settings);
  if (!out.error.empty() ||
      !parse_record(byte_buffer::copy_of({reinterpret_cast<const uint8_t*>(out.record.data()), out.record.size()}), res)) {
    res = {};
    res.error = out.error.empty() ? "asyncify rewrite failed" : out.error;
    return res;
  }
  if (cache) cache->dir->put(key, out.record);
  return res;
}

}  // namespace wasio::engine
