// many_tasks: N guests that each wait, all at once, on a few worker threads.
//
//   many_tasks [N] [sleep MS | read] [--no-hibernate]     (default: 100000 read)
//
// `read`: every guest blocks reading an idle pipe; once all have started the pipe is closed and
// they finish. `sleep MS`: every guest sleeps MS milliseconds. Prints how long it took, the
// guests started per second, the peak RSS and the memory per waiting guest beyond one guest.
// Each guest's memory is capped at 16 MiB, as a server would cap its tasks: its address space
// reservation then lets 100,000 and more wait at once, in a handful of kernel mappings (guest
// memories live in one arena, docs/why-memory-arena.md). Beyond what fits at once, the runtime
// holds the rest back until guests end (docs/why-admission.md). A guest that has waited 100 ms
// has its memory packed away until its wait ends (docs/why-hibernation.md; --no-hibernate: not).
#include <unistd.h>

#include <asio/use_future.hpp>
#include <fcntl.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "wasio/wasio.hpp"

namespace {

long rss_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return 0;
}

// The kernel mappings this process holds now (vm.max_map_count bounds them).
long mappings() {
  std::ifstream f("/proc/self/maps");
  long n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  wasio::runtime_options opts;
  if (argc > 1 && std::strcmp(argv[argc - 1], "--no-hibernate") == 0) {
    opts.hibernate_after = std::nullopt;
    --argc;
  }
  long n = argc > 1 ? std::atol(argv[1]) : 100000;
  std::string mode = argc > 2 ? argv[2] : "read";
  std::string ms = argc > 3 ? argv[3] : "1000";
  if (n <= 0 || (mode != "read" && mode != "sleep")) {
    std::fprintf(stderr, "usage: many_tasks [N] [sleep MS | read] [--no-hibernate]\n");
    return 2;
  }
  using clock = std::chrono::steady_clock;
  wasio::runtime rt(opts);
  auto mod = rt.load_file(WASIO_SAMPLE_GUESTS "/waiter.wasm");
  if (!mod) {
    std::fprintf(stderr, "many_tasks: %s\n", mod.error().c_str());
    return 1;
  }
  // The idle pipe becomes this process's stdin: wasio shares one stream of fds 0-2 between the
  // guests of a worker (any other fd would get a description of its own per guest: an fd each).
  int idle[2];
  if (::pipe2(idle, O_CLOEXEC) != 0 || ::dup2(idle[0], 0) != 0) return 1;
  ::close(idle[0]);
  // Before it blocks, each guest writes one byte to its stdout: a pipe that this process drains,
  // so that it measures when all N are blocked (counted, not guessed from the resident size).
  // Its own stdout is kept aside for the figures.
  int ready[2] = {-1, -1};
  int out = -1;
  if (mode == "read") {
    out = ::dup(1);
    if (out < 0 || ::pipe2(ready, O_CLOEXEC | O_NONBLOCK) != 0 || ::dup2(ready[1], 1) != 1) return 1;
  }

  wasio::config cfg;
  cfg.args = mode == "read" ? std::vector<std::string>{"waiter", "read"}
                            : std::vector<std::string>{"waiter", "sleep", ms};
  cfg.stdio.in = 0;
  cfg.stdio.out = 1;
  // 16 MiB of memory at most each, as a server caps its tasks: each memory reserves address space
  // of its maximum size (4 GiB without one), and a process has 128 TiB, so uncapped, about 24,000
  // fit at once and the rest wait (docs/why-memory-arena.md).
  cfg.limits.memory_pages = 256;

  // One guest alone first: the baseline the per-guest figure is measured from.
  auto one = cfg.clone();
  one.args = {"waiter", "sleep", "0"};
  rt.async_run(mod.value(), std::move(one), asio::use_future).get();
  long base_kib = rss_kib("VmRSS:");
  long base_maps = mappings();

  std::mutex mu;
  std::condition_variable cv;
  long done = 0, failed = 0;
  std::string first_failure;
  auto t0 = clock::now();
  for (long i = 0; i < n; ++i) {
    rt.async_run(mod.value(), cfg.clone(), [&](wasio::exit_status s) {
      std::lock_guard lock(mu);
      ++done;
      if (s.how != wasio::exit_status::kind::exited || s.code != 0) {
        if (failed++ == 0) first_failure = s.message;
      }
      cv.notify_all();
    });
  }
  double submit_s = std::chrono::duration<double>(clock::now() - t0).count();

  long peak_kib = 0, peak_maps = 0;
  if (mode == "read") {
    // Wait until every guest has written its byte, then until the last ones have blocked: the
    // resident size stops growing (at most a second: under a sanitizer it keeps growing), or a
    // guest failed early.
    long blocked = 0, last = -1;
    int steady = 0, checks = 0;  // once all have written: checks of the size, and those unchanged
    char buf[4096];
    while (steady < 3 && checks < 10) {
      ssize_t got = ::read(ready[0], buf, sizeof buf);
      if (got > 0) {
        blocked += got;
        continue;
      }
      {
        std::lock_guard lock(mu);
        if (done > 0) break;  // a guest ended before EOF: it failed (reported below)
      }
      if (blocked < n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      long now = rss_kib("VmRSS:");
      steady = now == last ? steady + 1 : 0;
      last = now;
      ++checks;
    }
    peak_kib = rss_kib("VmRSS:");
    peak_maps = mappings();
    ::dup2(out, 1);    // the guests have all written: this process's stdout back
    ::close(idle[1]);  // EOF: every guest finishes
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == n; });
  }
  double total_s = std::chrono::duration<double>(clock::now() - t0).count();
  if (mode == "sleep") peak_kib = rss_kib("VmHWM:");

  std::printf("%ld guests (%s) on %u workers: all done in %.2f s; submitted at %.0f guests/s\n", n,
              mode.c_str(), rt.worker_count(), total_s, n / submit_s);
  if (mode == "read") {
    // Once every guest waits (packed away, unless --no-hibernate); the high-water mark is higher.
    std::printf("RSS %ld MiB with every guest waiting (high-water %ld MiB); %.1f KiB per waiting guest beyond one guest (%ld MiB)\n",
                peak_kib / 1024, rss_kib("VmHWM:") / 1024, double(peak_kib - base_kib) / n, base_kib / 1024);
  } else {
    std::printf("peak RSS %ld MiB; %.1f KiB per guest beyond one guest (%ld MiB)\n", peak_kib / 1024,
                double(peak_kib - base_kib) / n, base_kib / 1024);
  }
  if (peak_maps) {
    std::printf("%ld kernel mappings at the peak; %.2f per waiting guest\n", peak_maps,
                double(peak_maps - base_maps) / n);
  }
  if (failed) {
    std::printf("%ld guests failed; the first: %s\n", failed, first_failure.c_str());
    return 1;
  }
  return 0;
}
