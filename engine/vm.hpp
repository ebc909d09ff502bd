// A V8 isolate set up for WASI guests: one context, the WASI import object, and the
// WebAssembly constructors and module objects looked up once. A worker has one, shared by its
// asyncify-mode guests; a fiber-mode guest has its own (engine/fiber.hpp).
#pragma once
#include <v8.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace wasio {
class host_functions;
}
namespace wasio::detail {
struct module_data;
}

namespace wasio::engine {

class vm {
 public:
  // Creates the isolate on the calling thread (and stack), enters it, and builds the context,
  // whose import object has the WASI functions and `host`'s (which must outlive the vm).
  // `locked`: the calling thread holds the isolate's v8::Locker from the start, so that other
  // threads may take turns with it (engine/loop_turns.hpp).
  explicit vm(const host_functions* host = nullptr, bool locked = false);
  // Exits the isolate if it is entered, and disposes it.
  ~vm();
  // For a vm that serves one fiber-mode guest after another: its isolate is exited between
  // two guests (while kept by the worker) and entered on the next guest's fiber.
  void enter() {
    if (!entered_) isolate_->Enter();
    entered_ = true;
  }
  void exit() {
    if (entered_) isolate_->Exit();
    entered_ = false;
  }
  vm(const vm&) = delete;
  vm& operator=(const vm&) = delete;

  v8::Isolate* isolate() const { return isolate_; }
  v8::Local<v8::Context> context() const { return context_.Get(isolate_); }
  v8::Local<v8::Object> imports() const { return imports_.Get(isolate_); }
  v8::Local<v8::Function> instance_constructor() const { return instance_ctor_.Get(isolate_); }
  v8::Local<v8::Function> memory_constructor() const { return memory_ctor_.Get(isolate_); }
  // A property name, internalized once per isolate: the names wasio looks up for every guest
  // (a fresh string from UTF-8 is hashed and looked up in V8's string table at each use).
  // `literal` must outlive the vm: a string literal or another static string.
  v8::Local<v8::String> name(std::string_view literal);
  // The module object of `m` in this isolate, made from the shared compiled code once.
  v8::MaybeLocal<v8::WasmModuleObject> module_object(const detail::module_data& m);

  // JSPI (engine/jspi.hpp), for a module whose blocking imports take V8's suspender
  // (module_data::jspi): the import object with those imports as suspending functions, made
  // once per module; and an export of it as a promising function.
  v8::MaybeLocal<v8::Object> jspi_imports(const detail::module_data& m);
  v8::MaybeLocal<v8::Function> promising(v8::Local<v8::Function> exported);

 private:
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  std::optional<v8::Locker> locker_;
  bool entered_ = false;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Object> imports_;
  v8::Global<v8::Function> instance_ctor_, memory_ctor_;
  std::unordered_map<uint64_t, v8::Global<v8::WasmModuleObject>> modules_;  // by module id
  v8::Global<v8::Object> jspi_glue_;  // engine/vm.cpp's kJspiGlue, once needed
  std::unordered_map<uint64_t, v8::Global<v8::Object>> jspi_imports_;  // by module id
  std::unordered_map<std::string_view, v8::Global<v8::String>> names_;
  v8::MaybeLocal<v8::Function> jspi_glue(const char* name);
};

}  // namespace wasio::engine
