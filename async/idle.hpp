// Idle waits: the points where an operation waits for the outside world (a pipe or socket to
// become ready, a sleep) and touches no memory of its caller's until the wait ends.
//
// Whoever starts an operation may hand it a hook for the time of its start (idle_hook::starting):
// every idle_wait begun then tells the hook when the wait begins and when it has ended, before
// the operation goes on. The engine packs away the memory of a guest that waits long
// (engine/hibernation.hpp) and unpacks it in end(). An idle_wait begun later, as an operation
// resumes, has no hook: only what runs inline from the start is known to be that operation's.
#pragma once
#include <memory>
#include <utility>

namespace wasio::async {

class idle_hook {
 public:
  virtual void begin() noexcept = 0;  // a wait of the operation begins
  virtual void end() noexcept = 0;    // that wait is over: the operation may touch its memory

  // The hook of the operation being started on this thread (by starting_scope), or null.
  static const std::shared_ptr<idle_hook>* starting() noexcept { return starting_; }

  // Makes `h` the starting operation's hook for its scope (null: none, as for an operation
  // whose waits are not known to be idle).
  class starting_scope {
   public:
    explicit starting_scope(const std::shared_ptr<idle_hook>* h) noexcept : prev_(starting_) { starting_ = h; }
    ~starting_scope() { starting_ = prev_; }
    starting_scope(const starting_scope&) = delete;
    starting_scope& operator=(const starting_scope&) = delete;

   private:
    const std::shared_ptr<idle_hook>* prev_;
  };

 protected:
  ~idle_hook() = default;

 private:
  static inline thread_local const std::shared_ptr<idle_hook>* starting_ = nullptr;
};

// Brackets one idle wait: from its construction to end() (or its destruction, when the waiting
// coroutine is destroyed instead of resumed).
class idle_wait {
 public:
  idle_wait() {
    if (auto* h = idle_hook::starting(); h && *h) {
      hook_ = *h;
      hook_->begin();
    }
  }
  ~idle_wait() { end(); }
  void end() noexcept {
    if (hook_) std::exchange(hook_, nullptr)->end();
  }
  idle_wait(const idle_wait&) = delete;
  idle_wait& operator=(const idle_wait&) = delete;

 private:
  std::shared_ptr<idle_hook> hook_;
};

}  // namespace wasio::async
