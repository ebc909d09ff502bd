// echo_bench: load for an echo server on 127.0.0.1:PORT (samples/echo_server), from one thread.
//
//   echo_bench PORT rate CONNS SECONDS     CONNS clients at once, each in a loop: connect, send
//                                          64 bytes, read them back, close. Prints
//                                          "connections/s X". SECONDS 0: one round.
//   echo_bench PORT stream CONNS SECONDS   CONNS connections at once, each sending 16 KiB
//                                          blocks and reading them back. Prints "MB/s X"
//                                          (bytes echoed back, in MB of 10^6 bytes).
// Every echo is checked; a wrong byte or a failed connection ends the run with status 1.
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "wasio/as_tuple.hpp"

namespace {

using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_awaitable = wasio::as_tuple(asio::use_awaitable);

struct load {
  tcp::endpoint server;
  clock_type::time_point end;
  uint64_t done = 0;  // connections completed, or bytes echoed
  int errors = 0;
};

// Thousands of connections need more fds than the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

asio::awaitable<void> rate_client(load& l) {
  auto ex = co_await asio::this_coro::executor;
  std::string msg(64, 'x'), back(64, '\0');
  do {
    tcp::socket s(ex);
    auto [ec] = co_await s.async_connect(l.server, tuple_awaitable);
    if (!ec) std::tie(ec, std::ignore) = co_await asio::async_write(s, asio::buffer(msg), tuple_awaitable);
    if (!ec) std::tie(ec, std::ignore) = co_await asio::async_read(s, asio::buffer(back), tuple_awaitable);
    if (ec || back != msg) {
      ++l.errors;
      co_return;
    }
    ++l.done;
  } while (clock_type::now() < l.end);
}

asio::awaitable<void> stream_reader(tcp::socket& s, load& l, bool& failed) {
  std::vector<char> buf(65536);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple_awaitable);
    if (ec) co_return;  // EOF after the writer's shutdown
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != 'y') failed = true;
    }
    l.done += n;
  }
}

asio::awaitable<void> stream_client(load& l) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  auto [ec] = co_await s.async_connect(l.server, tuple_awaitable);
  if (ec) {
    ++l.errors;
    co_return;
  }
  bool failed = false, reading = true;
  asio::co_spawn(ex, stream_reader(s, l, failed), [&reading](std::exception_ptr) { reading = false; });
  std::string block(16384, 'y');
  while (clock_type::now() < l.end) {
    auto [wec, n] = co_await asio::async_write(s, asio::buffer(block), tuple_awaitable);
    if (wec) {
      failed = true;
      break;
    }
  }
  s.shutdown(tcp::socket::shutdown_send);
  asio::steady_timer t(ex);
  while (reading) {  // the echo of the last blocks
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(tuple_awaitable);
  }
  if (failed) ++l.errors;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[2], "rate") != 0 && std::strcmp(argv[2], "stream") != 0)) {
    std::fprintf(stderr, "usage: echo_bench PORT rate|stream CONNS SECONDS\n");
    return 2;
  }
  raise_fd_limit();
  bool rate = std::strcmp(argv[2], "rate") == 0;
  int conns = std::atoi(argv[3]);
  double seconds = std::atof(argv[4]);
  asio::io_context io;
  load l;
  l.server = tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::atoi(argv[1])));
  auto start = clock_type::now();
  l.end = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < conns; ++i) asio::co_spawn(io, rate ? rate_client(l) : stream_client(l), asio::detached);
  io.run();
  double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  if (l.errors) {
    std::fprintf(stderr, "echo_bench: %d connections failed\n", l.errors);
    return 1;
  }
  if (rate) std::printf("connections/s %.0f\n", static_cast<double>(l.done) / elapsed);
  else std::printf("MB/s %.1f\n", static_cast<double>(l.done) / elapsed / 1e6);
  return 0;
}
