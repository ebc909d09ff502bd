#include "engine/vm.hpp"

#include "engine/host_calls.hpp"
#include "engine/imports.hpp"
#include "engine/module.hpp"

namespace wasio::engine {

namespace {

// JSPI as V8 11.3 has it (--experimental-wasm-stack-switching, set by ensure_v8): a function
// wrapped by `new WebAssembly.Function(type, fn, {suspending: 'first'})` takes the suspender as
// its first (externref) parameter, which `fn` does not see; when `fn` returns a promise, the
// guest's stack suspends until it settles. `{promising: 'first'}` makes an export that takes the
// suspender into one that does not and returns a promise if the guest suspended (its result
// otherwise). The types come from the module's own (type reflection, implied by the flag):
// binaryen's jspi pass put the externref first in each import and export it prepared.
// (V8 src/wasm/wasm-js.cc, WebAssemblyFunction; binaryen src/passes/JSPI.cpp.)
// An import named NAME#N is one the rewrite renamed (name_duplicate_imports): NAME's function.
constexpr const char* kJspiGlue = R"js(({
  imports(mod, base) {
    const out = Object.assign({}, base), copied = new Set();
    for (const i of WebAssembly.Module.imports(mod)) {
      const suspends = i.kind === 'function' && i.type && i.type.parameters[0] === 'externref';
      const hash = i.name.indexOf('#');
      if (!suspends && hash < 0) continue;
      if (!copied.has(i.module)) { copied.add(i.module); out[i.module] = Object.assign({}, base[i.module]); }
      const fn = base[i.module][hash < 0 ? i.name : i.name.slice(0, hash)];
      out[i.module][i.name] = suspends ? new WebAssembly.Function(i.type, fn, {suspending: 'first'}) : fn;
    }
    return out;
  },
  promising(fn) {
    const t = WebAssembly.Function.type(fn);
    return new WebAssembly.Function({parameters: t.parameters.slice(1), results: ['externref']}, fn,
                                    {promising: 'first'});
  },
}))js";

}  // namespace

vm::vm(const host_functions* host, bool locked) : allocator_(v8::ArrayBuffer::Allocator::NewDefaultAllocator()) {
  v8::Isolate::CreateParams cp;
  cp.array_buffer_allocator = allocator_.get();
  isolate_ = v8::Isolate::New(cp);
  if (locked) locker_.emplace(isolate_);  // before any use: a Locker taken later resets the stack limit
  // Promises are JSPI's (engine/jspi.cpp), whose driver runs their reactions itself, one
  // guest at a time; nothing else here makes any.
  isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  enter();
  v8::HandleScope hs(isolate_);
  auto ctx = v8::Context::New(isolate_);
  context_.Reset(isolate_, ctx);
  v8::Context::Scope cs(ctx);
  auto imports = make_import_object(ctx);
  if (host) add_host_imports(ctx, imports, *host);
  imports_.Reset(isolate_, imports);
  auto wasm = ctx->Global()->Get(ctx, v8::String::NewFromUtf8Literal(isolate_, "WebAssembly"))
                  .ToLocalChecked().As<v8::Object>();
  auto ctor = [&](const char* name) {
    return wasm->Get(ctx, v8::String::NewFromUtf8(isolate_, name).ToLocalChecked())
        .ToLocalChecked().As<v8::Function>();
  };
  instance_ctor_.Reset(isolate_, ctor("Instance"));
  memory_ctor_.Reset(isolate_, ctor("Memory"));
}

vm::~vm() {
  modules_.clear();
  jspi_imports_.clear();
  names_.clear();
  jspi_glue_.Reset();
  imports_.Reset();
  instance_ctor_.Reset();
  memory_ctor_.Reset();
  context_.Reset();
  if (entered_) isolate_->Exit();
  locker_.reset();
  isolate_->Dispose();
}

v8::MaybeLocal<v8::WasmModuleObject> vm::module_object(const detail::module_data& m) {
  auto it = modules_.find(m.id);
  if (it != modules_.end()) return it->second.Get(isolate_);
  v8::Local<v8::WasmModuleObject> obj;
  if (!v8::WasmModuleObject::FromCompiledModule(isolate_, *m.compiled).ToLocal(&obj)) return {};
  modules_[m.id].Reset(isolate_, obj);
  return obj;
}

v8::Local<v8::String> vm::name(std::string_view literal) {
  auto [it, made] = names_.try_emplace(literal);
  if (made) {
    it->second.Reset(isolate_, v8::String::NewFromUtf8(isolate_, literal.data(), v8::NewStringType::kInternalized,
                                                       static_cast<int>(literal.size()))
                                   .ToLocalChecked());
  }
  return it->second.Get(isolate_);
}

v8::MaybeLocal<v8::Function> vm::jspi_glue(const char* name) {
  auto ctx = context();
  if (jspi_glue_.IsEmpty()) {
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> glue;
    if (!v8::Script::Compile(ctx, v8::String::NewFromUtf8(isolate_, kJspiGlue).ToLocalChecked()).ToLocal(&script) ||
        !script->Run(ctx).ToLocal(&glue) || !glue->IsObject()) {
      return {};
    }
    jspi_glue_.Reset(isolate_, glue.As<v8::Object>());
  }
  v8::Local<v8::Value> f;
  if (!jspi_glue_.Get(isolate_)->Get(ctx, v8::String::NewFromUtf8(isolate_, name).ToLocalChecked()).ToLocal(&f) ||
      !f->IsFunction()) {
    return {};
  }
  return f.As<v8::Function>();
}

v8::MaybeLocal<v8::Object> vm::jspi_imports(const detail::module_data& m) {
  auto it = jspi_imports_.find(m.id);
  if (it != jspi_imports_.end()) return it->second.Get(isolate_);
  v8::Local<v8::Function> f;
  v8::Local<v8::WasmModuleObject> mod;
  if (!jspi_glue("imports").ToLocal(&f) || !module_object(m).ToLocal(&mod)) return {};
  v8::Local<v8::Value> args[2] = {mod, imports()}, out;
  if (!f->Call(context(), v8::Undefined(isolate_), 2, args).ToLocal(&out) || !out->IsObject()) return {};
  jspi_imports_[m.id].Reset(isolate_, out.As<v8::Object>());
  return out.As<v8::Object>();
}

v8::MaybeLocal<v8::Function> vm::promising(v8::Local<v8::Function> exported) {
  v8::Local<v8::Function> f;
  if (!jspi_glue("promising").ToLocal(&f)) return {};
  v8::Local<v8::Value> arg = exported, out;
  if (!f->Call(context(), v8::Undefined(isolate_), 1, &arg).ToLocal(&out) || !out->IsFunction()) return {};
  return out.As<v8::Function>();
}

}  // namespace wasio::engine
