#include "engine/guest_control.hpp"

#include "engine/worker.hpp"

namespace wasio::detail {

std::shared_ptr<guest_control> make_guest_control() { return std::make_shared<guest_control>(); }

void cancel(guest_control& c) { c.request_stop(guest_control::reason::cancelled); }

void guest_control::request_stop(reason r) {
  if (!mark(r)) return;
  std::lock_guard lock(mu_);
  // Before the guest starts, the mark is enough: it is looked at before any wasm runs.
  if (worker_) worker_->stop(shared_from_this());
}

std::string guest_control::stop_message() const {
  switch (stop_reason()) {
    case reason::none: return {};
    case reason::cancelled: return "cancelled";
    case reason::cpu_time: return "cpu time limit exceeded";
    case reason::wall_time: return "wall time limit exceeded";
    case reason::call_cancelled: return "cancelled";
    case reason::fuel: return "fuel exhausted";
  }
  return {};
}

uint64_t guest_control::begin_call() {
  std::lock_guard lock(call_mu_);
  in_call_ = true;
  return ++call_seq_;
}

void guest_control::end_call() {
  std::lock_guard lock(call_mu_);
  in_call_ = false;
  // Fuel stops the call that spends it: the next one stops at its first tick unless the
  // embedder has refilled the tank (instance::set_fuel).
  reason r = reason_.load();
  if (r == reason::call_cancelled || r == reason::fuel) reason_.compare_exchange_strong(r, reason::none);
}

void guest_control::cancel_call(uint64_t seq) {
  // Under call_mu_: the call cannot end (and the next begin) between the check and the stop.
  std::lock_guard lock(call_mu_);
  if (in_call_ && seq == call_seq_) request_stop(reason::call_cancelled);
}

void guest_control::attach(engine::worker* w, engine::guest* g) {
  std::lock_guard lock(mu_);
  worker_ = w;
  guest_ = g;
}

void guest_control::detach() {
  std::lock_guard lock(mu_);
  worker_ = nullptr;
  guest_ = nullptr;
}

}  // namespace wasio::detail
