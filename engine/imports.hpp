// The WASI import tables: one row per function (name, thunk, whether it can block), per module
// name. Rows are defined next to their thunks, one file per spec group.
#pragma once
#include <v8.h>

#include <span>
#include <string>
#include <string_view>

namespace wasio::engine {

struct import_row {
  std::string_view name;
  v8::FunctionCallback thunk;
  bool blocking;  // may suspend the guest: listed to asyncify
  int arity;      // wasm parameters once legalized (an i64 counts as two i32)
};

// Every wasi_snapshot_preview1 function (the groups' rows, and ENOSYS for the rest), then the
// WasmEdge socket extension's.
std::span<const import_row> preview1_rows();
// The same for wasi_unstable (snapshot 0): the preview1 rows, but for the functions whose ABI
// differs, which have their own.
std::span<const import_row> snapshot0_rows();

// "wasi_snapshot_preview1.fd_read,...,wasi_unstable.fd_read,..." for asyncify-imports.
// "module.name,..." of the imports that may block (a module importing none of them needs no
// suspension), or, with `all`, of every WASI import: the list given to asyncify, since any call
// may yield the worker at the end of the guest's time slice.
std::string asyncify_import_list(bool all = false);

// `f` called through a JS function of `arity` parameters, which V8 calls from wasm faster than a
// C++ function imported directly (imports.cpp).
v8::Local<v8::Function> js_trampoline(v8::Local<v8::Context> ctx, v8::Local<v8::Function> f, int arity);

// Builds {wasi_snapshot_preview1: {...}, wasi_unstable: {...}}.
v8::Local<v8::Object> make_import_object(v8::Local<v8::Context> ctx);

}  // namespace wasio::engine

namespace wasio::engine {
// The rows of each spec group, defined beside their thunks.
std::span<const import_row> args_clock_random_rows();
std::span<const import_row> fd_rows();
std::span<const import_row> poll_proc_sched_rows();
std::span<const import_row> fd_snapshot0_rows();
std::span<const import_row> path_rows();
std::span<const import_row> path_snapshot0_rows();
std::span<const import_row> poll_snapshot0_rows();
std::span<const import_row> sock_rows();
}  // namespace wasio::engine
