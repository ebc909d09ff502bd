// Host functions: an embedder's own imports for its guests, as plain C++ callables.
//
//   wasio::host_functions host;
//   host.define("host", "add", [](int32_t a, int32_t b) { return a + b; });
//   host.define("host", "log", [](wasio::call_context& c, uint32_t ptr, uint32_t len) {
//     std::puts(std::string(c.string(ptr, len)).c_str());   // a bad pointer traps the guest
//   });
//   host.define("host", "sleep_ms", [](int32_t ms) -> asio::awaitable<int32_t> {
//     asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
//     co_await t.async_wait(asio::use_awaitable);            // suspends only the calling guest
//     co_return 0;
//   });
//   wasio::runtime rt({.host = host});
//
// The wasm signature follows from the C++ one: int32_t/uint32_t are i32, int64_t/uint64_t i64,
// float f32, double f64; the result is void or one of these. An optional first parameter,
// `call_context&`, gives the calling guest's memory and a way to trap it. A callable that
// returns asio::awaitable<T> runs on the calling guest's worker (its executor is the guest's)
// and suspends that guest alone until it completes, as a blocking WASI call does (the module is
// prepared for it, in every suspension mode). An exception escaping a host function traps
// the guest with the exception's text; wasio::trap_error is the one meant for that.
//
// Host functions are called on the worker threads: with more than one worker, the same function
// may run on several threads at once (runtime_options::workers = 1, or an embedded runtime,
// runs them all on one thread).
#pragma once
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "wasio/memory.hpp"

namespace wasio {

// A wasm number type, by its binary encoding.
enum class val_type : uint8_t { i32 = 0x7f, i64 = 0x7e, f32 = 0x7d, f64 = 0x7c };
const char* name_of(val_type t) noexcept;  // "i32", ...

namespace detail {
// The C++ types that stand for wasm values, and their bits (an i32 zero-extended, an f32's bits
// in the low half).
template <class T>
struct wasm_type;
template <>
struct wasm_type<int32_t> {
  static constexpr val_type type = val_type::i32;
  static uint64_t bits(int32_t v) { return static_cast<uint32_t>(v); }
  static int32_t of(uint64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(b)); }
};
template <>
struct wasm_type<uint32_t> {
  static constexpr val_type type = val_type::i32;
  static uint64_t bits(uint32_t v) { return v; }
  static uint32_t of(uint64_t b) { return static_cast<uint32_t>(b); }
};
template <>
struct wasm_type<int64_t> {
  static constexpr val_type type = val_type::i64;
  static uint64_t bits(int64_t v) { return static_cast<uint64_t>(v); }
  static int64_t of(uint64_t b) { return static_cast<int64_t>(b); }
};
template <>
struct wasm_type<uint64_t> {
  static constexpr val_type type = val_type::i64;
  static uint64_t bits(uint64_t v) { return v; }
  static uint64_t of(uint64_t b) { return b; }
};
template <>
struct wasm_type<float> {
  static constexpr val_type type = val_type::f32;
  static uint64_t bits(float v) { return std::bit_cast<uint32_t>(v); }
  static float of(uint64_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b)); }
};
template <>
struct wasm_type<double> {
  static constexpr val_type type = val_type::f64;
  static uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }
  static double of(uint64_t b) { return std::bit_cast<double>(b); }
};
template <class T, class = void>
struct is_wasm_type : std::false_type {};
template <class T>
struct is_wasm_type<T, std::void_t<decltype(wasm_type<T>::type)>> : std::true_type {};
}  // namespace detail

// A wasm value: its type and its bits.
struct value {
  val_type type = val_type::i32;
  uint64_t bits = 0;

  value() = default;
  template <class T, std::enable_if_t<detail::is_wasm_type<T>::value, int> = 0>
  value(T v) : type(detail::wasm_type<T>::type), bits(detail::wasm_type<T>::bits(v)) {}
  // Whether it holds a T (an i32 is both int32_t and uint32_t), and the T it holds.
  template <class T>
  bool is() const noexcept { return type == detail::wasm_type<T>::type; }
  template <class T>
  T as() const noexcept { return detail::wasm_type<T>::of(bits); }
  bool operator==(const value&) const = default;
};

// Thrown by a host function (or its call_context) to trap the calling guest with a message.
class trap_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a host function knows of its caller.
class call_context {
 public:
  // The caller's linear memory, bounds-checked (a bad pointer is errc::fault, never a host
  // access). Valid while the host function runs, also across its suspensions: a guest cannot
  // grow its memory while it waits in a call. Touch it only on the guest's executor (where the
  // host function runs and resumes): while the guest is suspended, wasio may briefly use parts
  // of it on that thread, and puts them back before anything else runs there.
  guest_memory memory() const;
  // The same, trapping the guest (trap_error) on a pointer out of bounds.
  std::span<std::byte> bytes(uint64_t ptr, uint64_t len) const;
  std::string_view string(uint64_t ptr, uint64_t len) const;
  template <class T>
  T load(uint64_t ptr) const {
    auto v = memory().load<T>(ptr);
    if (!v) out_of_bounds();
    return v.value();
  }
  template <class T>
  void store(uint64_t ptr, T v) const {
    if (!memory().store<T>(ptr, v)) out_of_bounds();
  }
  // Ends the guest's call as a trap with `message`.
  [[noreturn]] void trap(const std::string& message) const { throw trap_error(message); }
  // config::host_data of the calling guest (null if none was given).
  const std::shared_ptr<void>& host_data() const;

  explicit call_context(void* guest) noexcept : guest_(guest) {}  // made by wasio

 private:
  [[noreturn]] static void out_of_bounds();
  void* guest_;
};

// A set of host functions, by module and name. Copyable; given to runtime_options::host.
class host_functions {
 public:
  // A host function with its signature spelt out; define() makes one from a C++ callable.
  struct definition {
    std::string module, name;
    std::vector<val_type> params, results;
    // One of the two is set. `args` holds one value's bits per parameter; `result` (when the
    // function has one) receives its bits.
    std::function<void(call_context&, const uint64_t* args, uint64_t* result)> sync;
    std::function<asio::awaitable<void>(call_context, std::vector<uint64_t> args, uint64_t* result)> async;
  };

  // Defines module.name as `f` (see the top of this file). Throws std::invalid_argument when
  // the name is taken, or the module is one of WASI's (wasi_snapshot_preview1, wasi_unstable).
  template <class F>
  host_functions& define(std::string module, std::string name, F f);
  // Adds a definition made by hand (a signature known only at run time).
  host_functions& define(definition d);

  std::span<const definition> definitions() const noexcept { return defs_; }
  const definition* find(std::string_view module, std::string_view name) const noexcept;

 private:
  std::vector<definition> defs_;
};

namespace detail {

template <class F>
struct callable : callable<decltype(&F::operator())> {};
template <class R, class... A>
struct callable<R (*)(A...)> {
  using ret = R;
  using args = std::tuple<A...>;
};
template <class R, class... A>
struct callable<R(A...)> : callable<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable<R (C::*)(A...)> : callable<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable<R (C::*)(A...) const> : callable<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable<R (C::*)(A...) noexcept> : callable<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable<R (C::*)(A...) const noexcept> : callable<R (*)(A...)> {};

template <class T>
struct awaited {
  static constexpr bool awaitable = false;
  using type = T;
};
template <class T>
struct awaited<asio::awaitable<T, asio::any_io_executor>> {
  static constexpr bool awaitable = true;
  using type = T;
};

template <class T>
constexpr bool is_context = std::is_same_v<std::remove_cvref_t<T>, call_context>;

template <class Tuple>
struct first_is_context : std::false_type {};
template <class C, class... A>
struct first_is_context<std::tuple<C, A...>> : std::bool_constant<is_context<C>> {};

// The wasm parameters of a C++ parameter list: all of it, or all but a leading call_context.
template <class Tuple, bool Ctx>
struct wasm_params;
template <class... A>
struct wasm_params<std::tuple<A...>, false> {
  using type = std::tuple<std::remove_cvref_t<A>...>;
};
template <class C, class... A>
struct wasm_params<std::tuple<C, A...>, true> {
  using type = std::tuple<std::remove_cvref_t<A>...>;
};

template <class F, bool Ctx, class... A, size_t... I>
decltype(auto) call_with(F& f, call_context& c, const uint64_t* a, std::tuple<A...>*, std::index_sequence<I...>) {
  if constexpr (Ctx) return f(c, wasm_type<A>::of(a[I])...);
  else return f(wasm_type<A>::of(a[I])...);
}

template <class R, class F, bool Ctx, class Params>
asio::awaitable<void> run_async(std::shared_ptr<F> f, call_context c, std::vector<uint64_t> a, uint64_t* r) {
  constexpr size_t n = std::tuple_size_v<Params>;
  if constexpr (std::is_void_v<R>) {
    co_await call_with<F, Ctx>(*f, c, a.data(), static_cast<Params*>(nullptr), std::make_index_sequence<n>());
  } else {
    *r = wasm_type<R>::bits(
        co_await call_with<F, Ctx>(*f, c, a.data(), static_cast<Params*>(nullptr), std::make_index_sequence<n>()));
  }
}

template <class... A>
std::vector<val_type> types_of(std::tuple<A...>*) {
  return {wasm_type<A>::type...};
}

}  // namespace detail

template <class F>
host_functions& host_functions::define(std::string module, std::string name, F f) {
  using traits = detail::callable<F>;
  using args = typename traits::args;
  constexpr bool ctx = detail::first_is_context<args>::value;
  using params = typename detail::wasm_params<args, ctx>::type;
  using ret = typename detail::awaited<typename traits::ret>::type;
  constexpr bool is_async = detail::awaited<typename traits::ret>::awaitable;
  static_assert(std::is_void_v<ret> || detail::is_wasm_type<ret>::value,
                "a host function returns void, int32_t, uint32_t, int64_t, uint64_t, float or double "
                "(or an asio::awaitable of one)");
  definition d;
  d.module = std::move(module);
  d.name = std::move(name);
  d.params = detail::types_of(static_cast<params*>(nullptr));
  if constexpr (!std::is_void_v<ret>) d.results = {detail::wasm_type<ret>::type};
  auto shared = std::make_shared<F>(std::move(f));
  if constexpr (is_async) {
    d.async = [shared](call_context c, std::vector<uint64_t> a, uint64_t* r) {
      return detail::run_async<ret, F, ctx, params>(shared, c, std::move(a), r);
    };
  } else {
    d.sync = [shared](call_context& c, const uint64_t* a, uint64_t* r) {
      constexpr size_t n = std::tuple_size_v<params>;
      if constexpr (std::is_void_v<ret>) {
        detail::call_with<F, ctx>(*shared, c, a, static_cast<params*>(nullptr), std::make_index_sequence<n>());
      } else {
        *r = detail::wasm_type<ret>::bits(
            detail::call_with<F, ctx>(*shared, c, a, static_cast<params*>(nullptr), std::make_index_sequence<n>()));
      }
    };
  }
  return define(std::move(d));
}

}  // namespace wasio
