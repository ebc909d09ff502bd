// guest_control: the part of a guest that other threads may touch. The embedder's cancellation
// (from any thread) and the runtime's watchdog (time limits) stop a guest through it; the
// worker fills in where the guest runs.
//
// A guest is stopped in one of two ways, depending on where it is:
//  - suspended (waiting on its worker's loop): the worker is asked, by a post, to wake it; its
//    driver cancels the operation it waits for and ends it once that operation has finished
//    (the operation may still be writing into its memory).
//  - running wasm on its worker's thread (which then cannot look at posts): V8's
//    TerminateExecution, under the worker's segment lock, so that it can only hit this guest.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "wasio/wasio.hpp"

namespace wasio::engine {
class worker;
class guest;
}  // namespace wasio::engine

namespace wasio::detail {

class guest_control : public std::enable_shared_from_this<guest_control> {
 public:
  // call_cancelled stops one call into an instance (its completion's cancellation), and so
  // does fuel (its tank spent): either is cleared when that call has ended; the others stop the
  // guest for good (fuel too, outside an instance's calls).
  enum class reason : int { none, cancelled, cpu_time, wall_time, call_cancelled, fuel };

  // Records `r` (the first reason wins) and makes the guest stop. Thread-safe.
  void request_stop(reason r);
  // Records `r` only (for the worker, which then stops the guest itself).
  bool mark(reason r) {
    reason none = reason::none;
    return reason_.compare_exchange_strong(none, r);
  }
  reason stop_reason() const { return reason_.load(std::memory_order_acquire); }
  bool stop_requested() const { return stop_reason() != reason::none; }
  std::string stop_message() const;

  // An instance's calls (worker thread): begin_call numbers the call now starting; end_call
  // clears a call_cancelled or fuel stop once it has ended. cancel_call (any thread) stops call `seq`
  // if it is the one running, and no other.
  uint64_t begin_call();
  void end_call();
  void cancel_call(uint64_t seq);

  // Where the guest runs, from when it starts until it is destroyed (worker thread).
  void attach(engine::worker* w, engine::guest* g);
  void detach();
  engine::guest* guest() const { return guest_; }  // worker thread only

  // Limits, set before the guest starts; cpu_used is kept by the worker under its segment lock.
  std::chrono::nanoseconds cpu_limit{0};
  std::chrono::steady_clock::time_point wall_deadline = std::chrono::steady_clock::time_point::max();
  std::chrono::nanoseconds cpu_used{0};

 private:
  std::atomic<reason> reason_{reason::none};
  std::mutex call_mu_;  // taken before mu_
  uint64_t call_seq_ = 0;
  bool in_call_ = false;
  std::mutex mu_;                    // guards worker_ against the guest ending meanwhile
  engine::worker* worker_ = nullptr;
  engine::guest* guest_ = nullptr;
};

}  // namespace wasio::detail
