// The WASI import objects, built from the function table (src/wasi/functions.hpp): each row's
// thunk is bound to it in the file of its spec group, one file per group.
#pragma once
#include <v8.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "src/wasi/functions.hpp"

namespace wasio::engine {

struct import_row {
  size_t index;  // into wasi::functions
  v8::FunctionCallback thunk;
};

// "wasi_snapshot_preview1" or "wasi_unstable".
std::string_view module_name(wasi::module_set m);

// The callback serving row `index` of wasi::functions, or null if no group binds one.
v8::FunctionCallback thunk_of(size_t index);

// The wasm parameters of a row once legalized (an i64 may come as two i32 halves).
int legal_arity(const wasi::function_row& f);

// "module.name,..." of the WASI imports that may block (a module importing none of them needs
// no suspension), or, with `all`, of every one: the lists given to asyncify, since any call may
// yield the worker at the end of the guest's time slice.
std::string asyncify_import_list(bool all = false);

// `f` called through a JS function of `arity` parameters, which V8 calls from wasm faster than a
// C++ function imported directly (imports.cpp).
v8::Local<v8::Function> js_trampoline(v8::Local<v8::Context> ctx, v8::Local<v8::Function> f, int arity);

// Builds {wasi_snapshot_preview1: {...}, wasi_unstable: {...}, wasio: {tick}}.
v8::Local<v8::Object> make_import_object(v8::Local<v8::Context> ctx);

// The rows each spec group binds, beside their thunks.
std::span<const import_row> args_clock_random_rows();
std::span<const import_row> fd_rows();
std::span<const import_row> path_rows();
std::span<const import_row> poll_proc_sched_rows();
std::span<const import_row> sock_rows();

}  // namespace wasio::engine
