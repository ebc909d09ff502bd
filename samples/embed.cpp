// embed: an application with its own asio::io_context, on one thread, that runs its timers, a
// TCP echo server with a client, and three wasm guests side by side, Node-style. Every event is
// printed with its time; the guests' output reaches the app through async pipes. The log shows
// them interleaving on the single thread: a guest that sleeps is suspended, not blocking.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <istream>
#include <string>
#include <thread>
#include <vector>

#include "wasio/as_tuple.hpp"
#include "wasio/wasio.hpp"

namespace {

using namespace std::chrono_literals;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

auto start = std::chrono::steady_clock::now();  // reset when the loop starts
std::vector<std::string> sources;  // who logged, in order
const std::thread::id app_thread = std::this_thread::get_id();
bool one_thread = true;

void log(const std::string& source, const std::string& what) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::printf("[%4lld ms] %-8s %s\n", static_cast<long long>(ms), source.c_str(), what.c_str());
  sources.push_back(source);
  one_thread &= std::this_thread::get_id() == app_thread;
}

asio::awaitable<void> app_timer() {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 1; i <= 8; ++i) {
    t.expires_after(40ms);
    co_await t.async_wait(use_awaitable);
    log("timer", "tick " + std::to_string(i));
  }
}

asio::awaitable<void> echo_server(tcp::acceptor acceptor) {
  auto sock = co_await acceptor.async_accept(use_awaitable);
  char buf[256];
  for (;;) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), wasio::as_tuple(use_awaitable));
    if (ec) co_return;
    co_await asio::async_write(sock, asio::buffer(buf, n), use_awaitable);
  }
}

asio::awaitable<void> echo_client(tcp::endpoint server) {
  tcp::socket sock(co_await asio::this_coro::executor);
  co_await sock.async_connect(server, use_awaitable);
  asio::steady_timer t(sock.get_executor());
  asio::streambuf in;
  for (int i = 1; i <= 5; ++i) {
    t.expires_after(50ms);
    co_await t.async_wait(use_awaitable);
    std::string msg = "ping " + std::to_string(i) + "\n";
    co_await asio::async_write(sock, asio::buffer(msg), use_awaitable);
    co_await asio::async_read_until(sock, in, '\n', use_awaitable);
    std::string line;
    std::getline(std::istream(&in), line);
    log("echo", "got back '" + line + "'");
  }
}

// Prints what a guest writes, a line at a time, as it arrives.
asio::awaitable<void> show_output(std::string name, asio::posix::stream_descriptor from_guest) {
  asio::streambuf in;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(from_guest, in, '\n', wasio::as_tuple(use_awaitable));
    if (ec) co_return;  // the guest ended
    std::string line;
    std::getline(std::istream(&in), line);
    log(name, "says '" + line + "'");
  }
}

}  // namespace

int main() {
  asio::io_context io;
  wasio::runtime rt(wasio::runtime_options{0, &io});  // the guests run on this thread too
  auto ticker = rt.load_file(WASIO_SAMPLE_GUESTS "/ticker.wasm");
  if (!ticker) {
    std::fprintf(stderr, "embed: %s\n", ticker.error().c_str());
    return 1;
  }
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto server = acceptor.local_endpoint();
  asio::co_spawn(io, app_timer(), asio::detached);
  asio::co_spawn(io, echo_server(std::move(acceptor)), asio::detached);
  asio::co_spawn(io, echo_client(server), asio::detached);

  int failures = 0;
  const char* names[] = {"guest-a", "guest-b", "guest-c"};
  for (int g = 0; g < 3; ++g) {
    auto out = wasio::make_output_pipe(io.get_executor());
    if (!out) {
      std::fprintf(stderr, "embed: %s\n", out.error().c_str());
      return 1;
    }
    wasio::config cfg;
    cfg.args = {"ticker", names[g], "4", std::to_string(30 + 25 * g)};
    cfg.stdio.hand_over_out(out.value());
    asio::co_spawn(io, show_output(names[g], std::move(out.value().embedder)), asio::detached);
    asio::co_spawn(io, rt.async_run(ticker.value(), std::move(cfg), use_awaitable),
                   [&, name = std::string(names[g])](std::exception_ptr, wasio::exit_status s) {
                     log(name, "exited with " + std::to_string(s.code));
                     failures += s.how != wasio::exit_status::kind::exited || s.code != 0;
                   });
  }
  start = std::chrono::steady_clock::now();
  io.run();

  int switches = 0;
  for (size_t i = 1; i < sources.size(); ++i) switches += sources[i] != sources[i - 1];
  std::printf("%zu events from 5 sources on %s, switching source %d times\n", sources.size(),
              one_thread ? "one thread" : "SEVERAL threads", switches);
  return failures == 0 && one_thread && switches > 10 ? 0 : 1;
}
