// Module loading: validation, the asyncify rewrite, compilation. The compiled code is shared by
// every worker's isolate (V8's CompiledWasmModule).
#pragma once
#include <v8.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace wasio::detail {

struct module_data {
  uint64_t id = 0;   // unique in the process; keys per-worker caches
  std::string name;  // for messages: the file name, or "module"
  std::shared_ptr<v8::CompiledWasmModule> compiled;
  bool asyncified = false;       // exports asyncify_start_unwind & co.
  bool has_stack_pointer = false;  // exports __stack_pointer (the asyncify buffer goes below it)
};

}  // namespace wasio::detail

namespace wasio::engine {

// What the asyncify rewrite produced.
struct rewrite_result {
  std::vector<uint8_t> bytes;  // the module to compile (the input when nothing was needed)
  bool asyncified = false;
  bool has_stack_pointer = false;
  bool imports_blocking = false;  // imports a WASI call that may suspend
  std::string error;  // non-empty: the rewrite failed
};

// Rewrites `wasm` with binaryen's asyncify pass so that calls to the blocking WASI imports can
// unwind and rewind, and exports the shadow-stack pointer. Runs in a child process: binaryen
// aborts the process on modules it cannot handle, and that must not take the host down.
rewrite_result asyncify_rewrite(std::span<const uint8_t> wasm);

struct prepared_module {
  std::shared_ptr<v8::CompiledWasmModule> code;
  rewrite_result info;
  std::string error;  // non-empty: the module cannot be run; a one-line reason
};

// Validates, rewrites and compiles `bytes` on a short-lived isolate of the calling thread.
prepared_module prepare_module(std::span<const uint8_t> bytes);

// Process-wide V8 set-up, done once (platform, flags). Safe to call from any thread.
void ensure_v8();

}  // namespace wasio::engine
