// The suspension seam: how a guest waits for a blocking WASI call without holding its worker.
//
// An import thunk hands the call's awaitable to block(). If the awaitable finishes at once (the
// common case: data already in the pipe, a write that fits), block() returns its errno and the
// guest goes on: no unwinding, no stack switch. If it would wait, the mode suspends the guest and
// the worker runs others until the awaitable completes.
//
// Three modes sit behind this interface. Nothing outside engine/ knows which one a guest uses.
//  - asyncify (asyncify.cpp): the module was rewritten by binaryen; the guest's wasm stack is
//    unwound into a buffer in its own memory and rewound later, on the worker's shared isolate.
//  - fiber (fiber.cpp): the unmodified guest runs on its own native stack and isolate; block()
//    switches stacks and returns the operation's result once it has completed.
//  - jspi (jspi.cpp): V8 suspends the guest's stack itself when a blocking import returns a
//    promise (hand_over), on the worker's shared isolate; nothing is rewound.
// How a guest is run to its end differs (run_asyncified, fiber_suspension::run_fiber,
// run_jspi); how its thunks block does not.
#pragma once
#include <v8.h>

#include <asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "async/idle.hpp"
#include "wasio/errno.hpp"
#include "wasio/host.hpp"

namespace wasio::engine {

class guest;

// How a guest's entry call ended.
struct run_end {
  enum class kind { returned, exited, trapped, stopped } how = kind::returned;
  uint32_t code = 0;    // exited
  std::string message;  // trapped, stopped
};

// One call of a guest's export from the host: made by the mode's driver, and in asyncify mode
// made again, with the same arguments, to rewind the guest into it.
struct export_call {
  const v8::Global<v8::Function>* fn = nullptr;  // the guest's, looked up once per name
  std::vector<value> args;
  std::vector<uint8_t> result_types;  // the export's, by binary encoding
  std::vector<value> results;         // set by take_results once it has returned

  v8::MaybeLocal<v8::Value> invoke(v8::Isolate* iso, v8::Local<v8::Context> ctx) const;
  // Decodes what `invoke` returned into `results`; false if it is not what the type says.
  bool take_results(v8::Local<v8::Context> ctx, v8::Local<v8::Value> v);
};

class suspension {
 public:
  virtual ~suspension() = default;

  // For a thunk: if the guest is being resumed into this call, the errno the call completed
  // with (the thunk returns it and does nothing else).
  virtual std::optional<int32_t> take_resumed() = 0;

  // For a thunk: start `op`. Returns its errno if it completed at once (or, in fiber mode, once
  // the guest was resumed); otherwise the guest is unwinding and the thunk's return value is
  // ignored. `idle`: the hook of the guest's memory while `op` waits (op_runner::start), for a
  // WASI call's operation, never an embedder's host function's.
  virtual std::optional<int32_t> block(asio::awaitable<errc> op, const std::shared_ptr<async::idle_hook>* idle = nullptr) = 0;

  // For a thunk, at the end of the guest's time slice: suspend the guest once (its siblings on
  // the worker run), then resume it into this same call, which take_resumed() followed by
  // take_yielded() tells the thunk to carry out then. True: the thunk returns at once (the
  // guest is unwinding, or was stopped during the yield). False: it goes on with the call now
  // (the guest cannot be suspended, or the mode yielded inside, as fiber mode does).
  virtual bool yield_now() = 0;
  // True (once) when the resumption take_resumed() reported was the end of such a yield.
  virtual bool take_yielded() = 0;

  // For a thunk whose block() returned nothing: in JSPI mode the guest suspends only once V8
  // gets the promise it waits on as the call's result, which this sets (true) on `rv`.
  virtual bool hand_over(v8::ReturnValue<v8::Value> rv) { return false; }
  // For a thunk whose call completed with `result` after yield_now() said to go on: in JSPI
  // mode the guest yields only now, in the call, which then returns `result` (true: `rv` got
  // the promise to wait on instead).
  virtual bool hand_over_later(v8::Local<v8::Value> result, v8::ReturnValue<v8::Value> rv) { return false; }
  // For a traced thunk whose call suspended the guest: in JSPI mode, which never re-enters the
  // thunk, `report` is called with the errno once the call has completed (its text, if any,
  // traps the guest). The other modes report when the guest is back in the thunk.
  virtual void report_when_done(std::function<std::optional<std::string>(int32_t)> report) {}
  // For an awaitable host function whose call suspended the guest: in JSPI mode, the call's
  // result once it has completed, made by `result` (or, if that sets its argument, the text the
  // guest traps with). The other modes deliver it when the guest is back in the callback.
  using host_result = std::function<v8::Local<v8::Value>(v8::Isolate*, std::optional<std::string>* trap)>;
  virtual void result_when_done(host_result result) {}

  // The guest's control asks it to stop: if it is suspended, cancel what it waits for and end
  // run() (with kind::stopped) once that has finished. Worker thread.
  virtual void interrupt() = 0;

  // Whether the guest, computing on the worker's shared isolate, may be parked on its thread now
  // (engine/loop_turns.hpp): only in its own code, not while a call of its is in flight (from
  // the operation's start to the end of its unwind and rewind, the handlers that run meanwhile
  // could act on a call the guest has not finished leaving: pack its memory while the wasm
  // that unwinds it still reads it).
  virtual bool parkable() const { return false; }
};

}  // namespace wasio::engine
