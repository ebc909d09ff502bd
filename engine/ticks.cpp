#include "engine/ticks.hpp"

#include "engine/guest.hpp"
#include "engine/thunk.hpp"
#include "engine/worker.hpp"

namespace wasio::engine {

void tick(const v8::FunctionCallbackInfo<v8::Value>& info) {
  guest* g = current_guest;
  if (!g) {  // called outside a guest run (re-exported and called from JS): grant, count nothing
    info.GetReturnValue().Set(static_cast<int32_t>(kTickGrant));
    return;
  }
  // At the end of the time slice, yield here as a WASI call would: the guest unwinds now (its
  // value is then ignored) and is rewound into this call, which then goes on below, once.
  if (g->rewinding() || g->owner().preempt_due()) {
    suspension* s = g->suspender();
    if (s && detail::attend(*s).what == detail::attended::unwinding) return;
  }
  uint32_t grant = g->fuel().regrant();
  if (grant == 0) {
    // Stops the guest, as a time limit does: for good, or for an instance this call only
    // (guest_control::end_call). V8 looks at that termination only at its next check (a call
    // or a loop), so the exception ends the guest's wasm here, before it runs another tick's
    // worth; should the guest catch it (wasm exception handling catches JS exceptions), the
    // termination, which it cannot catch, follows.
    g->control().request_stop(wasio::detail::guest_control::reason::fuel);
    v8::Isolate* iso = info.GetIsolate();
    iso->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8Literal(iso, "fuel exhausted")));
    return;
  }
  info.GetReturnValue().Set(static_cast<int32_t>(grant));
}

}  // namespace wasio::engine
