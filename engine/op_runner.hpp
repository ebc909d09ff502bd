// op_runner: runs a guest's blocking WASI operations, one at a time, on one long-lived coroutine.
//
// Most calls that *can* block complete at once (data is in the pipe, the file is cached). Giving
// each its own co_spawn cost ~1 µs (a spawn frame, two work guards, a dispatch and a posted
// completion, measured with an fd_pread on a bad fd); here the operation is handed to a parked
// coroutine that is resumed inline, so a call that completes at once costs one resumption. Both
// suspension modes use it: what differs between them is only how the guest waits for `done()`.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>

#include "async/idle.hpp"
#include "wasio/errno.hpp"

namespace wasio::engine {

class op_runner {
 public:
  explicit op_runner(asio::io_context& io);
  ~op_runner();
  op_runner(const op_runner&) = delete;
  op_runner& operator=(const op_runner&) = delete;

  // Starts `op`; returns its errno if it completed inline. Otherwise done() turns true later,
  // on the io_context's thread. The idle waits `op` begins as it starts report to `idle`
  // (async/idle.hpp); only as it starts: a fiber-mode guest is switched out of block() later,
  // and what runs then is not this operation.
  std::optional<int32_t> start(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle = nullptr);
  bool done() const;
  int32_t value() const;
  // Suspends the caller until the operation in flight completes or nudge() is called (the
  // caller looks at done() again). A posted wake-up through a channel, not a timer: a timer
  // cost a timerfd_settime and timer-queue work on every suspension.
  asio::awaitable<void> wait();
  void nudge();
  // Cancels the operation in flight (Asio's terminal cancellation): a wait on a pipe or a timer
  // ends at once with `canceled`; a file transfer already handed to the kernel runs to its end.
  void cancel();

  struct state;

 private:
  asio::io_context& io_;
  std::shared_ptr<state> s_;
};

// A time-slice yield, for both modes: through a timer due now, not a post. A post would run the
// guest again before the reactor's next look at timers and sockets, so a sibling's expired
// timer would wait a second slice; timers come back from the reactor in deadline order.
asio::awaitable<errc> time_slice_yield();

}  // namespace wasio::engine
