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
    // Ends the guest as a time limit does: V8 stops its wasm once this call returns.
    g->control().request_stop(wasio::detail::guest_control::reason::fuel);
    return;
  }
  info.GetReturnValue().Set(static_cast<int32_t>(grant));
}

}  // namespace wasio::engine
