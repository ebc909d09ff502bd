// Embedding: host functions (sync and awaitable), reactor instances whose exports C++ calls,
// and the runtime stopping what it runs, on a real V8 with real guests, in both suspension
// modes.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wasio/wasio.hpp"

namespace {

using namespace std::chrono_literals;
using kind = wasio::exit_status::kind;

std::string guest(const std::string& name) { return std::string(WASIO_GUESTS) + "/" + name + ".wasm"; }

// What the host functions saw, shared with the test.
struct host_log {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard lock(mu);
    lines.push_back(std::move(s));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mu);
    return lines;
  }
};

// An embedder's own Asio stream, with no fd behind it, living on the embedder's executor: what
// feed() gives it is what async_read_some returns, and close() is EOF; what is written to it is
// kept in `out`, at most `chunk` bytes per async_write_some, each write completing later (a post).
class memory_stream {
 public:
  using executor_type = asio::any_io_executor;
  explicit memory_stream(asio::any_io_executor ex, size_t chunk = SIZE_MAX)
      : st_(std::make_shared<state>(std::move(ex), chunk)) {}
  executor_type get_executor() const { return st_->ex; }

  template <class Buffer, class Handler>
  void async_read_some(const Buffer& b, Handler h) {
    asio::post(st_->ex, [st = st_, b, h = std::move(h)]() mutable {
      st->reader = [st, b, h = std::move(h)]() mutable {
        size_t n = std::min(b.size(), st->in.size());
        std::memcpy(b.data(), st->in.data(), n);
        st->in.erase(0, n);
        h(n == 0 ? asio::error_code(asio::error::eof) : asio::error_code(), n);
      };
      st->serve();
    });
  }
  template <class Buffer, class Handler>
  void async_write_some(const Buffer& b, Handler h) {
    size_t n = std::min(b.size(), st_->chunk);
    std::string data(static_cast<const char*>(b.data()), n);
    asio::post(st_->ex, [st = st_, data, h = std::move(h)]() mutable {
      st->out += data;
      h(asio::error_code(), data.size());
    });
  }
  // From any thread.
  void feed(std::string data) {
    asio::post(st_->ex, [st = st_, data] {
      st->in += data;
      st->serve();
    });
  }
  void close() {
    asio::post(st_->ex, [st = st_] {
      st->closed = true;
      st->serve();
    });
  }
  // The bytes written so far, read on the stream's executor.
  std::string written() const {
    return asio::post(st_->ex, asio::use_future([st = st_] { return st->out; })).get();
  }

 private:
  struct state {
    state(asio::any_io_executor e, size_t c) : ex(std::move(e)), chunk(c) {}
    asio::any_io_executor ex;
    size_t chunk;
    std::string in, out;
    bool closed = false;
    std::function<void()> reader;
    void serve() {
      if (reader && (!in.empty() || closed)) std::exchange(reader, nullptr)();
    }
  };
  std::shared_ptr<state> st_;
};

// The embedder's loop, on a thread of its own.
struct embedder_loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~embedder_loop() {
    work.reset();
    thread.join();
  }
};

// The host module the reactor guest imports: add (sync, throws for 99), sleep_ms (awaitable),
// log (reads guest memory; a bad pointer traps).
wasio::host_functions reactor_host(host_log& log) {
  wasio::host_functions h;
  h.define("host", "add", [](int32_t a, int32_t b) {
    if (a == 99) throw std::runtime_error("boom");
    return a + b;
  });
  h.define("host", "sleep_ms", [](int32_t ms) -> asio::awaitable<int32_t> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);
    co_return 0;
  });
  h.define("host", "log", [&log](wasio::call_context& c, uint32_t ptr, uint32_t len) {
    log.add(std::string(c.string(ptr, len)));
  });
  return h;
}

class embedding : public ::testing::TestWithParam<wasio::suspension_mode> {
 protected:
  wasio::runtime_options options(wasio::host_functions h) {
    wasio::runtime_options o;
    o.workers = 1;
    o.mode = GetParam();
    o.host = std::move(h);
    return o;
  }
  static wasio::instance instantiate(wasio::runtime& rt, const wasio::module& m, wasio::config cfg = {}) {
    auto r = rt.async_instantiate(m, std::move(cfg), asio::use_future).get();
    if (!r) ADD_FAILURE() << r.error().message;
    return r ? std::move(r).value() : wasio::instance{};
  }
  template <class R, class... A>
  static wasio::guest_result<R> call(wasio::instance& i, const std::string& name, A... args) {
    return i.async_call<R>(name, std::tuple{args...}, asio::use_future).get();
  }
};

TEST_P(embedding, a_reactor_is_initialized_then_serves_calls_through_host_functions) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto m = rt.load_file(guest("reactor")).value();
  EXPECT_EQ(m.mode(), GetParam()) << m.mode_reason();
  auto inst = instantiate(rt, m);
  ASSERT_TRUE(inst);
  EXPECT_EQ(call<int32_t>(inst, "initialized_value").value(), 1000);  // _initialize ran its constructors
  EXPECT_EQ(call<int32_t>(inst, "handle", 2).value(), 1002);
  EXPECT_EQ(call<int32_t>(inst, "handle", 3).value(), 1003);  // slept in the host, awaitable
  EXPECT_EQ(log.all(), (std::vector<std::string>{"request 2", "request 3"}));
  // State stays in the instance between calls.
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 1);
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 2);
  // The untyped form: values in, values out.
  auto r = inst.async_call("handle", {wasio::value(int32_t{4})}, asio::use_future).get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), std::vector<wasio::value>{wasio::value(int32_t{1004})});
}

TEST_P(embedding, an_awaitable_host_function_suspends_only_its_caller) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto m = rt.load_file(guest("reactor")).value();
  auto a = instantiate(rt, m), b = instantiate(rt, m);
  // One worker: while `a` waits 1,000 frames deep in sleep_ms, `b` is served.
  auto slow = a.async_call<int32_t>("deep_sleep", std::tuple{1000, 300}, asio::use_future);
  for (int i = 1; i <= 20; ++i) EXPECT_EQ(call<int32_t>(b, "bump").value(), i);
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout);
  EXPECT_EQ(slow.get().value(), 1000);
}

TEST_P(embedding, traps_and_host_exceptions_end_the_call_not_the_instance) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto m = rt.load_file(guest("reactor")).value();
  auto inst = instantiate(rt, m);
  auto t = call<int32_t>(inst, "handle", 13);  // __builtin_trap
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().how, kind::trapped);
  EXPECT_NE(t.error().message.find("unreachable"), std::string::npos) << t.error().message;
  auto boom = call<int32_t>(inst, "handle", 99);  // host.add throws
  ASSERT_FALSE(boom);
  EXPECT_EQ(boom.error().how, kind::trapped);
  EXPECT_NE(boom.error().message.find("host.add: boom"), std::string::npos) << boom.error().message;
  auto wild = call<void>(inst, "log_wild");  // a pointer past the memory's end
  ASSERT_FALSE(wild);
  EXPECT_NE(wild.error().message.find("out of bounds"), std::string::npos) << wild.error().message;
  // Still usable, and its stack did not leak: a deep call still fits.
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 1);
  for (int i = 0; i < 50; ++i) ASSERT_FALSE(call<int32_t>(inst, "handle", 13));
  EXPECT_EQ(call<int32_t>(inst, "deep_sleep", 1000, 0).value(), 1000);
}

// A start function runs once, when the module is instantiated, in every mode: JSPI mode runs it
// as an export its rewrite adds (so that it may block), which is none of the embedder's.
TEST_P(embedding, a_start_function_runs_once_and_is_no_export) {
  if (GetParam() == wasio::suspension_mode::asyncify) {
    GTEST_SKIP() << "a module that blocks without a shadow-stack pointer has no asyncify mode";
  }
  wasio::runtime rt(options({}));
  auto m = rt.load_file(guest("start_blocks")).value();
  EXPECT_EQ(m.mode(), GetParam()) << m.mode_reason();
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  wasio::config cfg;
  cfg.stdio.out = out[1];
  auto inst = instantiate(rt, m, std::move(cfg));
  ASSERT_TRUE(inst);
  ::close(out[1]);
  auto r = inst.async_call("wasio_start", {}, asio::use_future).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().how, kind::failed);
  EXPECT_NE(r.error().message.find("no function export 'wasio_start'"), std::string::npos) << r.error().message;
  inst = {};  // closed: the pipe's write end with it
  std::string said;
  char buf[64];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) said.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  EXPECT_EQ(said, "start\n");  // once
}

TEST_P(embedding, calls_are_typed_and_checked) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value());
  EXPECT_EQ(call<int64_t>(inst, "wide", int64_t{1} << 40).value(), int64_t{3} << 40);
  EXPECT_EQ(call<double>(inst, "mix", int64_t{-1}, 2.5f, 3.25, uint32_t{4}).value(), 8.75);
  auto no_such = call<int32_t>(inst, "nope");
  ASSERT_FALSE(no_such);
  EXPECT_EQ(no_such.error().how, kind::failed);
  EXPECT_NE(no_such.error().message.find("no function export 'nope'"), std::string::npos);
  // The rewrite's own exports are the host's, not the embedder's.
  for (const char* internal : {"asyncify_start_unwind", "asyncify_stop_rewind", "wasio_ticks"}) {
    auto r = inst.async_call(internal, {}, asio::use_future).get();
    ASSERT_FALSE(r) << internal;
    EXPECT_NE(r.error().message.find(std::string("no function export '") + internal + "'"), std::string::npos)
        << r.error().message;
  }
  auto wrong_args = call<int32_t>(inst, "handle", int64_t{1});
  ASSERT_FALSE(wrong_args);
  EXPECT_EQ(wrong_args.error().how, kind::failed);
  EXPECT_NE(wrong_args.error().message.find("(i32) -> (i32), called with (i64)"), std::string::npos)
      << wrong_args.error().message;
  auto wrong_result = call<float>(inst, "bump");
  ASSERT_FALSE(wrong_result);
  EXPECT_EQ(wrong_result.error().how, kind::failed);
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 2);  // the checked call still ran
}

TEST_P(embedding, the_embedder_reads_and_writes_memory_between_calls) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value());
  auto at = call<int32_t>(inst, "buffer_address").value();
  auto mem = inst.memory();
  auto bytes = mem.bytes(at, 4);
  ASSERT_TRUE(bytes);
  for (int i = 0; i < 4; ++i) bytes.value()[i] = std::byte(10 * (i + 1));
  EXPECT_EQ(call<int32_t>(inst, "buffer_sum", 4).value(), 100);
  EXPECT_FALSE(mem.bytes(mem.size() - 2, 4));  // bounds-checked for the embedder too
}

TEST_P(embedding, an_export_blocks_in_wasi_like_a_command) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  asio::io_context io;
  auto in = wasio::make_stdin_pipe(io.get_executor()).value();
  wasio::config cfg;
  cfg.stdio.hand_over_in(in);
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value(), std::move(cfg));
  auto n = inst.async_call<int32_t>("read_stdin", std::tuple{}, asio::use_future);
  EXPECT_EQ(n.wait_for(100ms), std::future_status::timeout);  // waiting on an empty pipe
  asio::write(in.embedder, asio::buffer(std::string("hello")));
  in.embedder.close();
  EXPECT_EQ(n.get().value(), 5);
}

// Pages of [base, base + size) that are resident now (mincore: the kernel's own count).
size_t resident_pages(const std::byte* base, size_t size) {
  std::vector<unsigned char> v(size / 4096);
  if (::mincore(const_cast<std::byte*>(base), size, v.data()) != 0) return SIZE_MAX;
  return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](unsigned char c) { return c & 1; }));
}

// runtime_options::hibernate_after: a guest waiting in fd_read has its memory's resident pages
// packed away (none resident while it waits) and put back before the read goes on, its data
// intact: what the embedder wrote into it, and what the guest keeps there itself.
TEST_P(embedding, a_guest_that_waits_has_its_memory_packed_away_and_back_intact) {
  host_log log;
  auto opts = options(reactor_host(log));
  opts.hibernate_after = 0ms;
  wasio::runtime rt(opts);
  asio::io_context io;
  auto in = wasio::make_stdin_pipe(io.get_executor()).value();
  wasio::config cfg;
  cfg.stdio.hand_over_in(in);
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value(), std::move(cfg));
  auto at = call<int32_t>(inst, "buffer_address").value();
  auto mem = inst.memory();
  auto whole = mem.bytes(0, mem.size()).value();
  auto bytes = mem.bytes(at, 256).value();
  for (int i = 0; i < 256; ++i) bytes[i] = std::byte(i);
  ASSERT_GT(resident_pages(whole.data(), whole.size()), 0u);
  auto n = inst.async_call<int32_t>("read_stdin", std::tuple{}, asio::use_future);
  size_t resident = SIZE_MAX;
  for (int i = 0; i < 300 && resident != 0; ++i) {
    std::this_thread::sleep_for(10ms);
    resident = resident_pages(whole.data(), whole.size());
  }
  EXPECT_EQ(resident, 0u) << "packed away while it waits";
  asio::write(in.embedder, asio::buffer(std::string("hello")));
  in.embedder.close();
  EXPECT_EQ(n.get().value(), 5);
  EXPECT_GT(resident_pages(whole.data(), whole.size()), 0u);
  EXPECT_EQ(call<int32_t>(inst, "buffer_sum", 256).value(), 255 * 256 / 2);
  EXPECT_EQ(call<int32_t>(inst, "initialized_value").value(), 1000);  // its own statics
}

TEST_P(embedding, proc_exit_ends_the_instance) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value());
  auto e = call<void>(inst, "exit_with", 7);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().how, kind::exited);
  EXPECT_EQ(e.error().code, 7u);
  auto after = call<int32_t>(inst, "bump");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), (wasio::exit_status{kind::exited, 7, {}}));
}

TEST_P(embedding, cancelling_a_call_stops_that_call_alone) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value());
  // Running (computing without calls), and queued behind it.
  asio::cancellation_signal stop_spin, stop_queued;
  auto spin = inst.async_call<void>("spin", std::tuple{}, asio::bind_cancellation_slot(stop_spin.slot(), asio::use_future));
  auto queued =
      inst.async_call<int32_t>("bump", std::tuple{}, asio::bind_cancellation_slot(stop_queued.slot(), asio::use_future));
  std::this_thread::sleep_for(50ms);
  stop_queued.emit(asio::cancellation_type::terminal);
  auto q = queued.get();  // at once: not after the spin
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().how, kind::stopped);
  EXPECT_EQ(spin.wait_for(0s), std::future_status::timeout);
  stop_spin.emit(asio::cancellation_type::terminal);
  auto s = spin.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), (wasio::exit_status{kind::stopped, 0, "cancelled"}));
  // Suspended in a host function.
  asio::cancellation_signal stop_sleep;
  auto sleep = inst.async_call<int32_t>("deep_sleep", std::tuple{100, 600000},
                                        asio::bind_cancellation_slot(stop_sleep.slot(), asio::use_future));
  std::this_thread::sleep_for(50ms);
  stop_sleep.emit(asio::cancellation_type::terminal);
  auto slept = sleep.get();
  ASSERT_FALSE(slept) << slept.value();
  EXPECT_EQ(slept.error().how, kind::stopped);
  // The instance goes on; the cancelled bump never ran.
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 1);
}

// An instance's calls count against its config's limits, over its whole life: past its CPU time
// the computing call is stopped, and so is every later one.
TEST_P(embedding, an_instance_is_held_to_its_limits) {
  host_log log;
  wasio::runtime rt(options(reactor_host(log)));
  wasio::config cfg;
  cfg.limits.cpu_time = 100ms;
  auto inst = instantiate(rt, rt.load_file(guest("reactor")).value(), std::move(cfg));
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), 1);
  auto spin = call<void>(inst, "spin");
  ASSERT_FALSE(spin);
  EXPECT_EQ(spin.error(), (wasio::exit_status{kind::stopped, 0, "cpu time limit exceeded"}));
  auto after = call<int32_t>(inst, "bump");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().message, "cpu time limit exceeded");
}

// Fuel (limits::fuel): an instance's calls draw on one tank, counted in ticks (one per function
// entry, return and loop iteration), the same on every run: two instances with the same fuel
// serve the same number of calls. Once it is spent the call is stopped, and so is every later
// one; a call that never returns (spin) is stopped too. With runtime_options::count_ticks only,
// in asyncify and fiber mode (whose rewrite adds only the ticks); JSPI mode refuses it.
TEST_P(embedding, an_instance_runs_on_its_fuel) {
  host_log log;
  auto opts = options(reactor_host(log));
  opts.count_ticks = true;
  wasio::runtime rt(opts);
  if (GetParam() == wasio::suspension_mode::jspi) {
    auto refused = rt.load_file(guest("reactor"));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("needs asyncify or fiber mode"), std::string::npos) << refused.error();
    return;
  }
  auto m = rt.load_file(guest("reactor")).value();
  auto calls_served = [&](uint64_t fuel) {
    wasio::config cfg;
    cfg.limits.fuel = fuel;
    auto inst = instantiate(rt, m, std::move(cfg));
    int served = 0;
    for (;; ++served) {
      auto r = call<int32_t>(inst, "bump");
      if (!r) {
        EXPECT_EQ(r.error(), (wasio::exit_status{kind::stopped, 0, "fuel exhausted"}));
        EXPECT_EQ(call<int32_t>(inst, "bump").error().message, "fuel exhausted");
        return served;
      }
      EXPECT_EQ(r.value(), served + 1);
    }
  };
  int served = calls_served(2000);
  EXPECT_GT(served, 10);
  EXPECT_EQ(calls_served(2000), served);
  EXPECT_GT(calls_served(4000), served);

  wasio::config cfg;
  cfg.limits.fuel = 10'000'000;
  auto inst = instantiate(rt, m, std::move(cfg));
  auto spin = call<void>(inst, "spin");
  ASSERT_FALSE(spin);
  EXPECT_EQ(spin.error(), (wasio::exit_status{kind::stopped, 0, "fuel exhausted"}));
}

// The embedder reads an instance's fuel between calls, exactly (each bump costs the same ticks,
// far fewer than a grant of the module's counter), and refills it: a call stopped with "fuel
// exhausted" is then followed by calls that run, as with wasmtime's Store::set_fuel.
TEST_P(embedding, an_instance_fuel_is_read_and_refilled_between_calls) {
  host_log log;
  auto opts = options(reactor_host(log));
  opts.count_ticks = GetParam() != wasio::suspension_mode::jspi;
  wasio::runtime rt(opts);
  auto m = rt.load_file(guest("reactor")).value();
  // Asyncify and fiber mode count ticks; JSPI mode cannot, and takes no fuel limit.
  const bool counts = GetParam() != wasio::suspension_mode::jspi;
  wasio::config cfg;
  cfg.limits.fuel = counts ? 5000 : 0;
  auto inst = instantiate(rt, m, std::move(cfg));
  if (!counts) {
    EXPECT_EQ(inst.fuel(), std::nullopt);  // no ticks counted: nothing to read or refill
    EXPECT_FALSE(inst.set_fuel(1000));
    EXPECT_EQ(call<int32_t>(inst, "bump").value(), 1);
    return;
  }
  std::vector<uint64_t> left{inst.fuel().value()};
  EXPECT_LE(left[0], 5000u);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(call<int32_t>(inst, "bump").value(), i);
    left.push_back(inst.fuel().value());
  }
  const uint64_t per_bump = left[0] - left[1];
  EXPECT_GT(per_bump, 0u);
  EXPECT_LT(per_bump, 1000u);
  EXPECT_EQ(left[1] - left[2], per_bump);
  EXPECT_EQ(left[2] - left[3], per_bump);
  // Spent: the call that runs out stops (where it had got to, as a trap leaves it), and so does
  // the next; refilled, calls run again, and exactly as many as the fuel pays for.
  while (call<int32_t>(inst, "bump")) {
  }
  EXPECT_EQ(inst.fuel(), 0u);
  EXPECT_EQ(call<int32_t>(inst, "bump").error().message, "fuel exhausted");
  EXPECT_TRUE(inst.set_fuel(3 * per_bump));
  EXPECT_EQ(inst.fuel(), 3 * per_bump);
  int32_t bumped = call<int32_t>(inst, "bump").value();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(call<int32_t>(inst, "bump").value(), ++bumped);
  EXPECT_EQ(inst.fuel(), 0u);
  // Stopped at its first tick, before it counted: the next bump is the one after.
  EXPECT_EQ(call<int32_t>(inst, "bump").error().message, "fuel exhausted");
  EXPECT_TRUE(inst.set_fuel(wasio::unlimited_fuel));
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), ++bumped);
  EXPECT_EQ(inst.fuel(), wasio::unlimited_fuel);
  // A spin that never returns, stopped by the fuel it was given, and the instance goes on.
  EXPECT_TRUE(inst.set_fuel(100'000));
  EXPECT_EQ(call<void>(inst, "spin").error().message, "fuel exhausted");
  EXPECT_TRUE(inst.set_fuel(per_bump));
  EXPECT_EQ(call<int32_t>(inst, "bump").value(), ++bumped);
}

TEST_P(embedding, host_functions_get_the_guests_host_data) {
  wasio::host_functions h;
  h.define("host", "add", [](wasio::call_context& c, int32_t a, int32_t b) {
    return a + b + *std::static_pointer_cast<int32_t>(c.host_data());
  });
  h.define("host", "sleep_ms", [](int32_t) -> asio::awaitable<int32_t> { co_return 0; });
  h.define("host", "log", [](uint32_t, uint32_t) {});
  wasio::runtime rt(options(std::move(h)));
  auto m = rt.load_file(guest("reactor")).value();
  wasio::config cfg;
  cfg.host_data = std::make_shared<int32_t>(5);
  auto inst = instantiate(rt, m, std::move(cfg));
  EXPECT_EQ(call<int32_t>(inst, "handle", 2).value(), 1007);
}

TEST_P(embedding, every_number_type_crosses_host_functions) {
  wasio::host_functions h;
  h.define("host", "wide", [](int64_t a, int32_t b) { return a * b; });
  h.define("host", "fmix", [](float a, double b) { return a * b; });
  h.define("host", "sleep_ms", [](int32_t) -> asio::awaitable<int32_t> { co_return 0; });
  wasio::runtime rt(options(std::move(h)));
  auto m = rt.load_file(guest("host_types"));
  ASSERT_TRUE(m) << m.error();
  auto inst = instantiate(rt, m.value());
  EXPECT_EQ(call<int64_t>(inst, "call_wide", int64_t{-3} << 35).value(), (int64_t{-3} << 35) * 7);
  EXPECT_EQ(call<double>(inst, "call_fmix", 1.5f, 2.25).value(), 3.375);
}

// A guest yields at its time slice's end inside any import, an embedder's too: while it unwinds
// from one whose result is an i64, the value V8 gets must still be a BigInt (undefined was a
// TypeError that ended the guest; found by fuzz/import_abi_fuzz.cpp).
TEST_P(embedding, a_guest_yields_inside_a_host_function_with_an_i64_result) {
  wasio::host_functions h;
  h.define("host", "wide", [](int64_t a, int32_t b) { return a * b; });
  h.define("host", "fmix", [](float a, double b) { return a * b; });
  h.define("host", "sleep_ms", [](int32_t) -> asio::awaitable<int32_t> { co_return 0; });
  auto o = options(std::move(h));
  o.time_slice = 100us;
  wasio::runtime rt(std::move(o));
  auto inst = instantiate(rt, rt.load_file(guest("host_types")).value());
  constexpr int32_t n = 2'000'000;  // far more than one slice's worth of calls
  auto sum = call<int64_t>(inst, "wide_loop", n);
  ASSERT_TRUE(sum) << sum.error().message;
  EXPECT_EQ(sum.value(), n);
}

// config::trace sees each WASI call once, when it has completed: a blocking one once, not again
// when asyncify rewinds the guest into it, with the time it was suspended.
TEST_P(embedding, the_trace_hook_sees_each_wasi_call_once_completed) {
  wasio::runtime rt(options({}));
  auto sleeper = rt.load_file(guest("sleeper")).value();
  std::vector<std::string> lines;
  std::vector<std::chrono::nanoseconds> polls;
  wasio::config cfg;
  cfg.args = {"sleeper", "30"};
  cfg.trace = [&](const wasio::wasi_call& c) {  // the guest's worker thread: one guest, no lock needed
    lines.push_back(c.line());
    if (c.function == "poll_oneoff") polls.push_back(c.duration);
  };
  EXPECT_EQ(rt.async_run(sleeper, std::move(cfg), asio::use_future).get(), wasio::exit_status{});
  ASSERT_EQ(polls.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_GE(polls[0], 30ms);  // it includes the sleep: the start was kept across the suspension
  auto has = [&](std::string_view prefix) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); });
  };
  EXPECT_TRUE(has("poll_oneoff(nsubscriptions=1) => 1 (success) ")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("fd_write(fd=1, iovs=[")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("args_sizes_get() => 2, 11 (success) ")) << ::testing::PrintToString(lines);
}

// An embedder's Asio stream as the guest's stdin and stdout, with no fd given to the guest: the
// guest waits for each piece fed to it, sees EOF when the embedder closes it, and its writes are
// taken 7 bytes at a time (short writes) with every byte kept, in order.
TEST_P(embedding, an_embedders_stream_is_a_guests_stdin_and_stdout) {
  embedder_loop loop;
  wasio::runtime rt(options({}));
  auto cat = rt.load_file(guest("cat")).value();
  memory_stream in(loop.io.get_executor()), out(loop.io.get_executor(), 7);
  wasio::config cfg;
  cfg.args = {"cat"};
  cfg.stdio.in = wasio::guest_stream::make(in);
  cfg.stdio.out = wasio::guest_stream::make(out);
  auto run = rt.async_run(cat, std::move(cfg), asio::use_future);
  std::string sent;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(10ms);  // the guest is suspended in fd_read meanwhile
    std::string piece = "piece " + std::to_string(i) + " of a longer text\n";
    in.feed(piece);
    sent += piece;
  }
  in.close();
  EXPECT_EQ(run.get(), wasio::exit_status{});
  EXPECT_EQ(out.written(), sent);
}

// poll_oneoff on an embedder's stream: readable once data (or EOF) is there.
TEST_P(embedding, poll_oneoff_waits_on_an_embedders_stream) {
  embedder_loop loop;
  wasio::runtime rt(options({}));
  auto poller = rt.load_file(guest("poll_stdin")).value();
  memory_stream in(loop.io.get_executor()), out(loop.io.get_executor());
  wasio::config cfg;
  cfg.args = {"poll_stdin"};
  cfg.stdio.in = wasio::guest_stream::make(in);
  cfg.stdio.out = wasio::guest_stream::make(out);
  auto run = rt.async_run(poller, std::move(cfg), asio::use_future);
  std::this_thread::sleep_for(20ms);
  in.feed("line one\n");
  std::this_thread::sleep_for(20ms);
  in.feed("line two\n");
  in.close();
  EXPECT_EQ(run.get(), wasio::exit_status{});
  EXPECT_EQ(out.written(), "line one\nline two\n");
}

// A TCP connection of the embedder's, given whole to the guest as stdin and stdout (no fd): the
// guest echoes it, and the client sees EOF once the guest has ended and released the stream.
// Extra streams (config::streams) are the fds after the preopens: fd_copy copies fd 3 to 4.
TEST_P(embedding, an_embedders_socket_and_extra_streams_are_guest_fds) {
  embedder_loop loop;
  wasio::runtime rt(options({}));
  auto copy = rt.load_file(guest("fd_copy")).value();
  asio::ip::tcp::acceptor acceptor(loop.io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(loop.io);
  auto accepted = acceptor.async_accept(asio::use_future);
  client.connect(acceptor.local_endpoint());
  auto server = std::make_shared<asio::ip::tcp::socket>(accepted.get());
  wasio::config cfg;
  cfg.args = {"fd_copy"};
  {
    auto s = wasio::guest_stream::make(std::move(*server));
    cfg.stdio.in = s;
    cfg.stdio.out = s;
  }
  auto run = rt.async_run(copy, std::move(cfg), asio::use_future);
  asio::write(client, asio::buffer(std::string("ping over tcp\n")));
  client.shutdown(asio::ip::tcp::socket::shutdown_send);
  std::string echoed;
  asio::error_code ec;
  char buf[256];
  for (size_t n; (n = client.read_some(asio::buffer(buf), ec)) > 0 || !ec;) echoed.append(buf, n);
  EXPECT_EQ(ec, asio::error::eof);  // the guest ended, and the socket was closed with it
  EXPECT_EQ(echoed, "ping over tcp\n");
  EXPECT_EQ(run.get(), wasio::exit_status{});

  memory_stream in(loop.io.get_executor()), out(loop.io.get_executor());
  wasio::config more;
  more.args = {"fd_copy", "3", "4", "5"};  // 5-byte reads
  more.streams = {wasio::guest_stream::make(in), wasio::guest_stream::make(out)};
  in.feed("through fds 3 and 4");
  in.close();
  EXPECT_EQ(rt.async_run(copy, std::move(more), asio::use_future).get(), wasio::exit_status{});
  EXPECT_EQ(out.written(), "through fds 3 and 4");
}

// A guest stopped while it waits on an embedder's stream ends as stopped; the read it left
// pending completes later, after the runtime is gone, and is dropped without harm.
TEST_P(embedding, a_guest_waiting_on_an_embedders_stream_can_be_stopped) {
  embedder_loop loop;
  memory_stream in(loop.io.get_executor());
  {
    wasio::runtime rt(options({}));
    auto cat = rt.load_file(guest("cat")).value();
    wasio::config cfg;
    cfg.args = {"cat"};
    cfg.stdio.in = wasio::guest_stream::make(in);
    cfg.limits.wall_time = 50ms;
    auto s = rt.async_run(cat, std::move(cfg), asio::use_future).get();
    EXPECT_EQ(s.how, kind::stopped) << s.message;
  }
  in.feed("too late");
  in.close();
  EXPECT_EQ(in.written(), "");  // (a round trip through the stream's executor: the feed was served)
}

// A memory_fs call's text, or its errno's name: for EXPECT_EQ without aborting on the wrong one.
std::string text_of(const wasio::result<std::string>& r) { return r ? r.value() : "errno " + std::string(wasio::name(r.error())); }
template <class T>
wasio::errc errno_of(const wasio::result<T>& r) { return r ? wasio::errc::success : r.error(); }

// A memory_fs given to guests as a preopen is the embedder's too: what it put there the guest
// reads, what the guest wrote it reads back; two guests share it.
TEST_P(embedding, guests_and_the_embedder_share_a_memory_fs) {
  wasio::runtime rt(options({}));
  auto copy = rt.load_file(guest("copy_file")).value();
  auto fs = wasio::memory_fs::make();
  ASSERT_TRUE(fs->create_directory("in"));
  ASSERT_TRUE(fs->write_file("in/a.txt", "from the embedder\n"));
  auto run_copy = [&](std::vector<std::string> args) {
    wasio::config cfg;
    cfg.args = std::move(args);
    cfg.preopens.push_back(wasio::preopen::of(fs, "/data"));
    return rt.async_run(copy, std::move(cfg), asio::use_future).get();
  };
  EXPECT_EQ(run_copy({"copy_file", "/data/in/a.txt", "/data/b.txt", "more\n"}), wasio::exit_status{});
  EXPECT_EQ(run_copy({"copy_file", "/data/b.txt", "/data/c.txt"}), wasio::exit_status{});  // a second guest
  EXPECT_EQ(text_of(fs->read_file("in/a.txt")), "from the embedder\nmore\n");
  EXPECT_EQ(text_of(fs->read_file("c.txt")), "from the embedder\n");
  EXPECT_EQ(fs->list("").value(), (std::vector<std::string>{"in", "b.txt", "c.txt"}));
  EXPECT_EQ(errno_of(fs->read_file("../outside")), wasio::errc::notcapable);  // the embedder's paths are confined too
  EXPECT_TRUE(fs->remove("c.txt"));
  EXPECT_EQ(errno_of(fs->read_file("c.txt")), wasio::errc::noent);
  EXPECT_GT(fs->bytes(), 0u);
}

// An embedder's own files in a tree (guest_file): the guest's reads and writes are the
// embedder's awaitable calls (here each waits on a timer first, suspending the guest).
class string_file final : public wasio::guest_file {
 public:
  string_file(std::string text, bool writable) : text_(std::move(text)), writable_(writable) {}
  uint64_t size() const override { return text_.size(); }
  asio::awaitable<wasio::result<size_t>> read_at(uint64_t offset, std::span<std::byte> buf) override {
    co_await pause();
    if (offset >= text_.size()) co_return 0;
    size_t n = std::min<size_t>(buf.size(), text_.size() - offset);
    std::memcpy(buf.data(), text_.data() + offset, n);
    co_return n;
  }
  bool writable() const override { return writable_; }
  asio::awaitable<wasio::result<size_t>> write_at(uint64_t offset, std::span<const std::byte> buf) override {
    co_await pause();
    if (text_.size() < offset + buf.size()) text_.resize(offset + buf.size());
    std::memcpy(text_.data() + offset, buf.data(), buf.size());
    co_return buf.size();
  }
  wasio::result<void> resize(uint64_t size) override {
    text_.resize(size);
    return wasio::ok();
  }
  const std::string& text() const { return text_; }

 private:
  static asio::awaitable<void> pause() {
    asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  std::string text_;
  bool writable_;
};

TEST_P(embedding, a_guest_reads_and_writes_the_embedders_own_files) {
  wasio::runtime rt(options({}));
  auto copy = rt.load_file(guest("copy_file")).value();
  auto fs = wasio::memory_fs::make();
  auto source = std::make_shared<string_file>(std::string(100'000, 'a') + "end\n", false);
  auto sink = std::make_shared<string_file>("old contents", true);
  ASSERT_TRUE(fs->add_file("source", source));
  ASSERT_TRUE(fs->add_file("sink", sink));
  EXPECT_EQ(errno_of(fs->add_file("sink", sink)), wasio::errc::exist);
  auto run_copy = [&](std::vector<std::string> args) {
    wasio::config cfg;
    cfg.args = std::move(args);
    cfg.preopens.push_back(wasio::preopen::of(fs, "/data"));
    return rt.async_run(copy, std::move(cfg), asio::use_future).get();
  };
  EXPECT_EQ(run_copy({"copy_file", "/data/source", "/data/sink"}), wasio::exit_status{});
  EXPECT_EQ(sink->text(), source->text());  // truncated, then written
  // The source is not writable: the append's open is refused.
  EXPECT_EQ(run_copy({"copy_file", "/data/source", "/data/copy", "more"}).code, 1u);
  EXPECT_EQ(text_of(fs->read_file("copy")), source->text());
  EXPECT_EQ(errno_of(fs->read_file("source")), wasio::errc::notsup);
}

// An overlay: the guest reads the host's files and changes them, the changes stay in the tree
// (the next guest given the same tree sees them), and the host directory is never written.
TEST_P(embedding, an_overlay_keeps_every_change_off_the_host) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-overlay-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "in");
  std::ofstream(dir / "in" / "a.txt") << "host text\n";
  wasio::runtime rt(options({}));
  auto copy = rt.load_file(guest("copy_file")).value();
  auto fs = wasio::memory_fs::overlay(dir.string()).value();
  EXPECT_EQ(text_of(fs->read_file("in/a.txt")), "host text\n");  // still the host's file, read there
  for (int i = 0; i < 2; ++i) {
    wasio::config cfg;
    cfg.args = {"copy_file", "/data/in/a.txt", "/data/b.txt", "guest\n"};
    cfg.preopens.push_back(wasio::preopen::of(fs, "/data"));
    EXPECT_EQ(rt.async_run(copy, std::move(cfg), asio::use_future).get(), wasio::exit_status{});
  }
  EXPECT_EQ(text_of(fs->read_file("in/a.txt")), "host text\nguest\nguest\n");
  EXPECT_EQ(text_of(fs->read_file("b.txt")), "host text\nguest\n");
  // A guest of its own overlay (preopen::overlay) starts from the host's state again.
  wasio::config cfg;
  cfg.args = {"copy_file", "/data/in/a.txt", "/data/b.txt"};
  cfg.preopens.push_back(wasio::preopen::overlay(dir.string(), "/data"));
  EXPECT_EQ(rt.async_run(copy, std::move(cfg), asio::use_future).get(), wasio::exit_status{});
  std::ifstream f(dir / "in" / "a.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(f), {}), "host text\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "b.txt"));
  EXPECT_EQ(errno_of(wasio::memory_fs::overlay((dir / "none").string())), wasio::errc::noent);
  std::filesystem::remove_all(dir);
}

// Contents beyond the tree's limits are refused as on a full disk (the guest's write fails with
// ENOSPC, the embedder's with nospc); nothing is lost of what fit.
TEST_P(embedding, a_memory_fs_refuses_what_exceeds_its_limits) {
  wasio::runtime rt(options({}));
  auto copy = rt.load_file(guest("copy_file")).value();
  auto fs = wasio::memory_fs::make({64 * 1024, 4});
  ASSERT_TRUE(fs->write_file("a", std::string(40 * 1024, 'x')));
  wasio::config cfg;
  cfg.args = {"copy_file", "/data/a", "/data/b"};
  cfg.preopens.push_back(wasio::preopen::of(fs, "/data"));
  auto st = rt.async_run(copy, std::move(cfg), asio::use_future).get();
  EXPECT_EQ(st.code, 1);  // "FAIL: copy: No space left on device"
  EXPECT_EQ(text_of(fs->read_file("a")).size(), 40u * 1024);
  EXPECT_EQ(errno_of(fs->write_file("c", std::string(64 * 1024, 'y'))), wasio::errc::nospc);
  EXPECT_EQ(errno_of(fs->create_directory("d")), wasio::errc::nospc);  // the root, a, b and c are 4 entries
  ASSERT_TRUE(fs->remove("c"));
  EXPECT_TRUE(fs->create_directory("d"));
}

TEST_P(embedding, imports_are_checked_before_any_guest_code_runs) {
  auto status_of = [&](wasio::host_functions h, const char* module) {
    wasio::runtime rt(options(std::move(h)));
    auto m = rt.load_file(guest(module)).value();
    auto r = rt.async_instantiate(m, {}, asio::use_future).get();
    EXPECT_FALSE(r);
    return r ? wasio::exit_status{} : r.error();
  };
  wasio::host_functions partial;
  partial.define("host", "add", [](int32_t a, int32_t b) { return a + b; });
  auto missing = status_of(partial, "reactor");
  EXPECT_EQ(missing.how, kind::failed);
  EXPECT_TRUE(missing.message.find("imports host.sleep_ms, which the host does not define") != std::string::npos ||
              missing.message.find("imports host.log, which the host does not define") != std::string::npos)
      << missing.message;
  EXPECT_EQ(missing.message.find('\n'), std::string::npos);

  host_log log;
  auto other = reactor_host(log);
  wasio::host_functions wrong;
  wrong.define("host", "add", [](int64_t a, int64_t b) { return a + b; });
  for (auto& d : other.definitions()) {
    if (d.name != "add") wrong.define(d);
  }
  auto mismatch = status_of(wrong, "reactor");
  EXPECT_EQ(mismatch.how, kind::failed);
  EXPECT_NE(mismatch.message.find("imports host.add as (i32, i32) -> (i32), but the host defines it as (i64, i64) -> (i64)"),
            std::string::npos)
      << mismatch.message;
  EXPECT_TRUE(log.all().empty());  // no guest code ran
  // A command importing a function nobody defines fails to start the same way.
  wasio::runtime rt(options({}));
  auto s = rt.async_run(rt.load_file(guest("reactor")).value(), {}, asio::use_future).get();
  EXPECT_EQ(s.how, kind::failed);
}

// ~runtime stops everything it runs, promptly, and each completes as stopped: a command that
// computes without calls (its worker never reads its queue meanwhile), one that makes WASI calls
// in a loop without ever blocking, an instance computing in a call, and a call queued behind it.
TEST(runtime_shutdown, stops_computing_guests_and_instances) {
  host_log log;
  wasio::runtime_options o;
  o.workers = 2;
  o.host = reactor_host(log);
  auto rt = std::make_unique<wasio::runtime>(std::move(o));
  // Guests go to the workers in turn: the instance to the first, then one command to each.
  auto inst = rt->async_instantiate(rt->load_file(guest("reactor")).value(), {}, asio::use_future).get().value();
  auto spin = rt->load_file(guest("spin")).value();
  auto clock = rt->load_file(guest("clock_bench")).value();
  wasio::config forever;
  forever.args = {"spin", "100000000"};
  auto a = rt->async_run(spin, forever.clone(), asio::use_future);
  forever.args = {"clock_bench", "100000000000000"};
  auto b = rt->async_run(clock, std::move(forever), asio::use_future);
  auto c = inst.async_call<void>("spin", std::tuple{}, asio::use_future);
  auto d = inst.async_call<int32_t>("bump", std::tuple{}, asio::use_future);
  std::this_thread::sleep_for(200ms);
  auto destroyed = std::async(std::launch::async, [&] { rt.reset(); });
  ASSERT_EQ(destroyed.wait_for(30s), std::future_status::ready) << "~runtime hangs";
  for (auto* f : {&a, &b}) {
    auto s = f->get();
    EXPECT_EQ(s.how, kind::stopped) << s.message;
  }
  EXPECT_EQ(c.get().error().how, kind::stopped);
  EXPECT_EQ(d.get().error().how, kind::stopped);
  // The handle outlives its runtime: calls complete, as stopped.
  auto late = inst.async_call<int32_t>("bump", std::tuple{}, asio::use_future).get();
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().how, kind::stopped);
}

// A handed-over fd is owned by the config, not a number with a "close me" flag: a config (and
// its clone) run twice gives both guests the same pipe, never an fd number reused in between
// for another file, which wasio must not close either; the pipe sees EOF when both are done.
TEST(stdio_ownership, a_config_run_twice_never_reaches_a_reused_fd) {
  wasio::runtime rt(wasio::runtime_options{1});
  auto hello = rt.load_file(guest("hello")).value();
  asio::io_context io;
  auto out = wasio::make_output_pipe(io.get_executor()).value();
  wasio::config cfg;
  cfg.args = {"hello"};
  cfg.stdio.hand_over_out(out);
  EXPECT_EQ(rt.async_run(hello, cfg.clone(), asio::use_future).get().how, kind::exited);
  char path[] = "/tmp/wasio-reuse-XXXXXX";
  int other = ::mkstemp(path);  // takes the lowest free number: the one a close would have freed
  ASSERT_GE(other, 0);
  ::unlink(path);
  EXPECT_EQ(rt.async_run(hello, std::move(cfg), asio::use_future).get().how, kind::exited);
  EXPECT_EQ(::lseek(other, 0, SEEK_END), 0);  // nothing written into the other file
  EXPECT_NE(::fcntl(other, F_GETFD), -1);  // and still open
  ::close(other);
  std::string got;
  asio::error_code ec;
  char buf[256];
  for (size_t n; (n = out.embedder.read_some(asio::buffer(buf), ec)) > 0 || !ec;) got.append(buf, n);
  EXPECT_EQ(ec, asio::error::eof);  // every holder of the guest end is gone
  EXPECT_EQ(got, "hello from wasio\nhello from wasio\n");
}

// A guest started through the library gets none of the process's stdio unless its config says
// so: stdin at EOF, output discarded (as wasmtime and wazero). With stdio_fds::inherit() it has
// the process's fds 0 and 1. The process's own stdio is swapped for pipes meanwhile.
TEST(stdio_ownership, a_library_guest_gets_the_process_stdio_only_when_given) {
  wasio::runtime rt(wasio::runtime_options{1});
  auto cat = rt.load_file(guest("cat")).value();
  auto hello = rt.load_file(guest("hello")).value();
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
  ASSERT_EQ(::write(in[1], "secret", 6), 6);
  ::close(in[1]);  // the guest that inherits reads "secret", then EOF
  int saved_in = ::dup(0), saved_out = ::dup(1);
  ::dup2(in[0], 0);
  ::dup2(out[1], 1);
  wasio::config cfg;
  cfg.args = {"cat"};
  auto inherited = cfg.clone();
  inherited.stdio = wasio::stdio_fds::inherit();
  auto s0 = rt.async_run(hello, cfg.clone(), asio::use_future).get();  // its write succeeds, discarded
  auto s1 = rt.async_run(cat, std::move(cfg), asio::use_future).get();
  char buf[64];
  ssize_t leaked = ::read(out[0], buf, sizeof buf);  // nothing may have reached the process
  auto s2 = rt.async_run(cat, std::move(inherited), asio::use_future).get();
  ssize_t copied = ::read(out[0], buf, sizeof buf);
  ::dup2(saved_in, 0);
  ::dup2(saved_out, 1);
  for (int fd : {saved_in, saved_out, in[0], out[0], out[1]}) ::close(fd);
  EXPECT_EQ(s0, wasio::exit_status{});
  EXPECT_EQ(s1, wasio::exit_status{});  // read EOF at once
  EXPECT_EQ(leaked, -1);
  EXPECT_EQ(s2, wasio::exit_status{});
  EXPECT_EQ(std::string(buf, std::max<ssize_t>(copied, 0)), "secret");
}

// Out of fds when the guest's stdio is set up: it does not start, and says why (before, it ran
// with its stdout closed and reported "exited 0").
TEST(stdio_ownership, a_guest_whose_stdio_cannot_be_opened_fails_to_start) {
  wasio::runtime rt(wasio::runtime_options{1});
  auto hello = rt.load_file(guest("hello")).value();
  rt.async_run(hello, wasio::config{{"hello"}, {}, {}, {-1, -1, -1}}, asio::use_future).get();  // warm
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  wasio::config cfg;
  cfg.args = {"hello"};
  cfg.stdio = {-1, p[1], -1};
  struct rlimit old {};
  ::getrlimit(RLIMIT_NOFILE, &old);
  int highest = ::fcntl(0, F_DUPFD, 0);  // the lowest free fd: every one below is taken
  ::close(highest);
  struct rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(highest);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  auto s = rt.async_run(hello, std::move(cfg), asio::use_future).get();
  ::setrlimit(RLIMIT_NOFILE, &old);
  EXPECT_EQ(s.how, kind::failed);
  EXPECT_NE(s.message.find("cannot give the guest its stdout"), std::string::npos) << s.message;
  ::close(p[0]);
  ::close(p[1]);
}

TEST(host_functions, refuse_what_cannot_be_served) {
  wasio::host_functions h;
  h.define("host", "f", [] {});
  EXPECT_THROW(h.define("host", "f", [] {}), std::invalid_argument);
  EXPECT_THROW(h.define("wasi_snapshot_preview1", "fd_write", [] {}), std::invalid_argument);
}

// Every mode this build's engine has: JSPI too where it has it (V8 11).
std::vector<wasio::suspension_mode> engine_modes() {
  std::vector<wasio::suspension_mode> m{wasio::suspension_mode::asyncify, wasio::suspension_mode::fiber};
  if (wasio::jspi_available()) m.push_back(wasio::suspension_mode::jspi);
  return m;
}

INSTANTIATE_TEST_SUITE_P(modes, embedding, ::testing::ValuesIn(engine_modes()), [](const auto& info) {
  return info.param == wasio::suspension_mode::asyncify ? "asyncify"
         : info.param == wasio::suspension_mode::fiber  ? "fiber"
                                                        : "jspi";
});

}  // namespace
