#include "engine/fiber.hpp"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <optional>
#include <utility>

// GCC says ASan with __SANITIZE_ADDRESS__, clang (14 at least) only with __has_feature: the
// fuzzers' clang build left fiber stacks poisoned when they went back to the system, and V8's
// heap, mapped there later, was reported as a stack-buffer-underflow.
#if defined(__SANITIZE_ADDRESS__)
#define WASIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WASIO_ASAN 1
#endif
#endif
#ifdef WASIO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "engine/guest.hpp"
#include "engine/op_runner.hpp"
#include "engine/worker.hpp"

namespace wasio::engine {
namespace {

namespace ctx = boost::context;

// The guest's native stack: virtual memory, committed as it is touched, with a guard page.
// Deep enough for compilers' and interpreters' recursion; V8 is told to stop 256 KiB short of
// the end, so that a runaway recursion is a RangeError, not a fault.
constexpr size_t kStackSize = 16u << 20;
constexpr size_t kStackMargin = 256u << 10;

// protected_fixedsize_stack, made clean for AddressSanitizer: a new stack often lands where an
// ended fiber's was, and ASan, which does not see fibers switch, would still hold that fiber's
// stack redzones there (false "stack-buffer-underflow" reports). Without ASan it is the plain
// allocator.
//
// And kept for the guest's next fiber: an instance's every export call runs on a fiber of its
// own, and mapping a 16 MiB stack with its guard page and unmapping it cost ~20 us a call.
class stack_cache {
 public:
  explicit stack_cache(size_t size) : alloc_(size) {}
  ~stack_cache() {
    if (kept_) {
      clean(*kept_);
      alloc_.deallocate(*kept_);
    }
  }
  ctx::stack_context allocate() {
    ctx::stack_context s = kept_ ? *std::exchange(kept_, std::nullopt) : alloc_.allocate();
    clean(s);
    return s;
  }
  void deallocate(ctx::stack_context& s) noexcept {
    if (kept_) {
      clean(s);
      alloc_.deallocate(s);
    } else {
      kept_ = s;
    }
  }

 private:
  static void clean([[maybe_unused]] const ctx::stack_context& s) {
#ifdef WASIO_ASAN
    __asan_unpoison_memory_region(static_cast<char*>(s.sp) - s.size, s.size);
#endif
  }
  ctx::protected_fixedsize_stack alloc_;
  std::optional<ctx::stack_context> kept_;
};

// The allocator a fiber is made with: its guest's cache.
class guest_stack {
 public:
  explicit guest_stack(stack_cache& c) : cache_(&c) {}
  ctx::stack_context allocate() { return cache_->allocate(); }
  void deallocate(ctx::stack_context& s) noexcept { cache_->deallocate(s); }

 private:
  stack_cache* cache_;
};

class fiber_mode final : public fiber_suspension {
 public:
  explicit fiber_mode(guest& g) : g_(g), ops_(g.owner().io()) {}

  // The fiber always runs to its end here: one destroyed midway would unwind V8's frames with
  // an exception.
  asio::awaitable<void> run_fiber(std::function<void()> body) override {
    bool finished = false;
    fiber_ = ctx::fiber(std::allocator_arg, guest_stack(stacks_),
                        [this, &body, &finished](ctx::fiber&& sink) {
                          sink_ = std::move(sink);
                          // The frame's own address, not a local's: ASan may keep locals on a
                          // fake stack elsewhere (detect_stack_use_after_return).
                          auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
                          stack_floor_ = here - kStackSize + kStackMargin;
                          body();
                          finished = true;
                          return std::move(sink_);
                        });
    for (;;) {
      fiber_ = std::move(fiber_).resume();  // runs the guest until it blocks or ends
      if (finished) break;
      // Blocked in block() with an operation in flight. A stop request cancels it; the guest
      // is resumed either way and sees the stop there.
      while (!ops_.done()) {
        if (g_.control().stop_requested()) ops_.cancel();
        co_await ops_.wait();
      }
    }
  }

  void bind_isolate(v8::Isolate* iso) override {
    iso_ = iso;
    iso->SetStackLimit(stack_floor_);
  }

  std::optional<int32_t> take_resumed() override { return std::nullopt; }  // never rewound

  std::optional<int32_t> block(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle) override {
    if (auto v = ops_.start(std::move(op), idle)) return v;
    switch_out();
    if (g_.control().stop_requested()) {
      iso_->TerminateExecution();  // unwinds the guest's wasm; run_fiber reports it stopped
      return std::nullopt;
    }
    return ops_.value();
  }

  // A time-slice yield switches out and back in the call itself: there is nothing to unwind, so
  // the thunk carries on with the call (false), unless the guest was stopped meanwhile (true:
  // the thunk returns at once, and V8 ends the guest).
  bool yield_now() override {
    g_.owner().clear_preempt();
    return !block(time_slice_yield(), nullptr).has_value();
  }
  bool take_yielded() override { return false; }

  void interrupt() override { ops_.nudge(); }

 private:
  // Leaves the guest's segment and isolate, switches to run_fiber, and comes back into both.
  void switch_out() {
    guest* running = current_guest;
    g_.owner().leave();
    current_guest = nullptr;
    iso_->Exit();
    sink_ = std::move(sink_).resume();
    iso_->Enter();
    iso_->SetStackLimit(stack_floor_);
    current_guest = running;
    g_.owner().enter(&g_.control(), iso_);
  }

  guest& g_;
  op_runner ops_;
  stack_cache stacks_{kStackSize};  // declared before fiber_: it outlives the fiber's stack
  ctx::fiber fiber_;  // the guest's stack, seen from run_fiber
  ctx::fiber sink_;   // run_fiber's, seen from the guest
  uintptr_t stack_floor_ = 0;
  v8::Isolate* iso_ = nullptr;
};

}  // namespace

std::unique_ptr<fiber_suspension> make_fiber_suspension(guest& g) { return std::make_unique<fiber_mode>(g); }

}  // namespace wasio::engine
