// The public API (include/wasio) on a real V8 with real guests: loading errors as values, any
// completion token, and guests suspended on one worker while others run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>
#include <functional>

#include "engine/admission.hpp"
#include "engine/memory_pool.hpp"
#include "engine/module.hpp"
#include "engine/vm.hpp"
#include "wasio/as_tuple.hpp"
#include "wasio/wasio.hpp"

namespace {

using namespace std::chrono_literals;

std::string guest(const std::string& name) { return std::string(WASIO_GUESTS) + "/" + name + ".wasm"; }

wasio::runtime& shared_runtime() {
  static wasio::runtime rt(wasio::runtime_options{1});  // one worker: every guest shares it
  return rt;
}

TEST(runtime, load_errors_are_values) {
  auto& rt = shared_runtime();
  std::vector<uint8_t> junk = {1, 2, 3};
  auto r = rt.load(junk);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("module"), std::string::npos);
  EXPECT_EQ(r.error().find('\n'), std::string::npos);
  EXPECT_FALSE(rt.load_file("/no/such.wasm"));
}

TEST(runtime, identical_bytes_are_loaded_once) {
  auto& rt = shared_runtime();
  auto a = rt.load_file(guest("hello"));
  auto b = rt.load_file(guest("hello"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.value().data(), b.value().data());
}

int pipe_to_devnull() { return ::open("/dev/null", O_WRONLY | O_CLOEXEC); }

TEST(runtime, callback_and_future_tokens) {
  auto& rt = shared_runtime();
  auto m = rt.load_file(guest("exit_code")).value();
  auto cfg = [] {
    wasio::config c;
    c.args = {"exit_code", "9"};
    return c;
  };
  auto f = rt.async_run(m, cfg(), asio::use_future);
  EXPECT_EQ(f.get().code, 9u);

  std::promise<wasio::exit_status> p;
  rt.async_run(m, cfg(), [&](wasio::exit_status s) { p.set_value(s); });
  auto s = p.get_future().get();
  EXPECT_EQ(s.how, wasio::exit_status::kind::exited) << s.message;
  EXPECT_EQ(s.process_status(), 9);
}

TEST(runtime, awaitable_from_the_embedders_own_loop) {
  auto& rt = shared_runtime();
  auto m = rt.load_file(guest("sleeper")).value();
  asio::io_context io;
  std::optional<wasio::exit_status> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    wasio::config cfg;
    cfg.args = {"sleeper", "10"};
    int null = pipe_to_devnull();
    cfg.stdio.out = null;
    got = co_await rt.async_run(m, std::move(cfg), asio::use_awaitable);
    ::close(null);
  }, asio::detached);
  io.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->how, wasio::exit_status::kind::exited);
  EXPECT_EQ(got->code, 0u);
}

// A guest blocked on an empty pipe is suspended: a second guest on the same (only) worker runs
// to its end meanwhile; the first completes when data arrives.
TEST(runtime, a_blocked_guest_does_not_hold_its_worker) {
  auto& rt = shared_runtime();
  ASSERT_EQ(rt.worker_count(), 1u);
  auto cat = rt.load_file(guest("cat")).value();
  auto hello = rt.load_file(guest("hello")).value();
  int in[2], out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  wasio::config ccfg;
  ccfg.args = {"cat"};
  ccfg.stdio = {in[0], out[1], 2};
  auto blocked = rt.async_run(cat, std::move(ccfg), asio::use_future);

  wasio::config hcfg;
  hcfg.args = {"hello"};
  int null = pipe_to_devnull();
  hcfg.stdio.out = null;
  auto other = rt.async_run(hello, std::move(hcfg), asio::use_future);
  ASSERT_EQ(other.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(other.get().code, 0u);
  EXPECT_EQ(blocked.wait_for(0s), std::future_status::timeout);

  ASSERT_EQ(::write(in[1], "ping", 4), 4);
  char buf[8] = {};
  ASSERT_EQ(::read(out[0], buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "ping");
  ::close(in[1]);
  ASSERT_EQ(blocked.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(blocked.get().code, 0u);
  for (int fd : {in[0], out[0], out[1], null}) ::close(fd);
}

// runtime_options::max_guests: beyond it a guest waits for one to end, beyond max_waiting it
// fails at once with the reason; a runtime destroyed with guests waiting stops them too.
TEST(runtime, guests_beyond_the_limit_wait_or_fail_cleanly) {
  using kind = wasio::exit_status::kind;
  int pipes[3][2];
  for (auto& p : pipes) ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  auto cat_on = [](int in) {
    wasio::config cfg;
    cfg.args = {"cat"};
    cfg.stdio.in = in;
    return cfg;
  };
  wasio::runtime_options o;
  o.workers = 1;
  o.max_guests = 2;
  o.max_waiting = 1;
  std::optional<wasio::runtime> rt(std::in_place, o);
  auto cat = rt->load_file(guest("cat")).value();
  auto a = rt->async_run(cat, cat_on(pipes[0][0]), asio::use_future);
  auto b = rt->async_run(cat, cat_on(pipes[1][0]), asio::use_future);
  auto c = rt->async_run(cat, cat_on(pipes[2][0]), asio::use_future);  // waits
  auto d = rt->async_run(cat, cat_on(pipes[2][0]), asio::use_future);  // one waits already: fails
  ASSERT_EQ(d.wait_for(10s), std::future_status::ready);
  auto refused = d.get();
  EXPECT_EQ(refused.how, kind::failed);
  EXPECT_NE(refused.message.find("too many guests"), std::string::npos) << refused.message;
  ::close(pipes[2][1]);  // c's stdin at EOF: it would end at once, were it running
  EXPECT_EQ(c.wait_for(300ms), std::future_status::timeout);
  ::close(pipes[0][1]);
  EXPECT_EQ(a.get(), wasio::exit_status{});
  ASSERT_EQ(c.wait_for(10s), std::future_status::ready);  // a ended: c started and read EOF
  EXPECT_EQ(c.get(), wasio::exit_status{});
  // b still runs (its stdin stays open), e joins it, f waits: the runtime's end stops all three.
  auto e = rt->async_run(cat, cat_on(pipes[1][0]), asio::use_future);
  auto f = rt->async_run(cat, cat_on(pipes[1][0]), asio::use_future);
  EXPECT_EQ(f.wait_for(100ms), std::future_status::timeout);
  rt.reset();
  EXPECT_EQ(b.get().how, kind::stopped);
  EXPECT_EQ(e.get().how, kind::stopped);
  EXPECT_EQ(f.get().how, kind::stopped);
  ::close(pipes[1][1]);
  for (auto& p : pipes) ::close(p[0]);
}

// The admission (engine/admission.hpp) lets guests in as far as the kernel's mappings allow,
// learning what a guest costs from those started. Guests that only end once all have started
// (a server's tasks waiting for one event) must all be let in while there is room, without one
// ending first: the admission once stopped counting again when the batch it had let in was
// smaller than an eighth of those started, and held the rest back for good (300,000 blocked
// guests of samples/many_tasks hung at ~190,000). Enough tickets that, with Linux's default
// vm.max_map_count, each batch is smaller than that; no mapping is made for them.
// V8 counts an ArrayBuffer's bytes as external memory of its isolate and starts a full GC every
// 64 MB more of it. Guest memories are held by their guests, not by JS, so those GCs freed
// nothing, and with thousands of guests on one isolate they came ever more often over an ever
// bigger heap (100,000 blocked guests: 256 full GCs, now 8; 300,000 took 211 s to start and
// end, now 34.7 s). The memories a worker's pool hands out are therefore off the count while they
// are held, and what V8 takes off again once it sweeps those let go is counted back as the
// next ones are made, so that the count neither climbs nor drifts down as guests come and go.
TEST(memory_pool, guest_memories_are_not_external_memory_of_their_isolate) {
  wasio::engine::ensure_v8();
  wasio::engine::vm v;
  v8::Isolate* iso = v.isolate();
  v8::HandleScope hs(iso);
  auto ctx = v.context();
  v8::Context::Scope cs(ctx);
  wasio::engine::memory_pool pool(4u << 20, 1u << 20);  // keeps 32 of these
  const wasio::engine::memory_limits two_pages{2, 256};
  auto external = [&] { return iso->AdjustAmountOfExternalAllocatedMemory(0); };
  const int64_t before = external();
  auto take_many = [&] {
    std::vector<v8::Global<v8::WasmMemoryObject>> held;
    for (int i = 0; i < 1000; ++i) {
      v8::HandleScope inner(iso);
      held.emplace_back(iso, pool.take(ctx, v.memory_constructor(), two_pages).ToLocalChecked());
    }
    return held;
  };
  auto held = take_many();  // 125 MiB of memories: V8 alone would count them all
  EXPECT_LT(external() - before, 1 << 20);
  for (auto& m : held) {
    v8::HandleScope inner(iso);
    pool.give_back(iso, m.Get(iso), two_pages);
  }
  held.clear();
  iso->LowMemoryNotification();  // V8 sweeps the 968 the pool did not keep
  held = take_many();
  EXPECT_LT(std::abs(external() - before), 1 << 20);
}

TEST(admission, lets_every_guest_in_while_there_is_room_without_one_ending) {
  size_t limit = 0;
  if (std::ifstream f("/proc/sys/vm/max_map_count"); !(f >> limit) || limit > 1'000'000) {
    GTEST_SKIP() << "vm.max_map_count " << limit << ": too many tickets to run into the batch size";
  }
  const size_t n = 3 * limit;
  wasio::engine::admission a(0, SIZE_MAX);
  std::vector<wasio::engine::admission::ticket> tickets;
  tickets.reserve(n);
  std::string refused;
  // Each ticket is started as soon as it is given, as a worker does: on the thread that gave it,
  // which may be inside an earlier ticket's started().
  std::function<void(wasio::engine::admission::ticket)> start = [&](wasio::engine::admission::ticket t) {
    tickets.push_back(t);
    t->started();
  };
  for (size_t i = 0; i < n; ++i) a.enter(start, [&](std::string why) { refused = std::move(why); });
  EXPECT_EQ(refused, "");
  EXPECT_EQ(tickets.size(), n) << "of " << n << " guests, " << tickets.size() << " let in, the rest waiting";
  tickets.clear();
  EXPECT_EQ(a.alive(), 0u);
}

// async_shutdown: no new guests; the running ones may end by themselves during the grace
// period, and the rest (blocked, or computing without WASI calls) are stopped at its end.
TEST(runtime, async_shutdown_lets_guests_end_then_stops_the_rest) {
  using kind = wasio::exit_status::kind;
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  // Two workers, given guests in turn: the computing guest has the second to itself (a guest
  // that makes no WASI call is not preempted), so that the sleeper's timer is served.
  std::optional<wasio::runtime> rt(std::in_place, wasio::runtime_options{2});
  auto sleeper = rt->load_file(guest("sleeper")).value();
  auto cat = rt->load_file(guest("cat")).value();
  auto spin = rt->load_file(guest("spin")).value();
  wasio::config s;
  s.args = {"sleeper", "100"};
  auto ends = rt->async_run(sleeper, std::move(s), asio::use_future);
  wasio::config p;
  p.args = {"spin", "1000000"};  // hours of computing
  auto computing = rt->async_run(spin, std::move(p), asio::use_future);
  wasio::config c;
  c.args = {"cat"};
  c.stdio.in = in[0];
  auto blocked = rt->async_run(cat, std::move(c), asio::use_future);
  std::this_thread::sleep_for(50ms);
  auto done = rt->async_shutdown(std::chrono::milliseconds(500), asio::use_future);
  wasio::config late;
  late.args = {"sleeper", "1"};
  auto refused = rt->async_run(sleeper, std::move(late), asio::use_future).get();
  EXPECT_EQ(refused.how, kind::failed);
  EXPECT_EQ(refused.message, "the runtime is shutting down");
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(done.get(), 2u);
  EXPECT_EQ(rt->async_shutdown(std::chrono::hours(1), asio::use_future).get(), 2u);  // once done: what it found
  EXPECT_EQ(ends.get(), wasio::exit_status{});
  EXPECT_EQ(blocked.get().how, kind::stopped);
  EXPECT_EQ(computing.get().how, kind::stopped);
  rt.reset();
  // With nothing left to stop, it completes as soon as the guests have ended.
  rt.emplace(wasio::runtime_options{1});
  wasio::config s2;
  s2.args = {"sleeper", "20"};
  auto quick = rt->async_run(rt->load_file(guest("sleeper")).value(), std::move(s2), asio::use_future);
  auto all_ended = rt->async_shutdown(std::chrono::hours(1), asio::use_future);
  ASSERT_EQ(all_ended.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(all_ended.get(), 0u);
  EXPECT_EQ(quick.get(), wasio::exit_status{});
  for (int fd : in) ::close(fd);
}

TEST(runtime, traps_and_bad_preopens_are_statuses) {
  auto& rt = shared_runtime();
  auto trap = rt.load_file(guest("trap")).value();
  wasio::config cfg;
  int null = pipe_to_devnull();
  cfg.stdio.out = null;
  auto s = rt.async_run(trap, std::move(cfg), asio::use_future).get();
  EXPECT_EQ(s.how, wasio::exit_status::kind::trapped);
  EXPECT_EQ(s.process_status(), 134);
  EXPECT_NE(s.message.find("unreachable"), std::string::npos);

  cfg = {};
  cfg.stdio.out = null;
  cfg.preopens = {{"/no/such/dir", "/x", false}};
  s = rt.async_run(trap, std::move(cfg), asio::use_future).get();
  EXPECT_EQ(s.how, wasio::exit_status::kind::failed);
  EXPECT_NE(s.message.find("/no/such/dir"), std::string::npos);
  ::close(null);
}

}  // namespace

namespace {
// Memories are recycled between guests: each must still start zeroed.
TEST(runtime, recycled_memories_start_zeroed) {
  auto& rt = shared_runtime();
  auto m = rt.load_file(guest("memory_hygiene")).value();
  ASSERT_TRUE(m.data());
  int null = pipe_to_devnull();
  for (int i = 0; i < 20; ++i) {
    wasio::config cfg;
    cfg.args = {"memory_hygiene"};
    cfg.stdio.out = null;
    auto s = rt.async_run(m, std::move(cfg), asio::use_future).get();
    ASSERT_EQ(s.how, wasio::exit_status::kind::exited) << s.message;
    ASSERT_EQ(s.code, 0u) << "run " << i;
  }
  ::close(null);
}

// Asio per-operation cancellation stops a guest wherever it is: blocked on a pipe, sleeping,
// computing, or not started yet. The worker then runs the next guest as usual.
TEST(runtime, cancellation_stops_a_guest_wherever_it_is) {
  auto& rt = shared_runtime();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  struct spec {
    const char* module;
    std::vector<std::string> args;
  };
  for (const spec& sp : {spec{"cat", {"cat"}}, spec{"sleeper", {"sleeper", "600000"}},
                         spec{"spin", {"spin", "1000000"}}}) {
    auto m = rt.load_file(guest(sp.module)).value();
    wasio::config cfg;
    cfg.args = sp.args;
    cfg.stdio.in = p[0];  // nobody writes: cat blocks
    asio::cancellation_signal stop;
    auto f = rt.async_run(m, std::move(cfg), asio::bind_cancellation_slot(stop.slot(), asio::use_future));
    EXPECT_EQ(f.wait_for(200ms), std::future_status::timeout) << sp.module;  // it runs or waits
    stop.emit(asio::cancellation_type::terminal);
    auto s = f.get();
    EXPECT_EQ(s.how, wasio::exit_status::kind::stopped) << sp.module << ": " << s.message;
    EXPECT_EQ(s.message, "cancelled");
    EXPECT_EQ(s.process_status(), 137);
  }
  // Cancelled before its worker started it.
  {
    auto m = rt.load_file(guest("hello")).value();
    asio::cancellation_signal stop;
    wasio::config cfg;
    cfg.args = {"hello"};
    cfg.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
    stop.emit(asio::cancellation_type::terminal);  // nothing connected yet: no effect
    auto f = rt.async_run(m, std::move(cfg), asio::bind_cancellation_slot(stop.slot(), asio::use_future));
    EXPECT_EQ(f.get().how, wasio::exit_status::kind::exited);
  }
  // The worker is clean: the next guest runs normally.
  auto m = rt.load_file(guest("exit_code")).value();
  wasio::config cfg;
  cfg.args = {"exit_code", "3"};
  EXPECT_EQ(rt.async_run(m, std::move(cfg), asio::use_future).get().code, 3u);
  ::close(p[0]);
  ::close(p[1]);
}

// A guest past its CPU time is stopped; its sibling on the same (single) worker is not
// disturbed beyond that: it completes normally.
TEST(runtime, cpu_time_limit_stops_only_the_guest_over_it) {
  auto& rt = shared_runtime();
  auto spin = rt.load_file(guest("spin")).value();
  auto sleeper = rt.load_file(guest("sleeper")).value();
  wasio::config hot;
  hot.args = {"spin", "1000000"};
  hot.limits.cpu_time = 100ms;
  wasio::config calm;
  calm.args = {"sleeper", "50"};
  calm.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
  auto a = rt.async_run(spin, std::move(hot), asio::use_future);
  auto b = rt.async_run(sleeper, std::move(calm), asio::use_future);
  auto sa = a.get(), sb = b.get();
  EXPECT_EQ(sa.how, wasio::exit_status::kind::stopped);
  EXPECT_EQ(sa.message, "cpu time limit exceeded");
  EXPECT_EQ(sb.how, wasio::exit_status::kind::exited) << sb.message;
  EXPECT_EQ(sb.code, 0u);
}

// Embedded, Node-style: guests run on the embedder's own io_context and thread, interleaved
// with its timers; destroying the runtime stops a guest still blocked, which completes.
TEST(runtime, embedded_on_the_embedders_own_loop) {
  asio::io_context io;
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  int finished = 0, ticks = 0;
  std::optional<wasio::exit_status> blocked;
  {
    wasio::runtime rt(wasio::runtime_options{0, &io});
    EXPECT_EQ(rt.worker_count(), 1u);
    auto sleeper = rt.load_file(guest("sleeper")).value();
    int null = pipe_to_devnull();
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        wasio::config cfg;
        cfg.args = {"sleeper", "100"};
        cfg.stdio.out = null;
        auto s = co_await rt.async_run(sleeper, std::move(cfg), asio::use_awaitable);
        EXPECT_EQ(s.how, wasio::exit_status::kind::exited) << s.message;
        ++finished;
      }, asio::detached);
    }
    // A guest that stays blocked on an idle pipe until the runtime goes.
    auto cat = rt.load_file(guest("cat")).value();
    wasio::config idle;
    idle.args = {"cat"};
    idle.stdio.in = p[0];
    rt.async_run(cat, std::move(idle), [&](wasio::exit_status s) { blocked = s; });
    // The embedder's own timer, on the same thread.
    asio::steady_timer t(io);
    std::function<void()> tick = [&] {
      t.expires_after(10ms);
      t.async_wait([&](asio::error_code ec) {
        if (ec) return;
        ++ticks;
        if (finished < 3) tick();
      });
    };
    tick();
    while (finished < 3) io.run_one();
    EXPECT_GE(ticks, 5);  // the loop kept turning while three guests slept 100 ms
    EXPECT_FALSE(blocked);
    ::close(null);
  }  // ~runtime on the loop's thread: the blocked guest is stopped and completes
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->how, wasio::exit_status::kind::stopped);
  EXPECT_EQ(blocked->message, "cancelled");
  ::close(p[0]);
  ::close(p[1]);
}

// Async stdio pipes: the embedder co_awaits writing a guest's stdin and reading its stdout
// while the guest runs. 8 MiB through 64 KiB pipes cannot be buffered: both sides wait for
// each other (the reader is slowed down on purpose), and nothing is lost or reordered.
TEST(runtime, embedder_pipes_stream_with_backpressure) {
  asio::io_context io;
  wasio::runtime rt(wasio::runtime_options{0, &io});
  auto cat = rt.load_file(guest("cat")).value();
  auto in = wasio::make_stdin_pipe(io.get_executor());
  auto out = wasio::make_output_pipe(io.get_executor());
  ASSERT_TRUE(in && out);
  wasio::config cfg;
  cfg.args = {"cat"};
  cfg.stdio.hand_over_in(in.value());
  cfg.stdio.hand_over_out(out.value());
  constexpr size_t total = 8u << 20;
  auto byte_at = [](size_t i) { return static_cast<char>((i * 131) >> 7); };
  std::optional<wasio::exit_status> status;
  size_t received = 0;
  bool in_order = true;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    status = co_await rt.async_run(cat, std::move(cfg), asio::use_awaitable);
  }, asio::detached);
  asio::co_spawn(io, [&, w = std::move(in.value().embedder)]() mutable -> asio::awaitable<void> {
    std::vector<char> chunk(64 * 1024);
    for (size_t sent = 0; sent < total; sent += chunk.size()) {
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = byte_at(sent + i);
      co_await asio::async_write(w, asio::buffer(chunk), asio::use_awaitable);
    }
    w.close();  // EOF for the guest
  }, asio::detached);
  asio::co_spawn(io, [&, r = std::move(out.value().embedder)]() mutable -> asio::awaitable<void> {
    std::vector<char> buf(16 * 1024);
    asio::steady_timer pause(io);
    for (int reads = 0;; ++reads) {
      auto [ec, n] = co_await r.async_read_some(asio::buffer(buf), wasio::as_tuple(asio::use_awaitable));
      if (ec) break;  // EOF once the guest ended
      for (size_t i = 0; i < n; ++i) in_order &= buf[i] == byte_at(received + i);
      received += n;
      if (reads % 64 == 0) {  // a slow reader now and then: the guest must wait for it
        pause.expires_after(1ms);
        co_await pause.async_wait(asio::use_awaitable);
      }
    }
  }, asio::detached);
  io.run();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->how, wasio::exit_status::kind::exited) << status->message;
  EXPECT_EQ(status->code, 0u);
  EXPECT_EQ(received, total);
  EXPECT_TRUE(in_order);
}

// Fair scheduling: a guest that computes and calls WASI without ever waiting (clock_time_get in
// a loop, 50M calls: ~2 s, a minute under ASan) yields its worker at the end of each time
// slice, so its sibling's sleeps (20 x 10 ms) are served meanwhile: the sibling ends while the
// spinner still runs, and the spinner is then stopped. Without yields the sibling could only
// start once the spinner had ended.
void expect_spinner_yields_to_its_sibling(std::vector<std::string> spinner_args,
                                          wasio::suspension_mode mode = wasio::suspension_mode::automatic,
                                          bool count_ticks = false) {
  wasio::runtime_options opts{1};
  opts.mode = mode;
  opts.count_ticks = count_ticks;
  wasio::runtime rt(opts);
  auto spin = rt.load_file(guest(spinner_args[0])).value();
  if (mode != wasio::suspension_mode::automatic) EXPECT_EQ(spin.mode(), mode);
  auto ticks = rt.load_file(guest("tick_lag")).value();
  wasio::config hot, calm;
  hot.args = std::move(spinner_args);
  hot.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
  calm.args = {"tick_lag", "20", "10"};
  calm.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
  asio::cancellation_signal stop_spinner;
  auto spinner = rt.async_run(spin, std::move(hot), asio::bind_cancellation_slot(stop_spinner.slot(), asio::use_future));
  auto sleeper = rt.async_run(ticks, std::move(calm), asio::use_future);
  EXPECT_EQ(sleeper.get(), wasio::exit_status{});
  EXPECT_EQ(spinner.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  stop_spinner.emit(asio::cancellation_type::terminal);
  EXPECT_EQ(spinner.get().how, wasio::exit_status::kind::stopped);
}

TEST(runtime, a_guest_calling_wasi_in_a_loop_yields_to_its_siblings) {
  expect_spinner_yields_to_its_sibling({"clock_bench", "50000000"});
  if (wasio::jspi_available()) expect_spinner_yields_to_its_sibling({"clock_bench", "50000000"}, wasio::suspension_mode::jspi);
}

// The same for a module none of whose imports blocks (the clock, its arguments, proc_exit): it
// is instrumented all the same, so that it yields at its slice (in fiber mode, it switches out).
TEST(runtime, a_guest_that_never_blocks_yields_to_its_siblings_too) {
  expect_spinner_yields_to_its_sibling({"quiet_spin", "1000000"});  // hours, unless stopped
  if (wasio::jspi_available()) expect_spinner_yields_to_its_sibling({"quiet_spin", "1000000"}, wasio::suspension_mode::jspi);
}

// And a guest that computes without any WASI call at all: the watchdog's interrupt comes at a
// loop back-edge of its wasm, where in fiber mode its fiber switches out, and in asyncify mode
// its thread is parked while another goes on with the loop (engine/loop_turns.hpp). With
// count_ticks its module also counts ticks and it yields in wasio.tick (engine/ticks.hpp).
// Before, it held its worker until it ended (hours, here).
TEST(runtime, a_guest_computing_without_any_call_yields_to_its_siblings) {
  expect_spinner_yields_to_its_sibling({"spin", "100000000"}, wasio::suspension_mode::fiber);
  expect_spinner_yields_to_its_sibling({"spin", "100000000"}, wasio::suspension_mode::asyncify);
  expect_spinner_yields_to_its_sibling({"spin", "100000000"}, wasio::suspension_mode::asyncify, true);
}

// Many guests computing on one worker at once, with 1 ms slices: each is parked at the end of
// each slice, on a thread of its own, and every one computes what it computes alone. The
// sibling that sleeps is served meanwhile, and guests that start and end (hello) too, and
// guests that cannot be parked (no_stack_pointer: fiber mode, or JSPI), which wait to start
// until no guest is parked. Then the runtime goes with more of them computing
// for hours: it stops them, parked or not, and does not hang.
TEST(runtime, many_guests_computing_at_once_take_turns_and_end_as_alone) {
  auto alone = [](wasio::runtime& rt, const wasio::module& m) {
    int out[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    wasio::config c;
    c.args = {"compute_bench", "1"};
    c.stdio.out = wasio::stdio_fd::adopt(out[1]);
    auto f = rt.async_run(m, std::move(c), asio::use_future);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, n);
    ::close(out[0]);
    EXPECT_EQ(f.get(), wasio::exit_status{});
    // "NAME MS CHECKSUM" lines: the checksums only.
    std::string sums;
    std::istringstream lines(text);
    for (std::string name, ms, sum; lines >> name >> ms >> sum;) sums += name + " " + sum + "\n";
    return sums;
  };
  std::string expected;
  {
    wasio::runtime_options opts{1};
    opts.mode = wasio::suspension_mode::asyncify;
    opts.time_slice = std::chrono::nanoseconds(0);  // never parked
    wasio::runtime rt(opts);
    expected = alone(rt, rt.load_file(guest("compute_bench")).value());
  }
  ASSERT_NE(expected.find("matmul"), std::string::npos);
  std::vector<std::future<wasio::exit_status>> spinning;
  {
    wasio::runtime_options opts{1};  // automatic mode: asyncify for all but no_stack_pointer
    opts.time_slice = std::chrono::milliseconds(1);
    wasio::runtime rt(opts);
    auto bench = rt.load_file(guest("compute_bench")).value();
    auto spin = rt.load_file(guest("spin")).value();
    auto ticks = rt.load_file(guest("tick_lag")).value();
    auto hello = rt.load_file(guest("hello")).value();
    auto unparkable = rt.load_file(guest("no_stack_pointer")).value();
    ASSERT_NE(unparkable.mode(), wasio::suspension_mode::asyncify);
    auto run = [&](const wasio::module& m, std::vector<std::string> args) {
      wasio::config c;
      c.args = std::move(args);
      c.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
      return rt.async_run(m, std::move(c), asio::use_future);
    };
    std::vector<std::future<wasio::exit_status>> short_ones;
    for (int i = 0; i < 24; ++i) short_ones.push_back(run(spin, {"spin", "20"}));
    auto sleeper = run(ticks, {"tick_lag", "20", "10"});
    std::vector<std::future<std::string>> benches;
    for (int i = 0; i < 3; ++i) benches.push_back(std::async(std::launch::async, [&] { return alone(rt, bench); }));
    for (int i = 0; i < 50; ++i) {
      short_ones.push_back(run(hello, {"hello"}));
      if (i % 10 == 0) short_ones.push_back(run(unparkable, {"no_stack_pointer"}));
    }
    EXPECT_EQ(sleeper.get(), wasio::exit_status{});
    for (auto& f : short_ones) EXPECT_EQ(f.get(), wasio::exit_status{});
    for (auto& b : benches) EXPECT_EQ(b.get(), expected);
    for (int i = 0; i < 20; ++i) spinning.push_back(run(spin, {"spin", "100000000"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& f : spinning) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(f.get().how, wasio::exit_status::kind::stopped);
  }
}

// Embedded: a guest submitted but never run (the loop did not turn before the runtime went)
// still completes, as stopped, and nothing is left behind.
TEST(runtime, embedded_runtime_destroyed_before_its_loop_ran) {
  asio::io_context io;
  std::optional<wasio::exit_status> s;
  {
    wasio::runtime rt(wasio::runtime_options{0, &io});
    auto m = rt.load_file(guest("hello")).value();
    wasio::config cfg;
    cfg.args = {"hello"};
    rt.async_run(m, std::move(cfg), [&](wasio::exit_status st) { s = st; });
  }
  ASSERT_TRUE(s);
  EXPECT_EQ(s->how, wasio::exit_status::kind::stopped);
  io.run();  // nothing of the runtime's is left to run
}
}  // namespace

namespace {

// A big module (6 MiB, 10,000 functions) runs in fiber mode (JSPI where the engine has it),
// chosen automatically, on the same
// one-thread loop as small guests in asyncify mode: while it waits for its stdin (fed slowly
// by the embedder) and sleeps, the small guests run and end; it produces what it produces in
// asyncify mode.
TEST(runtime, fiber_and_asyncify_guests_interleave_on_one_loop) {
  asio::io_context io;
  wasio::runtime_options opts{0, &io};
  opts.cache_dir = "off";  // a rewrite cached by an earlier run would make automatic mode choose asyncify
  wasio::runtime rt(opts);
  auto big = rt.load_file(guest("big")).value();
  auto sleeper = rt.load_file(guest("sleeper")).value();
  // Where the engine has JSPI, automatic mode runs in it what it would run in fiber mode.
  EXPECT_EQ(big.mode(), wasio::jspi_available() ? wasio::suspension_mode::jspi : wasio::suspension_mode::fiber)
      << big.mode_reason();
  EXPECT_EQ(sleeper.mode(), wasio::suspension_mode::asyncify) << sleeper.mode_reason();

  // Runs big with 100 lines fed one per 2 ms (and 20 sleepers beside it if asked), and returns
  // its output.
  auto run_big = [&](wasio::runtime& r, const wasio::module& m, int* sleepers_done_before_big) {
    auto in = wasio::make_stdin_pipe(io.get_executor());
    auto out = wasio::make_output_pipe(io.get_executor());
    EXPECT_TRUE(in && out);
    wasio::config cfg;
    cfg.args = {"big"};
    cfg.stdio.hand_over_in(in.value());
    cfg.stdio.hand_over_out(out.value());
    std::string got;
    int sleepers_done = 0;
    bool big_done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      auto s = co_await r.async_run(m, std::move(cfg), asio::use_awaitable);
      EXPECT_EQ(s.how, wasio::exit_status::kind::exited) << s.message;
      big_done = true;
      if (sleepers_done_before_big) *sleepers_done_before_big = sleepers_done;
    }, asio::detached);
    if (sleepers_done_before_big) {
      for (int i = 0; i < 20; ++i) {
        wasio::config sc;
        sc.args = {"sleeper"};
        sc.stdio.out = wasio::stdio_fd::adopt(pipe_to_devnull());
        r.async_run(sleeper, std::move(sc), [&](wasio::exit_status s) {
          EXPECT_EQ(s.code, 0u) << s.message;
          ++sleepers_done;
        });
      }
    }
    asio::co_spawn(io, [&, w = std::move(in.value().embedder)]() mutable -> asio::awaitable<void> {
      asio::steady_timer t(io);
      for (int i = 0; i < 100; ++i) {
        std::string line = "line " + std::to_string(i) + "\n";
        co_await asio::async_write(w, asio::buffer(line), asio::use_awaitable);
        t.expires_after(2ms);
        co_await t.async_wait(asio::use_awaitable);
      }
      w.close();
    }, asio::detached);
    asio::co_spawn(io, [&, rd = std::move(out.value().embedder)]() mutable -> asio::awaitable<void> {
      char buf[4096];
      for (;;) {
        auto [ec, n] = co_await rd.async_read_some(asio::buffer(buf), wasio::as_tuple(asio::use_awaitable));
        if (ec) break;
        got.append(buf, n);
      }
    }, asio::detached);
    io.restart();
    io.run();
    EXPECT_TRUE(big_done);
    return got;
  };
  int sleepers_before = -1;
  std::string fiber_out = run_big(rt, big, &sleepers_before);
  EXPECT_EQ(sleepers_before, 20);  // big ran ~0.7 s, mostly waiting; the sleepers' 100 ms ended meanwhile
  EXPECT_NE(fiber_out.find("big done 100\n"), std::string::npos) << fiber_out.substr(0, 200);

  wasio::runtime_options aopts{1};  // on a worker thread: one embedded runtime per thread
  aopts.mode = wasio::suspension_mode::asyncify;
  aopts.cache_dir = "off";
  wasio::runtime art(aopts);
  auto abig = art.load_file(guest("big")).value();
  EXPECT_EQ(abig.mode(), wasio::suspension_mode::asyncify);
  EXPECT_EQ(run_big(art, abig, nullptr), fiber_out);
}

}  // namespace
