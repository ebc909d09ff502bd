// fairness: how late a guest's 10 ms timers fire while a sibling on the same worker computes
// and calls WASI without ever waiting (clock_time_get in a loop). Baselines from the same run:
// the timer guest alone, and both guests with time slices off.
//   fairness GUEST_DIR
// prints one line per case: "<case> max_lateness_ms <float> done_after_ms <float>" (20 sleeps
// of 10 ms: ideally 200 ms after submission).
#include <fcntl.h>
#include <unistd.h>

#include <asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>

#include "wasio/wasio.hpp"

namespace {

// Runs tick_lag (20 sleeps of 10 ms), beside a spinner if asked; returns its output line.
std::string lateness(const std::string& dir, std::chrono::nanoseconds slice, bool with_spinner) {
  wasio::runtime_options opts;
  opts.workers = 1;
  opts.time_slice = slice;
  wasio::runtime rt(opts);
  auto ticks = rt.load_file(dir + "/tick_lag.wasm");
  auto spin = rt.load_file(dir + "/clock_bench.wasm");
  if (!ticks || !spin) return "load failed";
  int out[2];
  if (::pipe(out) != 0) return "pipe failed";
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  wasio::config t, s;
  t.args = {"tick_lag", "20", "10"};
  t.stdio.out = out[1];
  s.args = {"clock_bench", "100000000"};  // ~4 s, longer than the 20 ticks
  s.stdio.out = devnull;
  std::future<wasio::exit_status> spinner;
  if (with_spinner) spinner = rt.async_run(spin.value(), std::move(s), asio::use_future);
  auto t0 = std::chrono::steady_clock::now();
  rt.async_run(ticks.value(), std::move(t), asio::use_future).get();
  double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ::close(out[1]);
  char buf[128] = {};
  ssize_t n = ::read(out[0], buf, sizeof buf - 1);
  ::close(out[0]);
  if (with_spinner) spinner.get();
  ::close(devnull);
  std::string line(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  char total[64];
  std::snprintf(total, sizeof total, " done_after_ms %.0f", total_ms);
  return line + total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fairness GUEST_DIR\n");
    return 2;
  }
  using namespace std::chrono_literals;
  std::printf("alone %s\n", lateness(argv[1], 10ms, false).c_str());
  std::printf("beside_spinner_slice_10ms %s\n", lateness(argv[1], 10ms, true).c_str());
  std::printf("beside_spinner_no_slices %s\n", lateness(argv[1], 0ns, true).c_str());
}
