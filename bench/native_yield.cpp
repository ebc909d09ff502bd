// native_yield: the baseline for a guest's suspend+resume round trip: an Asio C++20 coroutine
// that yields to its io_context N times (co_await asio::post). Prints "native_yield_ns <float>".
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  asio::io_context io(1);
  auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(io, [n]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (long i = 0; i < n; ++i) co_await asio::post(ex, asio::use_awaitable);
  }, asio::detached);
  io.run();
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
  std::printf("native_yield_ns %.1f\n", ns);
}
