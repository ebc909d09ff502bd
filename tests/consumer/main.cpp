// The README's embedding example, as an embedder builds it against an installed wasio:
//   consumer COMMAND.wasm REACTOR.wasm
// runs the command to its end, then calls the reactor's `handle` export with host functions
// of its own, and prints what it got.
#include <wasio/wasio.hpp>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer COMMAND.wasm REACTOR.wasm\n");
    return 2;
  }
  wasio::runtime_options opts;  // one worker thread per core
  opts.host.define("host", "add", [](int32_t a, int32_t b) { return a + b; });
  opts.host.define("host", "sleep_ms", [](int32_t ms) -> asio::awaitable<int32_t> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);  // only the calling guest waits
    co_return 0;
  });
  opts.host.define("host", "log", [](wasio::call_context& c, uint32_t ptr, uint32_t len) {
    std::printf("log: %s\n", std::string(c.string(ptr, len)).c_str());  // bad pointer: a trap
  });
  wasio::runtime rt(std::move(opts));

  auto command = rt.load_file(argv[1]);  // errors are values: command.error()
  if (!command) {
    std::fprintf(stderr, "%s\n", command.error().c_str());
    return 1;
  }
  wasio::config cfg;
  cfg.args = {"hello"};
  cfg.stdio = wasio::stdio_fds::inherit();  // by default, none of the process's stdio
  // Any Asio completion token: a callback, asio::use_future, asio::use_awaitable, ...
  wasio::exit_status s = rt.async_run(command.value(), std::move(cfg), asio::use_future).get();
  std::printf("command: exit %d\n", s.process_status());
  wasio::config traced;
  traced.args = {"hello"};  // its stdout discarded (the default), its WASI calls on stderr
  traced.trace = [](const wasio::wasi_call& c) { std::fprintf(stderr, "%s\n", c.line().c_str()); };
  rt.async_run(command.value(), std::move(traced), asio::use_future).get();

  auto reactor = rt.load_file(argv[2]);  // a reactor: _initialize and exports
  if (!reactor) {
    std::fprintf(stderr, "%s\n", reactor.error().c_str());
    return 1;
  }
  auto inst = rt.async_instantiate(reactor.value(), {}, asio::use_future).get();
  if (!inst) {
    std::fprintf(stderr, "%s\n", inst.error().message.c_str());
    return 1;
  }
  auto r = inst.value().async_call<int32_t>("handle", std::tuple{3}, asio::use_future).get();
  // r.value(), or r.error(): an exit_status (trapped, with the trap's message, ...)
  if (!r) {
    std::fprintf(stderr, "handle trapped: %s\n", r.error().message.c_str());
    return 1;
  }
  std::printf("handle(3) = %d\n", r.value());
  return 0;
}
