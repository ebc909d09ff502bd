// host_calls: the embedding's hot paths, in ns per call, each beside its baseline measured in
// the same run (bench/run.sh section 13 adds node's):
//   - a sync host function called by the guest, vs clock_time_get (a WASI call);
//   - an awaitable host function that suspends and resumes its guest (a post), vs sched_yield;
//   - an export called from C++ on a warm instance (co_await async_call on the same thread).
// On one thread (embedded mode), in the suspension mode given (asyncify or fiber).
//   host_calls HOST_BENCH.wasm [asyncify|fiber] [N]
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "wasio/wasio.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: host_calls HOST_BENCH.wasm [asyncify|fiber] [N]\n");
    return 2;
  }
  std::string mode = argc > 2 ? argv[2] : "asyncify";
  int n = argc > 3 ? std::atoi(argv[3]) : 1000000;
  asio::io_context io;
  int status = 1;
  {
    wasio::runtime_options opts;
    opts.loop = &io;
    opts.mode = mode == "fiber" ? wasio::suspension_mode::fiber : wasio::suspension_mode::asyncify;
    opts.host.define("host", "nop", [](int32_t i) { return i & 1; });
    opts.host.define("host", "yield", []() -> asio::awaitable<int32_t> {
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return 1;
    });
    wasio::runtime rt(std::move(opts));
    auto mod = rt.load_file(argv[1]);
    if (!mod) {
      std::fprintf(stderr, "host_calls: %s\n", mod.error().c_str());
      return 1;
    }
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      auto inst = co_await rt.async_instantiate(mod.value(), {}, asio::use_awaitable);
      if (!inst) {
        std::fprintf(stderr, "host_calls: %s\n", inst.error().message.c_str());
        co_return;
      }
      auto& i = inst.value();
      // ns per iteration of export `name`'s loop of `count` calls, the best of 3.
      auto loop_ns = [&](const char* name, int count) -> asio::awaitable<double> {
        double best = 1e300;
        for (int k = 0; k < 3; ++k) {
          auto t0 = std::chrono::steady_clock::now();
          auto r = co_await i.async_call<int32_t>(name, std::tuple{count}, asio::use_awaitable);
          double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
          if (!r) {
            std::fprintf(stderr, "host_calls: %s: %s\n", name, r.error().message.c_str());
            co_return -1;
          }
          best = std::min(best, ns / count);
        }
        co_return best;
      };
      double sync = co_await loop_ns("sync_loop", n), clock = co_await loop_ns("clock_loop", n);
      double async = co_await loop_ns("async_loop", n / 10), yield = co_await loop_ns("yield_loop", n / 10);
      double best = 1e300;
      for (int k = 0; k < 3; ++k) {
        auto t0 = std::chrono::steady_clock::now();
        for (int c = 0; c < n / 10; ++c) (void)co_await i.async_call<int32_t>("noop", std::tuple{c}, asio::use_awaitable);
        best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / (n / 10));
      }
      std::printf("mode %s\n", mode.c_str());
      std::printf("sync_host_ns %.1f clock_time_get_ns %.1f ratio %.2f\n", sync, clock, sync / clock);
      std::printf("awaitable_host_ns %.1f sched_yield_ns %.1f ratio %.2f\n", async, yield, async / yield);
      std::printf("export_call_ns %.1f\n", best);
      status = 0;
    }, asio::detached);
    io.run();
  }
  return status;
}
