#include "engine/op_runner.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "wasio/as_tuple.hpp"

namespace wasio::engine {

// Shared by the runner and its coroutine: an operation may outlive its guest (the coroutine
// then ends when the operation does, instead of parking again).
struct op_runner::state {
  using resume_handler = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;
  std::optional<resume_handler> parked;  // the coroutine, waiting for the next operation
  std::optional<asio::awaitable<errc>> next;
  bool done = true;
  bool closed = false;
  int32_t value = 0;
  asio::cancellation_signal cancel;  // bound to the coroutine running the operations
  asio::cancellation_signal cancel_one;  // bound to a fallback coroutine (run_one), if any
  // The driver's wake-up: it waits here (waiting) for the operation's end or a nudge. Owned by
  // the channel, a waiting driver is destroyed with the io_context, as a timer's would be.
  explicit state(asio::io_context& io) : wakeup(io, 1) {}
  asio::experimental::channel<void(asio::error_code, bool)> wakeup;  // (void(error_code) alone is ambiguous in Asio 1.22)
  bool waiting = false;
};

namespace {

// Records the result of the operation and wakes the guest's driver.
void wake(op_runner::state& s) {
  if (s.waiting) s.wakeup.try_send(asio::error_code{}, true);  // completes the wait by a post
}

void settle(op_runner::state& s, int32_t v) {
  s.value = v;
  s.done = true;
  wake(s);
}

asio::awaitable<void> run_ops(std::shared_ptr<op_runner::state> s) {
  // A cancelled operation reports `canceled` to its guest; it must not throw here instead.
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!s->closed) {
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [&](auto handler) { s->parked.emplace(std::move(handler)); }, asio::use_awaitable);
    if (!s->next) co_return;
    asio::awaitable<errc> op = std::move(*s->next);
    s->next.reset();
    int32_t v;
    try {
      v = static_cast<int32_t>(co_await std::move(op));
    } catch (...) {
      v = static_cast<int32_t>(errc::io);  // allocation failure and the like: the guest sees EIO
    }
    settle(*s, v);
  }
}

// The fallback when the coroutine is not parked (the runner was made off the io_context's
// thread, so co_spawn could not run it inline): one coroutine per operation.
asio::awaitable<void> run_one(asio::awaitable<errc> op, std::shared_ptr<op_runner::state> s) {
  co_await asio::this_coro::throw_if_cancelled(false);
  int32_t v;
  try {
    v = static_cast<int32_t>(co_await std::move(op));
  } catch (...) {
    v = static_cast<int32_t>(errc::io);
  }
  settle(*s, v);
}

}  // namespace

op_runner::op_runner(asio::io_context& io) : io_(io), s_(std::make_shared<state>(io)) {
  asio::co_spawn(io_, run_ops(s_), asio::bind_cancellation_slot(s_->cancel.slot(), asio::detached));
}

op_runner::~op_runner() {
  s_->closed = true;
  // A parked coroutine is abandoned (Asio destroys its frame through the executor); one still
  // running an operation ends after it.
  s_->parked.reset();
}

std::optional<int32_t> op_runner::start(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle) {
  async::idle_hook::starting_scope starting(idle);
  s_->done = false;
  if (!s_->parked) {
    asio::co_spawn(io_, run_one(std::move(op), s_), asio::bind_cancellation_slot(s_->cancel_one.slot(), asio::detached));
  } else {
    s_->next.emplace(std::move(op));
    auto h = std::move(*s_->parked);
    s_->parked.reset();
    std::move(h)();  // runs the operation up to its first real wait
  }
  if (s_->done) return s_->value;
  return std::nullopt;
}

bool op_runner::done() const { return s_->done; }
int32_t op_runner::value() const { return s_->value; }
asio::awaitable<void> op_runner::wait() {
  if (s_->done) co_return;
  auto s = s_;  // the runner may go while this waits (its guest destroyed with the loop)
  s->waiting = true;
  co_await s->wakeup.async_receive(wasio::as_tuple(asio::use_awaitable));
  s->waiting = false;
}

void op_runner::nudge() { wake(*s_); }

void op_runner::cancel() {
  if (s_->done) return;
  s_->cancel.emit(asio::cancellation_type::terminal);
  s_->cancel_one.emit(asio::cancellation_type::terminal);
}

asio::awaitable<errc> time_slice_yield() {
  asio::steady_timer now(co_await asio::this_coro::executor, asio::steady_timer::clock_type::now());
  (void)co_await now.async_wait(wasio::as_tuple(asio::use_awaitable));
  co_return errc::success;
}

}  // namespace wasio::engine
