// soak: guests started and ended continuously in one runtime, for a while, with the process's
// resident memory, fds and kernel mappings sampled every second: they must stay flat.
//
//   soak GUESTS_DIR [MINUTES=10] [AT_ONCE=10000]
//
// AT_ONCE guests live at any time: each sleeps 1-50 ms (sleeper.wasm, poll_oneoff), every
// tenth also writes to a pipe nobody drains fast (a stream of its own: fds), every hundredth is
// stopped by the embedder halfway (cancellation), and each one that ends is replaced at once.
// Prints (to stderr: the guests write to stdout) a line every 10 s and, at the end, the first
// and last minute's averages.
#include <dirent.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wasio/wasio.hpp"

namespace {

long status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return 0;
}

long count_fds() {
  long n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n - 3;  // ., .. and the DIR's own
}

long count_mappings() {
  std::ifstream f("/proc/self/maps");
  long n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  return n;
}

struct sample {
  long rss_kib, fds, maps;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: soak GUESTS_DIR [MINUTES] [AT_ONCE]\n");
    return 2;
  }
  std::string dir = argv[1];
  double minutes = argc > 2 ? std::atof(argv[2]) : 10;
  long at_once = argc > 3 ? std::atol(argv[3]) : 10000;
  wasio::runtime rt;
  auto sleeper = rt.load_file(dir + "/sleeper.wasm");
  auto hello = rt.load_file(dir + "/hello.wasm");
  if (!sleeper || !hello) {
    std::fprintf(stderr, "soak: %s\n", (!sleeper ? sleeper.error() : hello.error()).c_str());
    return 1;
  }
  std::atomic<long> started{0}, ended{0}, failed{0}, live{0};
  std::atomic<bool> stopping{false};
  std::mutex first_mu;
  std::string first_failure;

  std::function<void(long)> start_one = [&](long i) {
    if (stopping) return;
    ++started;
    ++live;
    thread_local std::mt19937 rng(std::random_device{}());
    wasio::config cfg;
    bool chatty = i % 10 == 0, stopped = i % 100 == 50;
    if (chatty) {
      cfg.args = {"hello"};
      cfg.stdio.out = 1;  // this process's stdout (redirect it to /dev/null): a stream per guest
    } else {
      cfg.args = {"sleeper", std::to_string(1 + rng() % 50)};
    }
    auto signal = stopped ? std::make_shared<asio::cancellation_signal>() : nullptr;
    auto done = [&, i, signal](wasio::exit_status s) {
      bool ok = s.how == wasio::exit_status::kind::exited || (signal && s.how == wasio::exit_status::kind::stopped);
      if (!ok && failed++ == 0) {
        std::lock_guard lock(first_mu);
        first_failure = s.message;
      }
      ++ended;
      --live;
      start_one(i + at_once);
    };
    auto& m = chatty ? hello.value() : sleeper.value();
    if (signal) {
      rt.async_run(m, std::move(cfg), asio::bind_cancellation_slot(signal->slot(), std::move(done)));
      std::thread([signal] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        signal->emit(asio::cancellation_type::terminal);
      }).detach();
    } else {
      rt.async_run(m, std::move(cfg), std::move(done));
    }
  };

  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < at_once; ++i) start_one(i);
  std::vector<sample> samples;
  for (int s = 1; std::chrono::steady_clock::now() - t0 < std::chrono::duration<double, std::ratio<60>>(minutes); ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    samples.push_back({status_kib("VmRSS:"), count_fds(), count_mappings()});
    if (s % 10 == 0) {
      std::fprintf(stderr, "%4d s: %ld started, %ld ended, %ld live, %ld failed; RSS %ld MiB, %ld fds, %ld mappings\n", s,
                   started.load(), ended.load(), live.load(), failed.load(), samples.back().rss_kib / 1024,
                   samples.back().fds, samples.back().maps);
    }
  }
  stopping = true;
  while (live > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  size_t window = std::min<size_t>(60, samples.size() / 2);
  auto average = [&](size_t from) {
    sample a{0, 0, 0};
    for (size_t i = from; i < from + window; ++i) {
      a.rss_kib += samples[i].rss_kib;
      a.fds += samples[i].fds;
      a.maps += samples[i].maps;
    }
    long n = static_cast<long>(std::max<size_t>(window, 1));
    return sample{a.rss_kib / n, a.fds / n, a.maps / n};
  };
  sample first = average(0), last = average(samples.size() - window);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%ld guests in %.0f s (%.0f/s), %ld at once; %ld failed%s%s\n", ended.load(), secs, ended / secs, at_once,
              failed.load(), failed ? ": " : "", first_failure.c_str());
  std::fprintf(stderr, "first %zu s: RSS %ld MiB, %ld fds, %ld mappings   last %zu s: RSS %ld MiB, %ld fds, %ld mappings   "
              "RSS last/first = %.2f\n",
              window, first.rss_kib / 1024, first.fds, first.maps, window, last.rss_kib / 1024, last.fds, last.maps,
              double(last.rss_kib) / std::max(first.rss_kib, 1L));
  return failed ? 1 : 0;
}
