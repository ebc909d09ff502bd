#include "engine/loop_turns.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <optional>
#include <system_error>

namespace wasio::engine {

struct loop_turns::runner {
  std::condition_variable cv;
  bool turn = false;
  // Posted when its turn begins: the resume of the guest that was parked to give it the turn.
  std::function<void()> first;
  std::thread thread;  // none for the worker thread's
};

namespace {
// The runner of the calling thread (each thread takes turns at one worker's loop only).
thread_local void* current_runner = nullptr;
}  // namespace

loop_turns::loop_turns(asio::io_context& io, v8::Isolate* iso, std::function<void()> setup, size_t max_parked)
    : io_(io), iso_(iso), setup_(std::move(setup)), max_parked_(max_parked), main_(std::make_unique<runner>()) {
  current_runner = main_.get();
}

loop_turns::~loop_turns() {
  std::unique_lock lock(mu_);
  quitting_ = true;
  auto* me = static_cast<runner*>(current_runner);
  // Every added thread that has not ended waits as a spare: woken, it sees the loop stopped,
  // gives the turn back and ends.
  while (!spare_.empty()) {
    runner* r = spare_.back();
    spare_.pop_back();
    switch_to(lock, me, r);
  }
  lock.unlock();
  for (auto& r : added_) {
    if (r->thread.joinable()) r->thread.join();
  }
}

void loop_turns::switch_to(std::unique_lock<std::mutex>& lock, runner* me, runner* to) {
  to->turn = true;
  to->cv.notify_one();
  {
    // v8::Unlocker archives this thread's V8 state (its frames, handles, stack limit, pending
    // interrupts), and its end restores them once `to` has let go of the isolate. mu_ is not
    // held while the isolate is taken back: the thread that has it may want mu_ first.
    std::optional<v8::Unlocker> unlocked(std::in_place, iso_);
    me->cv.wait(lock, [me] { return me->turn; });
    me->turn = false;
    lock.unlock();
  }
  lock.lock();
}

void loop_turns::post_first(runner* r) {
  if (!r->first) return;
  // Through a timer that has expired, as a time-slice yield goes (op_runner's
  // time_slice_yield), then a post: the reactor looks at its timers and descriptors first, so
  // what became ready meanwhile (the timer of a sibling's sleep) runs before the parked guest
  // is resumed, and so does what that posts in turn (the sibling's driver, which resumes it);
  // a plain post would queue both behind the parked guest's next slice. The timer lives until
  // its handler has run, which the loop does before it can end (no guest is parked then).
  auto now = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::clock_type::now());
  now->async_wait([this, now, first = std::move(r->first)](const asio::error_code&) mutable {
    asio::post(io_, std::move(first));
  });
  r->first = nullptr;
}

bool loop_turns::park() {
  std::unique_lock lock(mu_);
  if (quitting_ || full()) return false;
  auto* me = static_cast<runner*>(current_runner);
  runner* next;
  if (!spare_.empty()) {
    next = spare_.back();
    spare_.pop_back();
  } else {
    auto r = std::make_unique<runner>();
    next = r.get();
    try {
      r->thread = std::thread([this, next] { run(next); });
    } catch (const std::system_error&) {
      return false;  // out of threads: the guest runs on
    }
    added_.push_back(std::move(r));
  }
  next->first = [this, me] { resume(me); };
  ++parked_;
  switch_to(lock, me, next);
  --parked_;
  return true;
}

void loop_turns::resume(runner* parked) {
  std::unique_lock lock(mu_);
  auto* me = static_cast<runner*>(current_runner);
  spare_.push_back(me);
  switch_to(lock, me, parked);
  // This thread's turn again: a park has it go on with the loop (its first post), or the loop
  // has stopped.
  post_first(me);
}

bool loop_turns::on_worker_thread() const { return current_runner == main_.get(); }

void loop_turns::return_to_worker_thread(std::function<void()> then) {
  std::unique_lock lock(mu_);
  auto* me = static_cast<runner*>(current_runner);
  runner* main = main_.get();
  std::erase(spare_, main);  // a spare: no guest is parked
  main->first = std::move(then);
  spare_.push_back(me);
  switch_to(lock, me, main);
  post_first(me);
}

void loop_turns::run(runner* r) {
  current_runner = r;
  std::unique_lock lock(mu_);
  r->cv.wait(lock, [r] { return r->turn; });
  r->turn = false;
  lock.unlock();
  v8::Locker locker(iso_);
  v8::Isolate::Scope scope(iso_);
  setup_();
  lock.lock();
  post_first(r);
  lock.unlock();
  io_.run();
  // The loop stopped, which it does only with no guest parked: the worker thread waits as a
  // spare (it gets the turn to end the loop there), or in ~loop_turns.
  lock.lock();
  runner* main = main_.get();
  if (!quitting_) {
    quitting_ = true;
    std::erase(spare_, main);
  }
  main->turn = true;
  main->cv.notify_one();
}

}  // namespace wasio::engine
