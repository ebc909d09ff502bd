// poll_oneoff (clocks and fd readiness, awaited on the worker's reactor) and sched_yield. proc_exit
// and proc_raise act on the guest itself: engine/wasi_poll_proc_sched.cpp.
#include <time.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "src/wasi/wasi.hpp"
#include "async/idle.hpp"
#include "wasio/as_tuple.hpp"

namespace wasio::wasi {
namespace {

using steady = std::chrono::steady_clock;

// What one subscription watches, resolved once per call.
struct watch {
  errc error = errc::success;            // reported as the event's error, at once
  std::optional<steady::time_point> deadline;  // clock subscriptions
  std::shared_ptr<resource> res;  // fd subscriptions
};

steady::time_point saturating_add(steady::time_point t, uint64_t ns) {
  auto room = static_cast<uint64_t>((steady::time_point::max() - t).count());
  return ns >= room ? steady::time_point::max() : t + std::chrono::nanoseconds(ns);
}

// The steady-clock deadline of a clock subscription. Absolute realtime deadlines are converted
// once, at the call: a later jump of the wall clock does not move them (as in wasmtime).
result<steady::time_point> deadline_of(const subscription& s, steady::time_point start) {
  bool abs = s.clock_flags & subclockflags::abstime;
  switch (static_cast<clockid>(s.clock_id)) {
    case clockid::monotonic:
      // libstdc++'s steady_clock is CLOCK_MONOTONIC, so an absolute monotonic time maps as is.
      if (abs) return steady::time_point(std::chrono::nanoseconds(std::min<uint64_t>(s.timeout, INT64_MAX)));
      return saturating_add(start, s.timeout);
    case clockid::realtime: {
      if (!abs) return saturating_add(start, s.timeout);
      timespec ts{};
      ::clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
      return s.timeout <= now ? start : saturating_add(start, s.timeout - now);
    }
    case clockid::process_cputime_id:
    case clockid::thread_cputime_id:
      // A guest's CPU time does not advance while it waits: such a timeout can never fire.
      return errc::notsup;
  }
  return errc::inval;
}

struct wait_group {
  explicit wait_group(const asio::any_io_executor& ex) : wake(ex) {}
  asio::steady_timer wake;
  size_t running = 0;
  bool fired = false;
};

asio::awaitable<void> watch_one(std::shared_ptr<resource> r, bool write, std::shared_ptr<wait_group> g) {
  co_await r->wait(write);
  g->fired = true;
  --g->running;
  g->wake.cancel();
}

// Suspends until `deadline` passes or one of `waits` becomes ready.
asio::awaitable<void> wait_any(std::optional<steady::time_point> deadline,
                               const std::vector<std::pair<std::shared_ptr<resource>, bool>>& waits) {
  auto ex = co_await asio::this_coro::executor;
  auto g = std::make_shared<wait_group>(ex);
  g->wake.expires_at(deadline.value_or(steady::time_point::max()));
  std::vector<asio::cancellation_signal> stop(waits.size());
  for (size_t i = 0; i < waits.size(); ++i) {
    ++g->running;
    asio::co_spawn(ex, watch_one(waits[i].first, waits[i].second, g),
                   asio::bind_cancellation_slot(stop[i].slot(), asio::detached));
  }
  if (!g->fired) {
    async::idle_wait idle;  // the watchers only wait too; the events are written after
    co_await g->wake.async_wait(wasio::as_tuple(asio::use_awaitable));
  }
  // The watchers borrow the signals: stop them and wait until every one has finished.
  for (auto& s : stop) s.emit(asio::cancellation_type::terminal);
  while (g->running > 0) {
    g->wake.expires_at(steady::time_point::max());
    co_await g->wake.async_wait(wasio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace

asio::awaitable<result<size>> poll_oneoff(context& c, std::span<const subscription> subs,
                                          std::span<event> out) {
  if (subs.empty()) co_return errc::inval;
  const auto start = steady::now();
  std::vector<watch> w(subs.size());
  for (size_t i = 0; i < subs.size(); ++i) {
    const subscription& s = subs[i];
    if (s.type == eventtype::clock) {
      auto d = deadline_of(s, start);
      if (d) w[i].deadline = d.value();
      else w[i].error = d.error();
      continue;
    }
    auto e = c.fds.get(s.fd, rights::poll_fd_readwrite);
    if (!e) w[i].error = e.error();
    else w[i].res = e.value()->res;
  }

  for (;;) {
    size n = 0;
    const auto now = steady::now();
    std::optional<steady::time_point> earliest;
    std::vector<std::pair<std::shared_ptr<resource>, bool>> blockers;
    for (size_t i = 0; i < subs.size() && n < out.size(); ++i) {
      const subscription& s = subs[i];
      event ev{s.user, static_cast<uint16_t>(w[i].error), s.type, 0, 0};
      if (w[i].error != errc::success) {
        out[n++] = ev;
      } else if (s.type == eventtype::clock) {
        if (now >= *w[i].deadline) out[n++] = ev;
        else if (!earliest || *w[i].deadline < *earliest) earliest = w[i].deadline;
      } else {
        bool write = s.type == eventtype::fd_write;
        async::readiness r = w[i].res->poll(write);
        if (r.ready) {
          ev.error = static_cast<uint16_t>(from_host_errno(r.error));
          ev.nbytes = r.nbytes;
          ev.flags = r.hangup ? eventrwflags::hangup : 0;
          out[n++] = ev;
        } else {
          blockers.emplace_back(w[i].res, write);
        }
      }
    }
    if (n > 0) co_return n;
    co_await wait_any(earliest, blockers);
    // Cancelled (the guest is being stopped): nothing became ready, and nothing will.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return errc::canceled;
  }
}

asio::awaitable<result<void>> sched_yield() {
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, asio::use_awaitable);
  co_return ok();
}

}  // namespace wasio::wasi
