// Import thunks: the glue between V8's calling convention and a WASI function in host types.
//
// A thunk is an ordinary C++ function whose parameters are the wasm parameters (uint32_t for
// i32, uint64_t for i64) after a `call` giving it the guest:
//     errc clock_time_get(call c, uint32_t id, uint64_t precision, uint32_t out_ptr);
// It decodes guest pointers through c.mem (fault when out of range), calls the WASI function and
// encodes the results. A thunk that can block returns asio::awaitable<errc> and is handed to the
// guest's suspension mode. v8_callback<&fn> turns either kind into a V8 FunctionCallback, so a
// table row is just row<&fn>("name").
#pragma once
#include <v8.h>

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "engine/guest.hpp"
#include "engine/imports.hpp"
#include "engine/memory.hpp"
#include "engine/worker.hpp"
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

template <auto Fn>
void v8_callback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  using sig = detail::signature<decltype(Fn)>;
  using args = typename sig::args;
  guest* g = current_guest;
  if (!g) {  // called outside a guest run (e.g. re-exported and called from JS): refuse
    info.GetReturnValue().Set(static_cast<int32_t>(errc::notcapable));
    return;
  }
  // Rewound into this call, or at the end of the time slice: two plain loads decide.
  bool attention = g->rewinding() || g->owner().preempt_due();
  if constexpr (std::is_same_v<typename sig::ret, asio::awaitable<errc>>) {
    suspension* s = g->suspender();
    if (!s) {  // a start function: nothing can be suspended yet
      info.GetReturnValue().Set(static_cast<int32_t>(errc::notsup));
      return;
    }
    if (attention) {
      auto [what, value] = detail::attend(*s);
      if (what == detail::attended::unwinding) return;  // V8 ignores the return value meanwhile
      if (what == detail::attended::resumed) {
        info.GetReturnValue().Set(value);
        return;
      }
    }
    auto op = detail::invoke<Fn>(call{g}, info, static_cast<args*>(nullptr));
    info.GetReturnValue().Set(s->block(std::move(op)).value_or(0));
  } else {
    // Only a yield suspends a call that cannot block: resumed, it is carried out as usual.
    if (attention) [[unlikely]] {
      suspension* s = g->suspender();
      if (s && detail::attend(*s).what == detail::attended::unwinding) return;
    }
    if constexpr (std::is_void_v<typename sig::ret>) {
      detail::invoke<Fn>(call{g}, info, static_cast<args*>(nullptr));
    } else {
      errc e = detail::invoke<Fn>(call{g}, info, static_cast<args*>(nullptr));
      info.GetReturnValue().Set(static_cast<int32_t>(e));
    }
  }
}

// A table row for thunk `Fn`: its arity and whether it blocks follow from its signature.
namespace detail {
template <class A>
constexpr int legal_width() {
  if constexpr (is_optional<A>::value) return legal_width<typename A::value_type>();
  else return sizeof(A) == 8 ? 2 : 1;
}
template <class... A>
constexpr int legal_arity(std::tuple<A...>*) {
  return (legal_width<A>() + ... + 0);
}
}  // namespace detail

template <auto Fn>
constexpr import_row row(std::string_view name) {
  using sig = detail::signature<decltype(Fn)>;
  return import_row{name, v8_callback<Fn>, std::is_same_v<typename sig::ret, asio::awaitable<errc>>,
                    detail::legal_arity(static_cast<typename sig::args*>(nullptr))};
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
