// plugin_server: the plugin-server use case, on one thread. M instances of a reactor module
// serve N requests taken from one queue by whichever instance is free; the module imports three
// host functions from module "host":
//   add(i32 a, i32 b) -> i32     a + b (a plain C++ function)
//   sleep_ms(i32 ms) -> i32      waits on an Asio timer and returns 0: only the calling instance
//                                waits, the others go on serving
//   log(i32 ptr, i32 len)        prints "log: <the guest's bytes>"
// and exports handle(i32) -> i32. A call that traps is reported, and its instance replaced by a
// fresh one. Embedded, Node-style: the runtime runs on this program's own io_context.
//
//   plugin_server MODULE.wasm [--instances M] [--calls N]
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "wasio/wasio.hpp"

namespace {

wasio::host_functions host() {
  wasio::host_functions h;
  h.define("host", "add", [](int32_t a, int32_t b) { return a + b; });
  h.define("host", "sleep_ms", [](int32_t ms) -> asio::awaitable<int32_t> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);
    co_return 0;
  });
  h.define("host", "log", [](wasio::call_context& c, uint32_t ptr, uint32_t len) {
    std::string_view text = c.string(ptr, len);  // a bad pointer traps the guest, not the host
    std::printf("log: %.*s\n", static_cast<int>(text.size()), text.data());
  });
  return h;
}

struct server {
  wasio::runtime& rt;
  const wasio::module& mod;
  int calls;
  int next = 0, served = 0, trapped = 0, failed = 0, instantiated = 0;

  // One instance's loop: take the next request, call handle; a trap replaces the instance.
  asio::awaitable<void> serve() {
    wasio::instance inst;
    while (next < calls) {
      int i = next++;  // taken before any wait: the other instances take the next ones
      if (!inst) {
        auto made = co_await rt.async_instantiate(mod, {}, asio::use_awaitable);
        if (!made) {
          std::printf("handle(%d) failed: cannot instantiate: %s\n", i, made.error().message.c_str());
          ++failed;
          continue;
        }
        inst = std::move(made).value();
        ++instantiated;
      }
      auto r = co_await inst.async_call<int32_t>("handle", std::tuple{i}, asio::use_awaitable);
      if (r) {
        std::printf("handle(%d) = %d\n", i, r.value());
        ++served;
        continue;
      }
      if (r.error().how == wasio::exit_status::kind::trapped) {
        std::printf("handle(%d) trapped: %s\n", i, r.error().message.c_str());
        ++trapped;
      } else {
        std::printf("handle(%d) failed: %s\n", i, r.error().message.c_str());
        ++failed;
      }
      inst = {};  // a fresh instance for the next request
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  int instances = 4, calls = 100;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    if ((arg == "--instances" || arg == "--calls") && a + 1 < argc) {
      int v = std::atoi(argv[++a]);
      if (v <= 0) {
        std::fprintf(stderr, "plugin_server: %s wants a positive number\n", arg.c_str());
        return 2;
      }
      (arg == "--instances" ? instances : calls) = v;
    } else if (!path && arg[0] != '-') {
      path = argv[a];
    } else {
      std::fprintf(stderr, "usage: plugin_server MODULE.wasm [--instances M] [--calls N]\n");
      return 2;
    }
  }
  if (!path) {
    std::fprintf(stderr, "usage: plugin_server MODULE.wasm [--instances M] [--calls N]\n");
    return 2;
  }
  asio::io_context io;
  int status = 0;
  {
    wasio::runtime_options opts;
    opts.loop = &io;
    opts.host = host();
    wasio::runtime rt(std::move(opts));
    auto mod = rt.load_file(path);
    if (!mod) {
      std::fprintf(stderr, "plugin_server: %s\n", mod.error().c_str());
      return 1;
    }
    server s{rt, mod.value(), calls};
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < instances; ++k) asio::co_spawn(io, s.serve(), asio::detached);
    io.run();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    int completed = s.served + s.trapped + s.failed;
    std::printf("served %d of %d calls with %d instances (%d made): %d trapped, %d failed, %.1f ms, %.0f calls/s\n",
                completed, calls, instances, s.instantiated, s.trapped, s.failed, ms, completed / (ms / 1000));
    status = completed == calls && s.failed == 0 ? 0 : 1;
  }  // the runtime goes on this thread, outside run(), as an embedded runtime must
  return status;
}
