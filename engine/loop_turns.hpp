// loop_turns: the threads that take turns at a worker's loop, so that a guest computing on the
// worker's shared isolate without any WASI call can be parked where it is, at the end of its
// time slice, while the loop goes on (docs/why-parking.md).
//
// Exactly one of them runs at a time, holding the isolate's v8::Locker; each of the others waits
// where it gave up its turn: inside a parked guest's V8 interrupt, or inside the loop handler
// that gave its turn to a parked guest (a spare, which a later park wakes to go on with the
// loop). V8 keeps each thread's frames and state apart (v8::Unlocker archives them), which a
// second stack on one thread could not have.
#pragma once
#include <v8.h>

#include <asio/io_context.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace wasio::engine {

class loop_turns {
 public:
  // Made on the thread that runs `io` and holds `iso`'s v8::Locker (the worker thread). Each
  // thread it adds calls `setup` once it holds the isolate (its stack limit). At most
  // `max_parked` guests are parked at once: each holds a thread.
  loop_turns(asio::io_context& io, v8::Isolate* iso, std::function<void()> setup, size_t max_parked);
  // On the worker thread, once its io.run() has returned (the loop stopped, so no guest is
  // parked): ends the threads it added.
  ~loop_turns();
  loop_turns(const loop_turns&) = delete;
  loop_turns& operator=(const loop_turns&) = delete;

  // On the thread whose turn it is, inside the running guest's V8 interrupt: another thread goes
  // on with the loop, and this one returns when its turn comes again, by a post queued behind
  // what the loop has ready now. False (at once): no thread could be had.
  bool park();
  size_t parked() const { return parked_; }  // on the thread whose turn it is
  bool full() const { return parked_ >= max_parked_; }
  // Whether the calling thread is the worker thread (the loop may be on another one also with
  // no guest parked: the one that resumed the last).
  bool on_worker_thread() const;
  // From a loop handler on another thread, with no guest parked: the worker thread takes the
  // loop back, and posts `then` there; this thread waits as a spare.
  void return_to_worker_thread(std::function<void()> then);

 private:
  struct runner;
  // Gives the turn to `to`, and waits for this thread's next turn without the isolate.
  void switch_to(std::unique_lock<std::mutex>& lock, runner* me, runner* to);
  void resume(runner* parked);  // a loop handler: gives the turn back to a parked guest's thread
  void run(runner* r);          // an added thread's body
  void post_first(runner* r);

  asio::io_context& io_;
  v8::Isolate* iso_;
  std::function<void()> setup_;
  size_t max_parked_;
  size_t parked_ = 0;
  std::mutex mu_;
  std::unique_ptr<runner> main_;                  // the worker thread's
  std::vector<std::unique_ptr<runner>> added_;    // threads of its own
  std::vector<runner*> spare_;                    // waiting inside a handler, to go on with the loop
  bool quitting_ = false;
};

}  // namespace wasio::engine
