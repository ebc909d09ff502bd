// fairness: how late a guest's 10 ms timers fire while a sibling on the same worker computes:
// calling WASI without ever waiting (clock_time_get in a loop), or making no call at all (spin:
// in fiber mode, in asyncify mode parked or with counted ticks). Baselines from the same run:
// the timer guest alone, and both guests with time slices off.
//   fairness GUEST_DIR
// prints one line per case: "<case> max_lateness_ms <float> done_after_ms <float>" (20 sleeps
// of 10 ms: ideally 200 ms after submission).
#include <fcntl.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>

#include "wasio/wasio.hpp"

namespace {

struct spinner {
  std::string module;  // clock_bench (calls WASI) or spin (no call)
  wasio::suspension_mode mode = wasio::suspension_mode::automatic;
  bool count_ticks = false;
  std::string arg = "100000000";  // iterations (in millions for spin): minutes to hours
};

// Runs tick_lag (20 sleeps of 10 ms), beside a spinner if given (stopped once tick_lag is
// done); returns its output line.
std::string lateness(const std::string& dir, std::chrono::nanoseconds slice, const spinner* with) {
  wasio::runtime_options opts;
  opts.workers = 1;
  opts.time_slice = slice;
  if (with) {
    opts.mode = with->mode;
    opts.count_ticks = with->count_ticks;
  }
  wasio::runtime rt(opts);
  auto ticks = rt.load_file(dir + "/tick_lag.wasm");
  auto spin = rt.load_file(dir + "/" + (with ? with->module : "clock_bench") + ".wasm");
  if (!ticks || !spin) return "load failed";
  int out[2];
  if (::pipe(out) != 0) return "pipe failed";
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  wasio::config t, s;
  t.args = {"tick_lag", "20", "10"};
  t.stdio.out = out[1];
  s.args = {with ? with->module : "", with ? with->arg : ""};
  s.stdio.out = devnull;
  std::future<wasio::exit_status> spinning;
  asio::cancellation_signal stop;
  if (with) spinning = rt.async_run(spin.value(), std::move(s), asio::bind_cancellation_slot(stop.slot(), asio::use_future));
  auto t0 = std::chrono::steady_clock::now();
  rt.async_run(ticks.value(), std::move(t), asio::use_future).get();
  double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ::close(out[1]);
  char buf[128] = {};
  ssize_t n = ::read(out[0], buf, sizeof buf - 1);
  ::close(out[0]);
  if (with) {
    stop.emit(asio::cancellation_type::terminal);
    spinning.get();
  }
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
  using mode = wasio::suspension_mode;
  std::string dir = argv[1];
  spinner calls{"clock_bench"}, fiber{"spin", mode::fiber},
      counted{"spin", mode::asyncify, true}, parked{"spin", mode::asyncify},
      plain{"spin", mode::asyncify, false, "2000"};  // ~3 s: without slices it holds the worker until it ends
  std::printf("alone %s\n", lateness(dir, 10ms, nullptr).c_str());
  std::printf("beside_spinner_slice_10ms %s\n", lateness(dir, 10ms, &calls).c_str());
  std::printf("beside_spinner_no_slices %s\n", lateness(dir, 0ns, &calls).c_str());
  std::printf("beside_silent_spinner_fiber %s\n", lateness(dir, 10ms, &fiber).c_str());
  std::printf("beside_silent_spinner_asyncify_counted %s\n", lateness(dir, 10ms, &counted).c_str());
  std::printf("beside_silent_spinner_asyncify_parked %s\n", lateness(dir, 10ms, &parked).c_str());
  std::printf("beside_silent_spinner_asyncify_no_slices %s\n", lateness(dir, 0ns, &plain).c_str());
}
