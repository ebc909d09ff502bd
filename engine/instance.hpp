// An instance's side on its worker (instance_host), and the thread-safe link an embedder's
// wasio::instance handle reaches it through.
//
// The worker owns the host, and the link holds it while the instance is open; handlers posted
// to the worker hold it weakly. So it is destroyed on the worker's thread (it holds V8 handles),
// before the worker goes.
#pragma once
#include <asio/awaitable.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/guest_control.hpp"
#include "wasio/wasio.hpp"

namespace wasio::engine {
class guest;
class worker;
class instance_host;
}  // namespace wasio::engine

namespace wasio::detail {

struct instance_link {
  std::mutex mu;
  std::shared_ptr<engine::instance_host> host;  // null once the instance is closed
  engine::worker* worker = nullptr;             // valid while `host` is set
  guest_memory memory;                          // as the last call left it
  std::optional<uint64_t> fuel;                 // as the last call left it; none: no ticks counted
  std::optional<uint64_t> refill;               // instance::set_fuel's, for the next call to start
};

// One call's cancellation: from the embedder's cancellation slot (any thread) to what stops
// the call where it is now (queued, or running).
struct call_cancel {
  std::atomic<bool> cancelled{false};
  std::atomic<bool> completed{false};  // by the worker or by the cancellation, whichever is first
  std::mutex mu;
  std::function<void()> action;  // set by the worker, under mu
};

}  // namespace wasio::detail

namespace wasio::engine {

struct pending_call {
  std::string name;
  std::vector<value> args;
  std::shared_ptr<detail::call_cancel> cancel;  // may be null
  std::function<void(guest_result<std::vector<value>>)> done;
  // Completes the call, unless its cancellation already has.
  void complete(guest_result<std::vector<value>> r) {
    if (!cancel || !cancel->completed.exchange(true)) done(std::move(r));
  }
};

// Worker thread only.
class instance_host : public std::enable_shared_from_this<instance_host> {
 public:
  instance_host(worker& w, std::shared_ptr<guest> g, std::shared_ptr<detail::guest_control> c);
  ~instance_host();
  // The link for the embedder's handle, made once.
  std::shared_ptr<detail::instance_link> link();
  void submit(pending_call c);
  // No more calls: queued ones complete as stopped with `why`, the running one is stopped; the
  // worker is told once it has ended (worker::instance_closed).
  void close(const std::string& why);
  detail::guest_control& control() { return *control_; }

 private:
  asio::awaitable<void> serve();
  void finish();
  static void set_action(const pending_call& c, std::function<void()> a);

  worker& worker_;
  std::shared_ptr<guest> guest_;
  std::shared_ptr<detail::guest_control> control_;
  std::shared_ptr<detail::instance_link> link_;
  std::deque<pending_call> queue_;
  bool serving_ = false;
  bool closing_ = false;
  std::string close_reason_;
};

}  // namespace wasio::engine
