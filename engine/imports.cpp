#include "engine/imports.hpp"

#include <array>

#include "engine/ticks.hpp"
#include "wasio/errno.hpp"

namespace wasio::engine {
namespace {

constexpr size_t kRows = std::size(wasi::functions);

std::array<v8::FunctionCallback, kRows> bind_thunks() {
  std::array<v8::FunctionCallback, kRows> all{};
  for (auto group : {args_clock_random_rows(), fd_rows(), path_rows(), poll_proc_sched_rows(), sock_rows()}) {
    for (const import_row& r : group) all[r.index] = r.thunk;
  }
  return all;
}

}  // namespace

std::string_view module_name(wasi::module_set m) {
  return m == wasi::unstable ? "wasi_unstable" : "wasi_snapshot_preview1";
}

v8::FunctionCallback thunk_of(size_t index) {
  static const std::array<v8::FunctionCallback, kRows> thunks = bind_thunks();
  return index < kRows ? thunks[index] : nullptr;
}

int legal_arity(const wasi::function_row& f) {
  int n = 0;
  wasi::arg_spec a;
  for (wasi::arg_reader r(f.params); r.next(a);) n += wasi::is_i64(a.kind) ? 2 : 1;
  return n;
}

std::string asyncify_import_list(bool all) {
  std::string list;
  for (auto m : {wasi::preview1, wasi::unstable}) {
    for (const auto& f : wasi::functions) {
      if (!(f.modules & m) || (!f.blocking && !all)) continue;
      if (!list.empty()) list += ',';
      list += module_name(m);
      list += '.';
      list += f.name;
    }
  }
  return list;
}

// Wraps C++ function `f` in `function(a0, …){ return f(a0, …); }`. V8 10.2 calls a C++ function
// imported directly through its slow generic path (Builtin_HandleApiCall, ~25 ns); a JS function
// of matching arity gets a specialised wasm-to-JS wrapper, and TurboFan turns its call of `f` into
// a direct API call: 10-16 ns in all (ENGINE-FACTS.md, "Measured costs").
v8::Local<v8::Function> js_trampoline(v8::Local<v8::Context> ctx, v8::Local<v8::Function> f, int arity) {
  v8::Isolate* iso = ctx->GetIsolate();
  std::string params;
  for (int i = 0; i < arity; ++i) params += (i ? ",a" : "a") + std::to_string(i);
  std::string src = "(function(f){ return function(" + params + "){ return f(" + params + "); }; })";
  auto maker = v8::Script::Compile(ctx, v8::String::NewFromUtf8(iso, src.c_str()).ToLocalChecked())
                   .ToLocalChecked()->Run(ctx).ToLocalChecked().As<v8::Function>();
  v8::Local<v8::Value> arg = f;
  return maker->Call(ctx, v8::Undefined(iso), 1, &arg).ToLocalChecked().As<v8::Function>();
}

namespace {

void nosys(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(static_cast<int32_t>(wasio::errc::nosys));
}

v8::Local<v8::Object> make_namespace(v8::Local<v8::Context> ctx, wasi::module_set m) {
  v8::Isolate* iso = ctx->GetIsolate();
  auto ns = v8::Object::New(iso);
  for (size_t i = 0; i < kRows; ++i) {
    const auto& f = wasi::functions[i];
    if (!(f.modules & m)) continue;
    auto name = v8::String::NewFromUtf8(iso, f.name.data(), v8::NewStringType::kInternalized,
                                        static_cast<int>(f.name.size())).ToLocalChecked();
    // Every row has a thunk (a unit test checks); nosys keeps a gap from crashing a guest.
    v8::FunctionCallback thunk = thunk_of(i);
    int arity = legal_arity(f);
    auto fn = v8::Function::New(ctx, thunk ? thunk : nosys, {}, arity, v8::ConstructorBehavior::kThrow).ToLocalChecked();
    fn->SetName(name);
    ns->Set(ctx, name, thunk ? js_trampoline(ctx, fn, arity) : fn).Check();
  }
  return ns;
}

}  // namespace

v8::Local<v8::Object> make_import_object(v8::Local<v8::Context> ctx) {
  v8::Isolate* iso = ctx->GetIsolate();
  auto imports = v8::Object::New(iso);
  for (auto m : {wasi::preview1, wasi::unstable}) {
    auto name = module_name(m);
    imports->Set(ctx, v8::String::NewFromUtf8(iso, name.data(), v8::NewStringType::kNormal,
                                              static_cast<int>(name.size())).ToLocalChecked(),
                 make_namespace(ctx, m)).Check();
  }
  // wasio's own: the tick of a module that counts them (engine/ticks.hpp); guest.cpp adds a
  // supplied memory.
  auto own = v8::Object::New(iso);
  auto tick_fn = v8::Function::New(ctx, tick, {}, 0, v8::ConstructorBehavior::kThrow).ToLocalChecked();
  own->Set(ctx, v8::String::NewFromUtf8Literal(iso, "tick"), js_trampoline(ctx, tick_fn, 0)).Check();
  imports->Set(ctx, v8::String::NewFromUtf8Literal(iso, "wasio"), own).Check();
  return imports;
}

}  // namespace wasio::engine
