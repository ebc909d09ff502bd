// Import thunks: the glue between V8's calling convention and a WASI function in host types.
//
// A thunk is an ordinary C++ function whose parameters are the wasm parameters (uint32_t for
// i32, uint64_t for i64) after a `call` giving it the guest:
//     errc clock_time_get(call c, uint32_t id, uint64_t precision, uint32_t out_ptr);
// It decodes guest pointers through c.mem (fault when out of range), calls the WASI function and
// encodes the results. A thunk that can block returns asio::awaitable<errc> and is handed to the
// guest's suspension mode. v8_callback turns either kind into a V8 FunctionCallback, so a
// table row is just row<"name", &fn>(), which the compiler checks against the function's row in
// src/wasi/functions.hpp.
#pragma once
#include <v8.h>

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/guest.hpp"
#include "engine/imports.hpp"
#include "engine/memory.hpp"
#include "engine/worker.hpp"
#include "src/wasi/functions.hpp"
#include "wasio/errno.hpp"

namespace wasio::engine {

// What a thunk knows of its caller. Copied into blocking thunks' coroutine frames, so it holds
// no V8 handles. A blocking thunk decodes guest memory before it first suspends: the guest
// cannot grow its memory while suspended, so the spans stay valid.
struct call {
  guest* g;  // one pointer: passed in a register
  guest_memory mem() const { return g->memory(); }
  wasi::context& ctx() const { return g->wasi(); }
};

namespace detail {

inline uint32_t u32_at(const v8::FunctionCallbackInfo<v8::Value>& info, int i) {
  v8::Local<v8::Value> v = info[i];
  // An i32 is almost always a Smi: read it inline, as V8's own inline accessors do, instead of
  // two calls into libnode (IsInt32, Int32::Value). This is the hot path of every import.
  using v8::internal::Address;
  using v8::internal::Internals;
  Address raw = *reinterpret_cast<const Address*>(*v);
  if (!Internals::HasHeapObjectTag(raw)) return static_cast<uint32_t>(Internals::SmiValue(raw));
  if (v->IsNumber()) return static_cast<uint32_t>(static_cast<int64_t>(v.As<v8::Number>()->Value()));
  return 0;  // a guest that declared the import with other types gets zeros, not a host crash
}

// Reads the next wasm parameter of type T at argument `k` and advances `k`. An i64 comes as a
// BigInt (V8's JS-BigInt integration), or, in modules whose imports binaryen legalized (the
// rewrite does it to spare a BigInt allocation per call), as two i32 halves, low first.
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// A trailing std::optional<uint32_t> parameter is absent (nullopt) when the guest imported the
// function with fewer parameters: V8 passes `undefined` for them. It lets one thunk serve two
// versions of an ABI that differ in their parameter count (the WasmEdge socket extension's).
template <class T>
T next_arg(const v8::FunctionCallbackInfo<v8::Value>& info, int& k) {
  if constexpr (is_optional<T>::value) {
    if (info[k]->IsUndefined()) {
      ++k;
      return std::nullopt;
    }
    return next_arg<typename T::value_type>(info, k);
  } else if constexpr (sizeof(T) == 8) {
    v8::Local<v8::Value> v = info[k];
    if (v->IsBigInt()) {
      ++k;
      return static_cast<T>(v.As<v8::BigInt>()->Uint64Value());
    }
    uint64_t lo = u32_at(info, k), hi = u32_at(info, k + 1);
    k += 2;
    return static_cast<T>(lo | (hi << 32));
  } else {
    return static_cast<T>(u32_at(info, k++));
  }
}

template <class F>
struct signature;
template <class R, class... A>
struct signature<R (*)(call, A...)> {
  using ret = R;
  using args = std::tuple<A...>;
};

template <auto Fn, class... A>
auto invoke(call c, const v8::FunctionCallbackInfo<v8::Value>& info, std::tuple<A...>*) {
  [[maybe_unused]] int k = 0;
  std::tuple<call, A...> args{c, next_arg<A>(info, k)...};  // braces: decoded left to right
  return std::apply(Fn, std::move(args));
}

// The prologue's slow path, when the guest is rewound into this call or its time slice is
// over: `proceed` with the call (also after a time-slice yield, which suspended the guest
// before the call itself), `unwinding` (the guest is suspended now, for a yield), or `resumed`
// (rewound into a blocking call that completed with `value`).
enum class attended { proceed, unwinding, resumed };
struct attention_result {
  attended what;
  int32_t value;
};
inline attention_result attend(suspension& s) {
  if (auto r = s.take_resumed()) {
    if (s.take_yielded()) return {attended::proceed, 0};
    return {attended::resumed, *r};
  }
  if (s.yield_now()) return {attended::unwinding, 0};
  return {attended::proceed, 0};
}

}  // namespace detail

namespace detail {

// Carries out one call of thunk `Fn` (attention: the guest is being rewound, or its time slice
// is over). Returns the errno the call completed with, or nullopt when the guest is unwinding
// (V8 ignores the return value meanwhile) or the thunk returns nothing.
template <auto Fn>
inline std::optional<int32_t> serve(guest* g, bool attention, const v8::FunctionCallbackInfo<v8::Value>& info) {
  using sig = signature<decltype(Fn)>;
  using args = typename sig::args;
  if constexpr (std::is_same_v<typename sig::ret, asio::awaitable<errc>>) {
    suspension* s = g->suspender();
    if (!s) return static_cast<int32_t>(errc::notsup);  // a start function: nothing can be suspended yet
    if (attention) {
      auto [what, value] = attend(*s);
      if (what == attended::unwinding) return std::nullopt;
      if (what == attended::resumed) return value;
    }
    // The operation's idle waits may let its memory be packed away (engine/hibernation.hpp).
    return s->block(invoke<Fn>(call{g}, info, static_cast<args*>(nullptr)), &g->idle_hook());
  } else {
    // Only a yield suspends a call that cannot block: resumed, it is carried out as usual.
    if (attention) [[unlikely]] {
      suspension* s = g->suspender();
      if (s && attend(*s).what == attended::unwinding) return std::nullopt;
    }
    if constexpr (std::is_void_v<typename sig::ret>) {
      invoke<Fn>(call{g}, info, static_cast<args*>(nullptr));
      return std::nullopt;
    } else {
      return static_cast<int32_t>(invoke<Fn>(call{g}, info, static_cast<args*>(nullptr)));
    }
  }
}

// The same, reported to the guest's trace hook (engine/trace.cpp) once the call has completed:
// in asyncify mode that is when the guest is rewound into it, so the start time is kept across
// the unwinding.
void report_call(guest& g, size_t row, const v8::FunctionCallbackInfo<v8::Value>& info, std::optional<int32_t> err);
// The same from the call's raw wasm arguments (raw_arguments), once a JSPI-suspended call has
// completed; the trace hook's exception, if it threw, as a trap's text.
std::vector<uint64_t> raw_arguments(size_t row, const v8::FunctionCallbackInfo<v8::Value>& info);
std::optional<std::string> report_call(guest& g, size_t row, std::span<const uint64_t> args, std::optional<int32_t> err);

template <auto Fn>
std::optional<int32_t> serve_traced(guest* g, size_t row, bool attention,
                                    const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!g->rewinding()) g->trace_start() = std::chrono::steady_clock::now();
  if constexpr (std::is_void_v<typename signature<decltype(Fn)>::ret>) {
    report_call(*g, row, info, std::nullopt);  // proc_exit: reported before it ends the guest
    return serve<Fn>(g, attention, info);
  } else {
    std::optional<int32_t> r = serve<Fn>(g, attention, info);
    if (r) {
      report_call(*g, row, info, r);
    } else if (suspension* s = g->suspender()) {  // not completed yet: asyncify reports it when rewound into it
      s->report_when_done([g, row, args = raw_arguments(row, info)](int32_t err) {
        return report_call(*g, row, args, err);
      });
    }
    return r;
  }
}

}  // namespace detail

// The V8 callback of thunk `Fn`, serving row `Row` of wasi::functions.
template <auto Fn, size_t Row>
void v8_callback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  guest* g = current_guest;
  if (!g) {  // called outside a guest run (e.g. re-exported and called from JS): refuse
    info.GetReturnValue().Set(static_cast<int32_t>(errc::notcapable));
    return;
  }
  // Rewound into this call, or at the end of the time slice: two plain loads decide.
  bool attention = g->rewinding() || g->owner().preempt_due();
  std::optional<int32_t> r = g->traced() ? detail::serve_traced<Fn>(g, Row, attention, info)
                                         : detail::serve<Fn>(g, attention, info);
  if (r) {
    if (attention) [[unlikely]] {  // the slice's end: JSPI yields after the call
      suspension* s = g->suspender();
      if (s && s->hand_over_later(v8::Integer::New(info.GetIsolate(), *r), info.GetReturnValue())) return;
    }
    info.GetReturnValue().Set(*r);
  } else if (suspension* s = g->suspender()) {
    s->hand_over(info.GetReturnValue());  // JSPI: the promise the guest now waits on
  }
}

namespace detail {

// Whether thunk `Fn` has the wasm parameters, the result and the blocking of row `f`.
template <class A>
constexpr bool agrees_one(const wasi::arg_spec& a) {
  if constexpr (is_optional<A>::value) {
    return a.optional && agrees_one<typename A::value_type>(wasi::arg_spec{a.name, a.kind, false});
  } else {
    return !a.optional && a.kind != wasi::arg_kind::invalid && (sizeof(A) == 8) == wasi::is_i64(a.kind);
  }
}
template <class... A>
constexpr bool agrees_args(const wasi::function_row& f, std::tuple<A...>*) {
  size_t i = 0;
  return sizeof...(A) == wasi::arg_count(f) && (agrees_one<A>(wasi::arg_at(f, i++)) && ... && true);
}
template <auto Fn>
constexpr bool agrees(const wasi::function_row& f) {
  using sig = signature<decltype(Fn)>;
  constexpr bool blocking = std::is_same_v<typename sig::ret, asio::awaitable<errc>>;
  constexpr bool returns = !std::is_void_v<typename sig::ret>;
  return f.blocking == blocking && f.returns == returns && agrees_args(f, static_cast<typename sig::args*>(nullptr));
}

template <size_t N>
struct fixed_name {
  char s[N]{};
  constexpr fixed_name(const char (&a)[N]) {
    for (size_t i = 0; i < N; ++i) s[i] = a[i];
  }
  constexpr std::string_view view() const { return {s, N - 1}; }
};

}  // namespace detail

// The import row of thunk `Fn` for function `Name` of wasi::functions (under `Module`: the
// wasi_unstable variants name it). The compiler checks the thunk against the row.
template <detail::fixed_name Name, auto Fn, wasi::module_set Module = wasi::preview1>
constexpr import_row row() {
  constexpr size_t index = wasi::row_index(Name.view(), Module);
  static_assert(index != wasi::kNoRow, "a thunk for a function that src/wasi/functions.hpp does not have");
  static_assert(detail::agrees<Fn>(wasi::functions[index]),
                "the thunk's parameters, result or blocking differ from its row in src/wasi/functions.hpp");
  return import_row{index, v8_callback<Fn, index>};
}

// The errno of a call that returns nothing.
inline errc status(const result<void>& r) { return r ? errc::success : r.error(); }

// Unwraps a result inside a thunk: returns its errno on failure.
#define WASIO_TRY_ERRC(var, expr)                 \
  auto var##_r_ = (expr);                         \
  if (!var##_r_) return var##_r_.error();         \
  auto var = std::move(var##_r_).value()

#define WASIO_CO_TRY_ERRC(var, expr)              \
  auto var##_r_ = (expr);                         \
  if (!var##_r_) co_return var##_r_.error();      \
  auto var = std::move(var##_r_).value()

}  // namespace wasio::engine
