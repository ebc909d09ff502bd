// JSPI suspension. A blocking thunk starts its operation; if it completes at once, the errno
// goes back to wasm as usual. Otherwise the thunk returns a promise (suspension::hand_over), the
// suspending import wrapper suspends the guest's stack, and the promising export the driver
// called returns a promise of the export's result. When the operation completes, the driver
// resolves the thunk's promise with the errno and runs the isolate's microtasks: the guest
// continues inside that checkpoint until it returns or suspends again. One guest's promise is
// resolved and its reactions run before any other's, so a checkpoint resumes that guest alone
// (the vm's microtask policy is explicit, and nothing else makes promises).
//
// What V8 11.3 does (measured; its src/wasm/wasm-js.cc): the promising export returns its plain
// result when the guest never suspended, throws when it trapped before suspending, and else
// returns a promise that rejects with the trap; a stack that is never resumed is dropped with
// its promise (a stopped guest).
#include "engine/jspi.hpp"

#include <utility>

#include "engine/guest.hpp"
#include "engine/module.hpp"
#include "engine/op_runner.hpp"
#include "engine/worker.hpp"

namespace wasio::engine {
namespace {

class jspi_suspension final : public suspension {
 public:
  explicit jspi_suspension(guest& g) : g_(g), ops_(g.owner().io()) {}

  // Nothing is ever rewound: a resumed guest gets the errno as the import's result.
  std::optional<int32_t> take_resumed() override { return std::nullopt; }
  bool take_yielded() override { return false; }
  void interrupt() override { ops_.nudge(); }

  // At the end of a slice the call at hand is carried out, and the guest then yields in it
  // (hand_over_later): every import is a suspending one when the runtime has time slices
  // (the rewrite listed them all, unwinds_at_every_import), only the blocking ones otherwise.
  bool yield_now() override {
    g_.owner().clear_preempt();
    yield_after_ = g_.module().jspi && g_.module().unwinds_at_every_import;
    return false;
  }

  bool hand_over_later(v8::Local<v8::Value> result, v8::ReturnValue<v8::Value> rv) override {
    if (!std::exchange(yield_after_, false) || !ops_.done() || !pending_.IsEmpty()) return false;
    if (ops_.start(time_slice_yield())) return false;  // cannot happen: the yield waits a turn
    if (!make_pending()) return false;
    result_.Reset(g_.isolate(), result);
    return hand_over(rv);
  }

  std::optional<int32_t> block(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle) override {
    v8::Isolate* iso = g_.isolate();
    if (!ops_.done() || !pending_.IsEmpty()) {  // cannot happen: the guest is suspended meanwhile
      iso->ThrowException(v8::Exception::Error(
          v8::String::NewFromUtf8Literal(iso, "a second blocking call while the first is pending")));
      return std::nullopt;
    }
    if (auto v = ops_.start(std::move(op), idle)) return v;
    yield_after_ = false;  // the guest yields now anyway
    if (!make_pending()) return static_cast<int32_t>(errc::canceled);
    return std::nullopt;
  }

  void report_when_done(std::function<std::optional<std::string>(int32_t)> report) override {
    report_ = std::move(report);
  }
  void result_when_done(host_result result) override { host_result_ = std::move(result); }

  bool hand_over(v8::ReturnValue<v8::Value> rv) override {
    if (pending_.IsEmpty()) return false;
    rv.Set(pending_.Get(g_.isolate())->GetPromise());
    return true;
  }

  asio::awaitable<run_end> run(export_call& call) {
    v8::Isolate* iso = g_.isolate();
    v8::Global<v8::Promise> outer;  // the export's, while the guest is suspended
    std::optional<run_end> end;
    {
      v8::HandleScope hs(iso);
      auto ctx = g_.context();
      v8::Context::Scope cs(ctx);
      v8::Local<v8::Value> v;
      end = g_.invoke(call, &v);
      memory_pool::stack_made(iso, jspi_stack_bytes());  // the call's stack, off V8's count
      if (!end) {
        if (v->IsPromise() && !pending_.IsEmpty()) {
          outer.Reset(iso, v.As<v8::Promise>());
        } else {
          end = returned(ctx, call, v);
        }
      }
    }
    while (!end) {
      while (!ops_.done()) {
        if (g_.control().stop_requested()) ops_.cancel();
        co_await ops_.wait();
      }
      if (g_.control().stop_requested()) {
        end = run_end{run_end::kind::stopped, 0, {}};
        break;
      }
      v8::HandleScope hs(iso);
      auto ctx = g_.context();
      v8::Context::Scope cs(ctx);
      v8::TryCatch tc(iso);
      auto resolver = pending_.Get(iso);
      pending_.Reset();
      {
        guest_segment running(&g_);
        int32_t err = ops_.value();
        std::optional<std::string> failed;
        if (auto report = std::exchange(report_, nullptr)) failed = report(err);
        // The call's errno; after a yield, the result the call had; a host function's result.
        v8::Local<v8::Value> result = result_.IsEmpty() ? v8::Integer::New(iso, err).As<v8::Value>() : result_.Get(iso);
        result_.Reset();
        if (auto host = std::exchange(host_result_, nullptr)) result = host(iso, &failed);
        auto settled = failed ? resolver->Reject(ctx, v8::Exception::Error(
                                                          v8::String::NewFromUtf8(iso, failed->c_str()).ToLocalChecked()))
                              : resolver->Resolve(ctx, result);
        if (settled.FromMaybe(false)) iso->PerformMicrotaskCheckpoint();
      }
      end = g_.call_ended(tc, tc.HasCaught() || tc.HasTerminated());
      if (end) break;
      auto p = outer.Get(iso);
      switch (p->State()) {
        case v8::Promise::kPending:
          if (pending_.IsEmpty()) end = run_end{run_end::kind::trapped, 0, "the guest waits on something not wasio's"};
          break;
        case v8::Promise::kFulfilled: end = returned(ctx, call, p->Result()); break;
        case v8::Promise::kRejected: {
          v8::String::Utf8Value text(iso, p->Result());
          end = run_end{run_end::kind::trapped, 0, *text ? *text : "unknown exception"};
          break;
        }
      }
    }
    // Ending while suspended (stopped, or V8 terminating it): the operation may be writing into
    // the guest's memory; it ends first. The suspended stack goes with its promises.
    while (!ops_.done()) {
      ops_.cancel();
      co_await ops_.wait();
    }
    pending_.Reset();
    result_.Reset();
    report_ = nullptr;
    host_result_ = nullptr;
    co_return *end;
  }

 private:
  // A promise for the guest to wait on (pending_), handed to V8 by hand_over. False when V8 is
  // terminating the guest: the operation is cancelled, and run() waits for it as the guest ends.
  bool make_pending() {
    v8::Isolate* iso = g_.isolate();
    v8::Local<v8::Promise::Resolver> r;
    if (!v8::Promise::Resolver::New(iso->GetCurrentContext()).ToLocal(&r)) {
      ops_.cancel();
      return false;
    }
    pending_.Reset(iso, r);
    return true;
  }

  static run_end returned(v8::Local<v8::Context> ctx, export_call& call, v8::Local<v8::Value> v) {
    // An export without results returns 0 through binaryen's wrapper (V8 bug 13231's workaround).
    if (call.result_types.empty() || call.take_results(ctx, v)) return run_end{};
    return run_end{run_end::kind::trapped, 0, "the export returned values of other types than its own"};
  }

  guest& g_;
  op_runner ops_;
  v8::Global<v8::Promise::Resolver> pending_;  // what the suspended guest waits on
  v8::Global<v8::Value> result_;               // with a yield: the result the call had
  std::function<std::optional<std::string>(int32_t)> report_;  // its call's trace, if traced
  host_result host_result_;                                    // its call's, if a host function's
  bool yield_after_ = false;
};

}  // namespace

std::unique_ptr<suspension> make_jspi_suspension(guest& g) { return std::make_unique<jspi_suspension>(g); }

asio::awaitable<run_end> run_jspi(suspension& s, export_call& call) {
  return static_cast<jspi_suspension&>(s).run(call);
}

}  // namespace wasio::engine
