// The embedder's host functions (include/wasio/host.hpp) as imports: their V8 callbacks, which
// decode the wasm arguments and hand an awaitable one to the guest's suspension mode as a
// blocking WASI call is; the check of a module's imports before instantiation; the lists of
// them the asyncify rewrite needs.
#pragma once
#include <v8.h>

#include <optional>
#include <string>

#include "engine/wasm_summary.hpp"
#include "wasio/host.hpp"

namespace wasio::engine {

// Adds one namespace per module of `host` to `imports`.
void add_host_imports(v8::Local<v8::Context> ctx, v8::Local<v8::Object> imports, const host_functions& host);

// A one-line reason why the imports of a module (as summarize read them) cannot be satisfied:
// a name WASI does not have, a host function not defined, or defined with another signature.
std::optional<std::string> check_imports(const wasm_summary& s, const host_functions* host);

// The host functions a module imports, as "module.name,..." lists for asyncify: `all` of them
// (each may yield the worker at the end of a time slice), and the `blocking` ones (awaitable).
struct host_import_lists {
  std::string all, blocking;
};
host_import_lists host_imports_of(const wasm_summary& s, const host_functions* host);

// "(i32, i64) -> (f32)" and "(i32, i64)", for messages; types by their binary encoding.
std::string signature_text(const func_sig& s);
std::string types_text(const std::vector<uint8_t>& types);

}  // namespace wasio::engine
