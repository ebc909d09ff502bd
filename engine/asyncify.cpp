// Asyncify suspension: the guest's wasm stack is unwound into a buffer in its own memory when a
// call must wait, and rewound when the wait is over (binaryen's asyncify protocol:
// https://github.com/WebAssembly/binaryen/blob/main/src/passes/Asyncify.cpp).
//
// The buffer is the free part of the guest's shadow stack, from the bottom of the stack's region
// (module_data::stack_floor) up to the stack pointer: space the guest's own code does not use
// from the unwind until the rewind ends. When the guest blocks deeper than that free part could
// hold, the buffer is borrowed from the end of its memory instead: the host keeps the guest's
// own bytes there while the guest unwinds into them. Either way the unwind data waits on the
// host, not in guest memory, since the call being waited for may write wherever the guest
// pointed it, the free stack included; around the rewind the host keeps the guest's bytes under
// the data and puts them back when it ends, so the call's outputs are where the guest asked for
// them (elsewhere, the free stack holds what the unwind left: nothing of the guest's lives there).
// Only the worker thread touches guest memory (file transfers done elsewhere go through a host
// buffer: async/file_io.cpp), so nothing else writes there meanwhile; and an unwind larger than
// the borrowed part runs off the end of memory and traps, never over unsaved bytes. Memory
// grown by the host is not safe, because wasi-libc's malloc owns everything from __heap_base to
// the end of memory (ENGINE-FACTS.md), and growing may move a memory V8 could not reserve in
// full; a module whose global 0 is not a stack pointer is never unwound
// (asyncify_rewrite.cpp's find_stack_pointer).
#include "engine/asyncify.hpp"

#include <algorithm>
#include <vector>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "engine/guest.hpp"
#include "engine/module.hpp"
#include "engine/op_runner.hpp"
#include "engine/worker.hpp"
#include "wasio/as_tuple.hpp"

namespace wasio::engine {
namespace {

// Asyncify saves a few dozen bytes per frame on the path to the import (16-120 bytes seen for
// C guests). Binaryen checks the buffer's end only when the unwind starts and stops, so an
// unwind that overflows has written over the live stack above it: caught after, as a trap.
constexpr uint32_t kHeader = 8;        // {u32 current, u32 end}
constexpr uint32_t kMinBuffer = 256;  // less room than this: no room to suspend
// The free stack is used when it is at least as large as the native stack the guest's frames
// take (about 5x the unwind data for C frames: 144 native bytes against 28 per frame of
// tests/guests/deep_block.h), else the buffer is borrowed, at least this large.
constexpr uint32_t kMinBorrowed = 64 * 1024;

// An address on the native stack: the distance between two is the native stack the wasm frames
// between them take (asyncify mode runs guests on the worker thread's own stack).
[[gnu::always_inline]] inline uintptr_t native_sp() { return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)); }

// Calls one of the asyncify control exports. They only set globals; a failure means the
// isolate is terminating, which the caller's TryCatch reports.
bool call_control(v8::Isolate* iso, const v8::Global<v8::Function>& f, std::optional<uint32_t> arg = {}) {
  auto ctx = iso->GetCurrentContext();
  v8::Local<v8::Value> a;
  if (arg) a = v8::Integer::NewFromUnsigned(iso, *arg);
  return !f.Get(iso)->Call(ctx, v8::Undefined(iso), arg ? 1 : 0, arg ? &a : nullptr).IsEmpty();
}

class asyncify_suspension final : public suspension {
 public:
  asyncify_suspension(guest& g, bool can_unwind)
      : g_(g), can_unwind_(can_unwind), ops_(g.owner().io()) {}

  bool bind(v8::Local<v8::Context> ctx, v8::Local<v8::Object> ex, std::string* why) {
    if (!can_unwind_) return true;
    v8::Isolate* iso = ctx->GetIsolate();
    auto fn = [&](v8::Global<v8::Function>& dst, const char* name) {
      v8::Local<v8::Value> v;
      if (!ex->Get(ctx, g_.name(name)).ToLocal(&v) || !v->IsFunction()) {
        *why = std::string("asyncified module lacks export ") + name;
        return false;
      }
      dst.Reset(iso, v.As<v8::Function>());
      return true;
    };
    v8::Local<v8::Value> sp;
    if (!ex->Get(ctx, g_.name("__stack_pointer")).ToLocal(&sp) || !sp->IsObject()) {
      *why = "asyncified module lacks the __stack_pointer export";
      return false;
    }
    stack_pointer_.Reset(iso, sp.As<v8::Object>());
    return fn(start_unwind_, "asyncify_start_unwind") && fn(stop_unwind_, "asyncify_stop_unwind") &&
           fn(start_rewind_, "asyncify_start_rewind") && fn(stop_rewind_, "asyncify_stop_rewind");
  }

  std::optional<int32_t> take_resumed() override {
    if (state_ != state::rewinding) return std::nullopt;
    call_control(g_.isolate(), stop_rewind_);
    state_ = state::running;
    g_.set_rewinding(false);
    give_back();
    return resumed_value_;
  }

  void interrupt() override { ops_.nudge(); }

  bool parkable() const override { return state_ == state::running && ops_.done(); }

  bool yield_now() override {
    g_.owner().clear_preempt();  // asked once per slice, whether or not the guest can yield
    // A module asyncified by its producer may unwind only at the imports it chose; a guest
    // whose stack has no room for the unwind buffer runs on rather than trap for a yield.
    if (!can_unwind_ || !g_.module().unwinds_at_every_import || !buffer_place()) return false;
    yielded_ = true;
    if (block(time_slice_yield(), nullptr)) {  // completed at once: cannot happen (a post), but then go on
      yielded_ = false;
      return false;
    }
    return true;
  }

  bool take_yielded() override {
    bool y = yielded_;
    yielded_ = false;
    return y;
  }

  std::optional<int32_t> block(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle) override {
    // Told to unwind, the guest has gone on and made another call instead: its instrumentation
    // does not cover the path to the call it was suspended in (a module asyncified by its
    // producer, which may be broken or hostile: its asyncify exports may do nothing). A second
    // operation for one guest must not start: the guest ends here, trapped.
    if (state_ == state::unwinding || !ops_.done()) {
      v8::Isolate* iso = g_.isolate();
      iso->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8Literal(
          iso, "the guest went on instead of unwinding (its asyncify instrumentation does not reach this call)")));
      return std::nullopt;
    }
    // The operation runs inline up to its first real wait, so a call that need not wait is
    // complete when start returns (the fast path).
    if (auto v = ops_.start(std::move(op), idle)) return v;
    if (!can_unwind_) {
      // Cannot happen for loaded modules (load refuses blocking imports without a stack
      // pointer); kept as a guard: the guest sees EAGAIN instead of a corrupted stack.
      return static_cast<int32_t>(errc::again);
    }
    start_unwind();
    return std::nullopt;
  }

  // The call, driven to its end: the guest's wasm runs until it returns or unwinds, the host
  // waits for the operation it unwound for, and rewinds it, as often as it blocks. Only the
  // waits are in this coroutine: its frame is kept for as long as the guest is suspended, and
  // GCC keeps every local of a coroutine (handle scopes, a TryCatch) in its frame, so the rest
  // is in plain functions (enter, resume).
  asio::awaitable<run_end> run(export_call& call) {
    // A call that does not return (a trap, a stop) leaves the stack pointer where its deepest
    // frame had it: restored, so that an instance's next call does not start lower each time.
    std::optional<uint32_t> sp_before = stack_pointer();
    for (;;) {
      std::optional<run_end> end = enter(call);
      // Suspended, or ending with an operation still in flight (it may be writing into the
      // guest's memory): wait for it. A stop request cancels it first.
      while (!ops_.done()) {
        if (g_.control().stop_requested() || end) ops_.cancel();
        co_await ops_.wait();
      }
      if (!end) end = resume();
      if (!end) continue;
      if (end->how != run_end::kind::returned && end->how != run_end::kind::exited && sp_before) {
        v8::HandleScope hs(g_.isolate());
        v8::Context::Scope cs(g_.context());
        set_stack_pointer(*sp_before);
      }
      co_return std::move(*end);
    }
  }

 private:
  // Runs the guest's wasm (from the start, or rewinding): how the call ended, or nullopt when
  // the guest unwound to wait.
  std::optional<run_end> enter(export_call& call) {
    v8::Isolate* iso = g_.isolate();
    v8::HandleScope hs(iso);
    auto ctx = g_.context();
    v8::Context::Scope cs(ctx);
    v8::TryCatch control_calls(iso);  // stop_unwind below fails only as the isolate terminates
    v8::Local<v8::Value> r;
    native_top_ = native_sp();
    std::optional<run_end> end = g_.invoke(call, &r);
    if (end && state_ != state::running) {
      // Ended in the middle of an unwind or a rewind (a trap, a stop): asyncify's state is
      // reset for the instance's next call, and borrowed bytes are the guest's again.
      call_control(iso, state_ == state::unwinding ? stop_unwind_ : stop_rewind_);
      g_.set_rewinding(false);
      give_back();
    }
    if (end || state_ != state::unwinding) {
      state_ = state::running;
      if (!end) {
        end = run_end{};
        if (!call.take_results(ctx, r)) {
          end = run_end{run_end::kind::trapped, 0, "the export returned values of other types than its own"};
        }
      }
      return end;
    }
    bool stopped = call_control(iso, stop_unwind_);
    state_ = state::running;
    auto cur = g_.memory().load<uint32_t>(buffer_);
    if (!stopped || !cur || cur.value() > buffer_end_ || cur.value() < buffer_ + kHeader) {
      give_back();
      return run_end{run_end::kind::trapped, 0,
                     "the guest's stack has no room to suspend it here (asyncify buffer overflow)"};
    }
    // The unwind data goes to the host for the wait: the call the guest waits in may write its
    // outputs anywhere the guest pointed it, the free stack included (a hostile guest's, or an
    // embedder's host function's), and must neither break the rewind nor be undone by it. A
    // borrowed buffer's bytes are the guest's again at once (as far as the unwind wrote).
    auto data = g_.memory().bytes(buffer_, cur.value() - buffer_).value();
    unwound_.assign(data.begin(), data.end());
    if (borrowed_) {
      kept_.resize(unwound_.size());
      give_back();
    }
    return std::nullopt;
  }

  // After the wait: the rewind started, or how the call ends instead (stopped, or the rewind
  // cannot start).
  std::optional<run_end> resume() {
    if (g_.control().stop_requested()) {
      unwound_ = {};
      return run_end{run_end::kind::stopped, 0, {}};
    }
    resumed_value_ = ops_.value();
    v8::Isolate* iso = g_.isolate();
    v8::HandleScope hs(iso);
    v8::Context::Scope cs(g_.context());
    // Borrowed for the rewind, as far as the data goes: what the call wrote there is the guest's
    // again once the rewind ends (take_resumed).
    std::copy(unwound_.begin(), unwound_.end(), borrow(unwound_.size()).begin());
    unwound_ = {};  // not held while the guest runs: a deep one's may be megabytes
    if (!call_control(iso, start_rewind_, buffer_)) {
      give_back();
      return run_end{run_end::kind::trapped, 0, "asyncify rewind failed"};
    }
    state_ = state::rewinding;
    g_.set_rewinding(true);
    return std::nullopt;
  }

  enum class state { running, unwinding, rewinding };

  std::optional<uint32_t> stack_pointer() {
    if (stack_pointer_.IsEmpty()) return std::nullopt;
    v8::Isolate* iso = g_.isolate();
    v8::HandleScope hs(iso);
    auto ctx = g_.context();
    v8::Context::Scope cs(ctx);
    v8::Local<v8::Value> v;
    if (!stack_pointer_.Get(iso)->Get(ctx, g_.name("value")).ToLocal(&v)) return std::nullopt;
    return v->Uint32Value(ctx).FromMaybe(0);
  }
  void set_stack_pointer(uint32_t sp) {
    v8::Isolate* iso = g_.isolate();
    // A failure means the isolate is terminating: the guest is being stopped anyway.
    stack_pointer_.Get(iso)->Set(g_.context(), g_.name("value"), v8::Integer::NewFromUnsigned(iso, sp)).FromMaybe(false);
  }

  // Where the unwind buffer goes: [floor, stack pointer), the stack's free part, when it is at
  // least as large as the native stack the guest's frames take; else borrowed, the end of
  // memory (at most all of it); nullopt when the pointer cannot be read (V8 is terminating the
  // guest) or memory is too small.
  struct buffer_span {
    uint32_t base, end;
    bool borrowed;
  };
  std::optional<buffer_span> buffer_place() {
    v8::Isolate* iso = g_.isolate();
    auto ctx = iso->GetCurrentContext();
    v8::Local<v8::Value> v;
    if (!stack_pointer_.Get(iso)->Get(ctx, g_.name("value")).ToLocal(&v)) return std::nullopt;
    uint32_t sp = v->Uint32Value(ctx).FromMaybe(0) & ~15u;
    uint32_t floor = g_.module().stack_floor;
    uint64_t native = native_top_ > native_sp() ? native_top_ - native_sp() : 0;
    uint32_t free = sp > floor ? sp - floor : 0;
    if (free >= kMinBuffer && free >= native) return buffer_span{floor, sp, false};
    uint64_t size = g_.memory().size() & ~uint64_t{15};
    uint64_t want = std::min<uint64_t>(std::max<uint64_t>(native, kMinBorrowed), size);
    if (want < kMinBuffer || size > (uint64_t{1} << 32) - 16) {
      if (free >= kMinBuffer) return buffer_span{floor, sp, false};
      return std::nullopt;
    }
    return buffer_span{static_cast<uint32_t>(size - want), static_cast<uint32_t>(size), true};
  }

  // Keeps the guest's bytes [buffer_, + len) in kept_ while the host uses them; all of them in
  // memory (the buffer was placed there).
  std::span<std::byte> borrow(size_t len) {
    auto place = g_.memory().bytes(buffer_, len).value();
    kept_.assign(place.begin(), place.end());
    borrowed_ = true;
    return place;
  }

  // Borrowed bytes back to the guest: all that was kept (after a failed unwind, or the rewind),
  // or as far as the unwind wrote.
  void give_back() {
    if (!borrowed_) return;
    borrowed_ = false;
    auto place = g_.memory().bytes(buffer_, kept_.size());
    if (place) std::copy(kept_.begin(), kept_.end(), place.value().begin());
    kept_ = {};  // not held while the guest waits: a deep one's may be megabytes
  }

  void start_unwind() {
    v8::Isolate* iso = g_.isolate();
    if (iso->IsExecutionTerminating()) return;  // the guest is being stopped: no unwind
    // A stack that is nearly full leaves no room: the guest traps (as it would on its next call
    // anyway) instead of overwriting its data.
    auto place = buffer_place();
    guest_memory m = g_.memory();
    if (!place) {
      iso->ThrowException(v8::Exception::RangeError(
          v8::String::NewFromUtf8Literal(iso, "no stack space left to suspend the guest")));
      return;
    }
    buffer_ = place->base;
    buffer_end_ = place->end;
    borrowed_ = false;
    if (place->borrowed) borrow(place->end - place->base);
    (void)m.store<uint32_t>(place->base, place->base + kHeader);
    (void)m.store<uint32_t>(place->base + 4, place->end);
    if (call_control(iso, start_unwind_, buffer_)) {
      state_ = state::unwinding;
    } else {
      give_back();
    }
  }

  guest& g_;
  bool can_unwind_;
  state state_ = state::running;
  uint32_t buffer_ = 0, buffer_end_ = 0;  // the unwind buffer in use: its header, its end
  bool borrowed_ = false;                 // it is borrowed, and kept_ holds the guest's bytes
  std::vector<std::byte> kept_;           // the guest's own bytes where the buffer is borrowed
  std::vector<std::byte> unwound_;        // the unwind data, while the guest is suspended
  uintptr_t native_top_ = 0;              // the native stack where the driver entered the guest
  int32_t resumed_value_ = 0;
  op_runner ops_;
  bool yielded_ = false;  // the suspension in progress is a time-slice yield
  v8::Global<v8::Function> start_unwind_, stop_unwind_, start_rewind_, stop_rewind_;
  v8::Global<v8::Object> stack_pointer_;
};

}  // namespace

asio::awaitable<run_end> run_asyncified(suspension& s, export_call& call) {
  return static_cast<asyncify_suspension&>(s).run(call);
}

std::unique_ptr<suspension> make_asyncify_suspension(guest& g, v8::Local<v8::Context> ctx,
                                                     v8::Local<v8::Object> exports,
                                                     std::string* why) {
  const auto& m = g.module();
  auto s = std::make_unique<asyncify_suspension>(g, m.asyncified && m.has_stack_pointer);
  if (!s->bind(ctx, exports, why)) return nullptr;
  return s;
}

}  // namespace wasio::engine
