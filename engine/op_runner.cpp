#include "engine/op_runner.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

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
  asio::steady_timer* wake = nullptr;
  asio::cancellation_signal cancel;  // bound to the coroutine running the operations
};

namespace {

// Records the result of the operation and wakes the guest's driver.
void settle(op_runner::state& s, int32_t v) {
  s.value = v;
  s.done = true;
  if (s.wake) s.wake->cancel();
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

op_runner::op_runner(asio::io_context& io) : io_(io), s_(std::make_shared<state>()) {
  asio::co_spawn(io_, run_ops(s_), asio::bind_cancellation_slot(s_->cancel.slot(), asio::detached));
}

op_runner::~op_runner() {
  s_->wake = nullptr;
  s_->closed = true;
  // A parked coroutine is abandoned (Asio destroys its frame through the executor); one still
  // running an operation ends after it.
  s_->parked.reset();
}

std::optional<int32_t> op_runner::start(asio::awaitable<errc> op) {
  s_->done = false;
  if (!s_->parked) {
    asio::co_spawn(io_, run_one(std::move(op), s_), asio::bind_cancellation_slot(s_->cancel.slot(), asio::detached));
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
void op_runner::set_wake(asio::steady_timer* wake) { s_->wake = wake; }

void op_runner::cancel() {
  if (!s_->done) s_->cancel.emit(asio::cancellation_type::terminal);
}

}  // namespace wasio::engine
