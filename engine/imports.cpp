#include "engine/imports.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace wasio::engine {
namespace {

// Every function of wasi_snapshot_preview1, in the witx's order. Those without a thunk yet
// answer nosys, so that any WASI module links and fails only if it calls them.
constexpr std::string_view preview1_names[] = {
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get",
    "clock_time_get", "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
    "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
    "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
    "path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link",
    "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get",
    "sock_accept", "sock_recv", "sock_send", "sock_shutdown"};
static_assert(std::size(preview1_names) == 46);

void nosys(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(static_cast<int32_t>(52));  // errc::nosys
}

std::vector<import_row> build_preview1() {
  const auto groups = {args_clock_random_rows(), fd_rows(), path_rows(), poll_proc_sched_rows(), sock_rows()};
  std::vector<import_row> all;
  for (auto name : preview1_names) {
    import_row row{name, nosys, false, 0};
    for (auto group : groups) {
      for (auto& r : group) {
        if (r.name == name) row = r;
      }
    }
    all.push_back(row);
  }
  // The WasmEdge socket extension's functions, in the same module (as WasmEdge and wasi-go
  // serve them).
  for (auto& r : sock_rows()) {
    if (std::find(std::begin(preview1_names), std::end(preview1_names), r.name) == std::end(preview1_names)) {
      all.push_back(r);
    }
  }
  return all;
}

std::vector<import_row> build_snapshot0() {
  std::vector<import_row> all(preview1_rows().begin(), preview1_rows().end());
  for (auto group : {fd_snapshot0_rows(), path_snapshot0_rows(), poll_snapshot0_rows()}) {
    for (auto& r : group) {
      for (auto& row : all) {
        if (row.name == r.name) row = r;
      }
    }
  }
  return all;
}

constexpr const char* kPreview1 = "wasi_snapshot_preview1";
constexpr const char* kSnapshot0 = "wasi_unstable";

}  // namespace

std::span<const import_row> preview1_rows() {
  static const std::vector<import_row> rows = build_preview1();
  return rows;
}

std::span<const import_row> snapshot0_rows() {
  static const std::vector<import_row> rows = build_snapshot0();
  return rows;
}

std::string asyncify_import_list(bool all) {
  std::string list;
  for (auto [module, rows] : {std::pair{kPreview1, preview1_rows()}, std::pair{kSnapshot0, snapshot0_rows()}}) {
    for (auto& r : rows) {
      if (!r.blocking && !all) continue;
      if (!list.empty()) list += ',';
      list += module;
      list += '.';
      list += r.name;
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

v8::Local<v8::Object> make_namespace(v8::Local<v8::Context> ctx, std::span<const import_row> rows) {
  v8::Isolate* iso = ctx->GetIsolate();
  auto ns = v8::Object::New(iso);
  for (auto& r : rows) {
    auto name = v8::String::NewFromUtf8(iso, r.name.data(), v8::NewStringType::kInternalized,
                                        static_cast<int>(r.name.size())).ToLocalChecked();
    auto fn = v8::Function::New(ctx, r.thunk, {}, r.arity, v8::ConstructorBehavior::kThrow).ToLocalChecked();
    fn->SetName(name);
    ns->Set(ctx, name, r.thunk == nosys ? fn : js_trampoline(ctx, fn, r.arity)).Check();
  }
  return ns;
}

}  // namespace

v8::Local<v8::Object> make_import_object(v8::Local<v8::Context> ctx) {
  v8::Isolate* iso = ctx->GetIsolate();
  auto imports = v8::Object::New(iso);
  imports->Set(ctx, v8::String::NewFromUtf8(iso, kPreview1).ToLocalChecked(), make_namespace(ctx, preview1_rows())).Check();
  imports->Set(ctx, v8::String::NewFromUtf8(iso, kSnapshot0).ToLocalChecked(), make_namespace(ctx, snapshot0_rows())).Check();
  return imports;
}

}  // namespace wasio::engine
