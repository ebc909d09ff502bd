#include "engine/vm.hpp"

#include "engine/host_calls.hpp"
#include "engine/imports.hpp"
#include "engine/module.hpp"

namespace wasio::engine {

vm::vm(const host_functions* host) : allocator_(v8::ArrayBuffer::Allocator::NewDefaultAllocator()) {
  v8::Isolate::CreateParams cp;
  cp.array_buffer_allocator = allocator_.get();
  isolate_ = v8::Isolate::New(cp);
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
  imports_.Reset();
  instance_ctor_.Reset();
  memory_ctor_.Reset();
  context_.Reset();
  if (entered_) isolate_->Exit();
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

}  // namespace wasio::engine
