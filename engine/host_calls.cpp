#include "engine/host_calls.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "engine/imports.hpp"
#include "engine/thunk.hpp"

namespace wasio {

const char* name_of(val_type t) noexcept {
  switch (t) {
    case val_type::i32: return "i32";
    case val_type::i64: return "i64";
    case val_type::f32: return "f32";
    case val_type::f64: return "f64";
  }
  return "?";
}

host_functions& host_functions::define(definition d) {
  if (d.module == "wasi_snapshot_preview1" || d.module == "wasi_unstable" || d.module == "wasio") {
    throw std::invalid_argument("host function " + d.module + "." + d.name + ": module " + d.module +
                                " is wasio's own");
  }
  if (find(d.module, d.name)) throw std::invalid_argument("host function " + d.module + "." + d.name + " is defined twice");
  if (!d.sync == !d.async) throw std::invalid_argument("host function " + d.module + "." + d.name + ": give sync or async");
  if (d.results.size() > 1) throw std::invalid_argument("host function " + d.module + "." + d.name + ": at most one result");
  defs_.push_back(std::move(d));
  return *this;
}

const host_functions::definition* host_functions::find(std::string_view module, std::string_view name) const noexcept {
  for (auto& d : defs_) {
    if (d.module == module && d.name == name) return &d;
  }
  return nullptr;
}

guest_memory call_context::memory() const { return static_cast<engine::guest*>(guest_)->memory(); }

const std::shared_ptr<void>& call_context::host_data() const {
  return static_cast<engine::guest*>(guest_)->host_data();
}

void call_context::out_of_bounds() { throw trap_error("host function: guest pointer out of bounds"); }

std::span<std::byte> call_context::bytes(uint64_t ptr, uint64_t len) const {
  auto b = memory().bytes(ptr, len);
  if (!b) out_of_bounds();
  return b.value();
}

std::string_view call_context::string(uint64_t ptr, uint64_t len) const {
  auto s = memory().string(ptr, len);
  if (!s) out_of_bounds();
  return s.value();
}

}  // namespace wasio

namespace wasio::engine {
namespace {

using definition = host_functions::definition;

func_sig sig_of(const definition& d) {
  func_sig s;
  for (auto t : d.params) s.params.push_back(static_cast<uint8_t>(t));
  for (auto t : d.results) s.results.push_back(static_cast<uint8_t>(t));
  return s;
}

const char* type_name(uint8_t t) {
  if (func_sig{{t}, {}}.numeric()) return name_of(static_cast<val_type>(t));
  switch (t) {
    case 0x7b: return "v128";
    case 0x70: return "funcref";
    case 0x6f: return "externref";
  }
  return "ref";
}

void throw_error(v8::Isolate* iso, const std::string& text) {
  iso->ThrowException(v8::Exception::Error(
      v8::String::NewFromUtf8(iso, text.data(), v8::NewStringType::kNormal, static_cast<int>(text.size()))
          .ToLocalChecked()));
}

// The arguments' bits, one per wasm parameter. An i64 comes as a BigInt, or as two i32 halves
// where the rewrite legalized the import (thunk.hpp's next_arg).
void decode_args(const v8::FunctionCallbackInfo<v8::Value>& info, const definition& d, uint64_t* out) {
  int k = 0;
  auto ctx = info.GetIsolate()->GetCurrentContext();
  for (size_t i = 0; i < d.params.size(); ++i) {
    switch (d.params[i]) {
      case val_type::i32: out[i] = detail::next_arg<uint32_t>(info, k); break;
      case val_type::i64: out[i] = detail::next_arg<uint64_t>(info, k); break;
      case val_type::f32:
        out[i] = std::bit_cast<uint32_t>(static_cast<float>(info[k++]->NumberValue(ctx).FromMaybe(0)));
        break;
      case val_type::f64: out[i] = std::bit_cast<uint64_t>(info[k++]->NumberValue(ctx).FromMaybe(0)); break;
    }
  }
}

// A host function's result, from its bits, as V8 takes it for the wasm type.
v8::Local<v8::Value> value_of(v8::Isolate* iso, const definition& d, uint64_t bits) {
  if (d.results.empty()) return v8::Undefined(iso);
  switch (d.results[0]) {
    case val_type::i32: return v8::Integer::New(iso, static_cast<int32_t>(static_cast<uint32_t>(bits)));
    case val_type::i64: return v8::BigInt::New(iso, static_cast<int64_t>(bits));
    case val_type::f32: return v8::Number::New(iso, static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits))));
    case val_type::f64: return v8::Number::New(iso, std::bit_cast<double>(bits));
  }
  return v8::Undefined(iso);
}

void set_result(const v8::FunctionCallbackInfo<v8::Value>& info, const definition& d, uint64_t bits) {
  if (!d.results.empty()) info.GetReturnValue().Set(value_of(info.GetIsolate(), d, bits));
}

// The result given to V8 while the guest unwinds: ignored, but it must convert to the result's
// type, and undefined does not convert to an i64 (a TypeError that would end the guest).
// In JSPI mode the guest suspends once V8 gets its promise instead (hand_over).
void unwinding(const v8::FunctionCallbackInfo<v8::Value>& info, const definition& d, suspension& s) {
  if (!s.hand_over(info.GetReturnValue())) set_result(info, d, 0);
}

// The text an exception escaping a host function traps its guest with.
std::string trap_text(const definition& d, std::exception_ptr e) {
  std::string where = d.module + "." + d.name + ": ";
  try {
    std::rethrow_exception(e);
  } catch (const trap_error& t) {
    return t.what();
  } catch (const std::exception& x) {
    return where + x.what();
  } catch (...) {
    return where + "unknown exception";
  }
}

// How an awaitable host function's call ended, kept by the guest until the thunk (returning,
// resumed, or rewound into) delivers it.
asio::awaitable<errc> run_async(const definition* d, call_context c, std::vector<uint64_t> args,
                                guest::host_call* slot) {
  slot->trap.reset();
  try {
    co_await d->async(c, std::move(args), &slot->result);
  } catch (...) {
    slot->trap = trap_text(*d, std::current_exception());
  }
  co_return errc::success;
}

void deliver(const v8::FunctionCallbackInfo<v8::Value>& info, const definition& d, guest::host_call& slot) {
  if (slot.trap) {
    throw_error(info.GetIsolate(), *slot.trap);
    slot.trap.reset();
    return;
  }
  set_result(info, d, slot.result);
}

void host_callback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const auto* d = static_cast<const definition*>(info.Data().As<v8::External>()->Value());
  guest* g = current_guest;
  if (!g) {
    throw_error(info.GetIsolate(), d->module + "." + d->name + " called outside a guest's call");
    return;
  }
  bool attention = g->rewinding() || g->owner().preempt_due();
  suspension* s = g->suspender();
  if (attention && s) {
    auto [what, value] = detail::attend(*s);
    if (what == detail::attended::unwinding) return unwinding(info, *d, *s);
    if (what == detail::attended::resumed) {
      deliver(info, *d, g->host_slot());
      return;
    }
  }
  std::array<uint64_t, 16> small;
  std::vector<uint64_t> big;
  uint64_t* args = small.data();
  if (d->params.size() > small.size()) {
    big.resize(d->params.size());
    args = big.data();
  }
  decode_args(info, *d, args);
  call_context c(g);
  if (d->sync) {
    uint64_t result = 0;
    try {
      d->sync(c, args, &result);
    } catch (...) {
      throw_error(info.GetIsolate(), trap_text(*d, std::current_exception()));
      return;
    }
    set_result(info, *d, result);
    if (attention && s) s->hand_over_later(info.GetReturnValue().Get(), info.GetReturnValue());  // JSPI's yield
    return;
  }
  if (!s) {  // a start function: nothing can be suspended yet
    throw_error(info.GetIsolate(), d->module + "." + d->name + " cannot wait in a start function");
    return;
  }
  auto op = run_async(d, c, std::vector<uint64_t>(args, args + d->params.size()), &g->host_slot());
  if (!s->block(std::move(op))) {  // delivered when rewound; in JSPI mode, when completed
    s->result_when_done([d, g](v8::Isolate* iso, std::optional<std::string>* trap) {
      guest::host_call& slot = g->host_slot();
      if (slot.trap) *trap = std::move(slot.trap);
      slot.trap.reset();
      return value_of(iso, *d, slot.result);
    });
    return unwinding(info, *d, *s);
  }
  deliver(info, *d, g->host_slot());
}

std::string qualified(const import_entry& i) { return i.module + "." + i.name; }

bool is_wasi_module(std::string_view m) { return m == "wasi_snapshot_preview1" || m == "wasi_unstable"; }

// The wasm type of row `f`, with its optional parameters or without them.
func_sig wasi_sig(const wasi::function_row& f, bool with_optional) {
  func_sig sig;
  wasi::arg_spec a;
  for (wasi::arg_reader r(f.params); r.next(a);) {
    if (!a.optional || with_optional) sig.params.push_back(wasi::is_i64(a.kind) ? 0x7e : 0x7f);
  }
  if (f.returns) sig.results.push_back(0x7f);
  return sig;
}

}  // namespace

std::string types_text(const std::vector<uint8_t>& types) {
  std::string t = "(";
  for (size_t i = 0; i < types.size(); ++i) t += (i ? ", " : "") + std::string(type_name(types[i]));
  return t + ")";
}

std::string signature_text(const func_sig& s) { return types_text(s.params) + " -> " + types_text(s.results); }

void add_host_imports(v8::Local<v8::Context> ctx, v8::Local<v8::Object> imports, const host_functions& host) {
  v8::Isolate* iso = ctx->GetIsolate();
  std::map<std::string, v8::Local<v8::Object>> namespaces;
  for (const auto& d : host.definitions()) {
    auto& ns = namespaces[d.module];
    if (ns.IsEmpty()) {
      ns = v8::Object::New(iso);
      imports->Set(ctx, v8::String::NewFromUtf8(iso, d.module.c_str()).ToLocalChecked(), ns).Check();
    }
    auto name = v8::String::NewFromUtf8(iso, d.name.c_str()).ToLocalChecked();
    auto data = v8::External::New(iso, const_cast<definition*>(&d));
    // Called with the legalized arity at most: an i64 may come as two halves.
    int arity = 0;
    for (auto t : d.params) arity += t == val_type::i64 ? 2 : 1;
    auto fn = v8::Function::New(ctx, host_callback, data, arity, v8::ConstructorBehavior::kThrow).ToLocalChecked();
    fn->SetName(name);
    ns->Set(ctx, name, js_trampoline(ctx, fn, arity)).Check();
  }
}

std::optional<std::string> check_imports(const wasm_summary& s, const host_functions* host) {
  for (const auto& i : s.imports) {
    if (i.module == "wasio") continue;  // the memory wasio supplies
    if (is_wasi_module(i.module)) {
      size_t row = wasi::row_index(i.name, i.module == "wasi_unstable" ? wasi::unstable : wasi::preview1);
      if (i.kind != 0 || row == wasi::kNoRow) return "imports " + qualified(i) + ", which WASI does not have";
      // As wasmtime's linker does: a call through the wrong type would decode garbage.
      const auto& f = wasi::functions[row];
      if (i.sig_known && i.sig != wasi_sig(f, true) && i.sig != wasi_sig(f, false)) {
        return "imports " + qualified(i) + " as " + signature_text(i.sig) + ", but WASI defines it as " +
               signature_text(wasi_sig(f, true));
      }
      continue;
    }
    const definition* d = host ? host->find(i.module, i.name) : nullptr;
    if (!d) return "imports " + qualified(i) + ", which the host does not define";
    if (i.kind != 0) return "imports " + qualified(i) + " as something else than a function";
    if (i.sig_known && sig_of(*d) != i.sig) {
      return "imports " + qualified(i) + " as " + signature_text(i.sig) + ", but the host defines it as " +
             signature_text(sig_of(*d));
    }
  }
  return std::nullopt;
}

host_import_lists host_imports_of(const wasm_summary& s, const host_functions* host) {
  host_import_lists out;
  if (!host) return out;
  for (const auto& i : s.imports) {
    const definition* d = i.kind == 0 ? host->find(i.module, i.name) : nullptr;
    if (!d) continue;
    for (auto* list : {&out.all, d->async ? &out.blocking : nullptr}) {
      if (!list) continue;
      if (!list->empty()) *list += ',';
      *list += qualified(i);
    }
  }
  return out;
}

}  // namespace wasio::engine
