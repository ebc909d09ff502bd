// echo_server: a TCP echo server on 127.0.0.1, all on one thread and one io_context, three ways:
//
//   echo_server guest [N]      a wasm guest per connection (samples/guests/echo.c): the embedder
//                              accepts, and the connection's fd becomes the guest's stdin and
//                              stdout; the guest needs no network rights
//   echo_server stream [N]     the same, the Asio socket itself handed over as a
//                              wasio::guest_stream (no fd for the guest; reads and writes go
//                              through Asio)
//   echo_server one-guest [N]  one wasm guest serves every connection (samples/guests/
//                              echo_poll.c): poll_oneoff over a listening socket handed in
//                              (config::net::listeners) and its connections
//   echo_server native [N]     the same echo in native Asio, the baseline of bench/run.sh
//
// Prints "port P" once it listens, then serves N connections (0, the default: until killed).
// Thousands of concurrent connections are thousands of suspended guests (or one guest with
// thousands of fds), on this one thread.
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "wasio/as_tuple.hpp"
#include "wasio/wasio.hpp"

namespace {

using asio::ip::tcp;
constexpr auto tuple_awaitable = wasio::as_tuple(asio::use_awaitable);

struct server {
  asio::io_context io;
  long want = 0;  // connections to serve; 0: forever
  long served = 0;
  void one_served() {
    if (++served == want) io.stop();
  }
};

// Thousands of connections need more fds than the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

tcp::acceptor listen_loopback(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a.listen(4096);
  std::printf("port %u\n", a.local_endpoint().port());
  std::fflush(stdout);
  return a;
}

// ---- native ---------------------------------------------------------------------------------
asio::awaitable<void> native_echo(tcp::socket s, server& srv) {
  std::vector<char> buf(65536);  // as the guests read: 64 KiB at a time
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple_awaitable);
    if (ec) break;
    auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf, n), tuple_awaitable);
    if (wec) break;
  }
  srv.one_served();
}

asio::awaitable<void> native_accept(tcp::acceptor& a, server& srv) {
  for (;;) {
    auto [ec, s] = co_await a.async_accept(tuple_awaitable);
    if (ec) co_return;
    asio::co_spawn(srv.io, native_echo(std::move(s), srv), asio::detached);
  }
}

// ---- a guest per connection -----------------------------------------------------------------
asio::awaitable<void> guest_accept(tcp::acceptor& a, server& srv, wasio::runtime& rt, const wasio::module& echo,
                                   bool as_stream) {
  for (;;) {
    auto [ec, s] = co_await a.async_accept(tuple_awaitable);
    if (ec) co_return;
    wasio::config cfg;
    cfg.args = {"echo"};
    if (as_stream) {
      auto conn = wasio::guest_stream::make(std::move(s));  // the Asio socket itself: no fd for the guest
      cfg.stdio.in = conn;
      cfg.stdio.out = conn;
    } else {
      // The connection is the guest's stdin and stdout, closed (once) when the guest has it.
      int fd = s.release();
      cfg.stdio.in = wasio::stdio_fd::adopt(fd);
      cfg.stdio.out = fd;
    }
    rt.async_run(echo, std::move(cfg), [&srv](wasio::exit_status st) {
      if (st.how != wasio::exit_status::kind::exited) std::fprintf(stderr, "echo_server: guest: %s\n", st.message.c_str());
      srv.one_served();
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (argc > 3 || (mode != "guest" && mode != "stream" && mode != "one-guest" && mode != "native")) {
    std::fprintf(stderr, "usage: echo_server guest|stream|one-guest|native [CONNECTIONS]\n");
    return 2;
  }
  raise_fd_limit();
  server srv;
  srv.want = argc > 2 ? std::atol(argv[2]) : 0;
  if (mode == "native") {
    auto a = listen_loopback(srv.io);
    asio::co_spawn(srv.io, native_accept(a, srv), asio::detached);
    srv.io.run();
    return 0;
  }
  // Guests run on this thread: the runtime is embedded in srv.io.
  std::optional<wasio::runtime> rt(std::in_place, wasio::runtime_options{0, &srv.io});
  bool per_connection = mode == "guest" || mode == "stream";
  auto echo = rt->load_file(WASIO_SAMPLE_GUESTS + std::string(per_connection ? "/echo.wasm" : "/echo_poll.wasm"));
  if (!echo) {
    std::fprintf(stderr, "echo_server: %s\n", echo.error().c_str());
    return 1;
  }
  int status = 0;
  std::optional<tcp::acceptor> a;
  if (per_connection) {
    a.emplace(listen_loopback(srv.io));
    asio::co_spawn(srv.io, guest_accept(*a, srv, *rt, echo.value(), mode == "stream"), asio::detached);
  } else {
    auto l = wasio::tcp_listen("127.0.0.1:0", 4096);
    if (!l) {
      std::fprintf(stderr, "echo_server: %s\n", l.error().c_str());
      return 1;
    }
    a.emplace(srv.io, tcp::v4(), l.value());  // to print its port; the guest accepts on its own duplicate
    std::printf("port %u\n", a->local_endpoint().port());
    std::fflush(stdout);
    wasio::config cfg;
    cfg.args = {"echo_poll", std::to_string(srv.want)};
    cfg.net.listeners = {l.value()};
    rt->async_run(echo.value(), std::move(cfg), [&](wasio::exit_status st) {
      if (st.how != wasio::exit_status::kind::exited) std::fprintf(stderr, "echo_server: guest: %s\n", st.message.c_str());
      status = st.process_status();
      srv.io.stop();
    });
  }
  srv.io.run();
  a.reset();
  rt.reset();  // on this thread, outside run(): the embedded runtime's rule
  return status;
}
