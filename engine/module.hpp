// Module loading: validation, the asyncify rewrite, compilation. The compiled code is shared by
// every worker's isolate (V8's CompiledWasmModule).
#pragma once
#include <v8.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/byte_buffer.hpp"
#include "wasio/host.hpp"
#include "engine/wasm_summary.hpp"

namespace wasio::detail {

struct module_data {
  uint64_t id = 0;   // unique in the process; keys per-worker caches
  std::string name;  // for messages: the file name, or "module"
  std::shared_ptr<v8::CompiledWasmModule> compiled;
  bool fiber = false;            // runs in fiber mode: `compiled` is the module as given
  bool jspi_mode = false;        // runs in JSPI mode (engine/jspi.hpp)
  bool jspi = false;             // its blocking imports and its exports take V8's suspender
  // Whether its guests can be parked on their thread (engine/loop_turns.hpp): not on a fiber's
  // stack, nor on a JSPI stack, which V8 keeps as the isolate's, not the thread's.
  bool parkable() const { return !fiber && !jspi_mode; }
  bool moved_start = false;      // its start function is called after instantiation (rewrite_result)
  std::string mode_reason;       // why this mode, for a log line
  bool asyncified = false;       // exports asyncify_start_unwind & co.
  bool unwinds_at_every_import = false;  // asyncified here, with every WASI import listed
  bool counts_ticks = false;             // calls wasio.tick as it computes (engine/ticks.hpp)
  bool has_stack_pointer = false;  // exports __stack_pointer (the asyncify buffer lies below it)
  uint32_t stack_floor = 0;        // with has_stack_pointer: where that buffer may start (stack_floor())
  // Set when the module's memory was turned into the import wasio.memory, which the worker
  // supplies from its pool: the limits of the memory to supply.
  std::optional<engine::memory_limits> supplied_memory;
  uint64_t data_end = 0;  // wasm_summary::data_end
  std::vector<engine::export_entry> exports;  // as the module declares them (before any rewrite)
  std::string link_error;  // non-empty: why its imports cannot be satisfied (check_imports)
};

}  // namespace wasio::detail

namespace wasio::engine {

// What the asyncify rewrite produced.
struct rewrite_result {
  byte_buffer bytes;  // the module to compile; empty: the input as it is (module_of)
  bool asyncified = false;
  bool unwinds_at_every_import = false;  // may yield in any import at the end of a time slice
  bool has_stack_pointer = false;
  uint32_t stack_start = 0;       // with has_stack_pointer: its initial value
  uint32_t stack_floor = 0;       // with has_stack_pointer: the bottom of the stack's region (stack_floor())
  bool imports_blocking = false;  // imports a WASI call that may suspend
  bool memory_imported = false;   // its own memory became the import wasio.memory
  bool counts_ticks = false;      // calls wasio.tick as it computes (engine/ticks.hpp)
  bool jspi = false;              // its blocking imports and its exports take V8's suspender
  bool moved_start = false;       // its start function is the export rewrite_record::kMovedStartExport
  bool from_cache = false;        // read from the disk cache, not rewritten now
  std::string error;  // non-empty: the rewrite failed

  // The module to compile, given the rewrite's input.
  std::span<const uint8_t> module_of(std::span<const uint8_t> input) const {
    return bytes.empty() ? input : bytes.bytes();
  }
};

class disk_cache;

// Where a rewrite may be kept: a disk cache, and the input's digest (disk_cache::key of its
// bytes, which the runtime has already computed for its own cache), so that looking an entry up
// does not hash the module again.
struct rewrite_cache {
  const disk_cache* dir;
  std::string_view input_digest;
};

// Rewrites `wasm` with binaryen's asyncify pass so that calls to the blocking WASI imports can
// unwind and rewind, and exports the shadow-stack pointer. Runs in a child process: binaryen
// aborts the process on modules it cannot handle, and that must not take the host down.
// With `import_memory`, the module's own memory also becomes the import wasio.memory. With a
// `cache`, a module rewritten before (by any process) is read from it instead.
// With `cached_only`, a module not in the cache is not rewritten: `error` says so.
// `extra` names the host functions the module imports: all of them are listed to asyncify
// (each may yield), and `extra.blocking` may suspend. With `legalize`, i64 parameters of
// imports become i32 pairs (only where no import returns an i64 and no export takes or returns
// one: binaryen's legalization would change those signatures too).
struct rewrite_settings {
  bool import_memory = false;
  bool legalize = true;
  std::string extra_all, extra_blocking;
  // Instrumented even when none of its imports blocks, so that its guests can yield at the end
  // of a time slice (runtime_options::time_slice): off only without time slices.
  bool always = true;
  // Counting ticks (engine/ticks.hpp): for fuel, and with `tick_yields` also to yield at the
  // end of a time slice in loops without any WASI call (runtime_options::count_ticks).
  bool ticks = false;
  bool tick_yields = false;
  // Prepared for JSPI (engine/jspi.hpp) instead of asyncify: no instrumentation, no ticks.
  bool jspi = false;
  // For fiber mode, which needs no rewrite to suspend: only the ticks (and the memory import).
  bool ticks_only = false;
  // With jspi: the start function's index (-1: none), which the rewrite moves to an export.
  int64_t start = -1;
};
rewrite_result asyncify_rewrite(std::span<const uint8_t> wasm, const rewrite_settings& settings,
                                const rewrite_cache* cache = nullptr, bool cached_only = false);

// How a module's guests are suspended (runtime_options::mode).
// prefer_jspi (WASIO_MODE=jspi, for running a test suite in JSPI mode): jspi where it can run
// the module, automatic otherwise.
enum class mode_choice { automatic, asyncify, fiber, jspi, prefer_jspi };

// In automatic mode, modules up to this size are rewritten for asyncify when the rewrite is not
// cached yet: a small C guest takes 0.1-0.4 s, a 21 MB C program 2 s, a 31 MB C++ one 219 s
// (ENGINE-FACTS.md). Bigger ones start in fiber mode at once.
inline constexpr size_t kCheapRewriteBytes = 4u << 20;

// In automatic mode, a bigger module whose rewrite is cached still runs as given (fiber mode)
// when the rewrite is more than this percentage of its size. Asyncify instruments code, not
// data, and V8 10.2 compiles the instrumented code again in each process (it cannot serialize
// Liftoff code): a 37 MB module of 150,000 functions grew 45% and started in 1.2x node's time
// from the cache, 0.7x in fiber mode; a 70 MiB data-heavy one grew 0.01% and started in 0.7x
// either way (bench/run.sh section 12). For a big module, a slower start outweighs the density.
inline constexpr size_t kMaxCachedGrowthPercent = 125;

// The lowest address of the shadow stack's region, which lies free below the stack pointer:
// asyncify's unwind buffer may use [floor, stack pointer). wasm-ld lays memory out as
// [data][stack][heap], or [stack][data][heap] with --stack-first. Below a stack-first stack
// there is nothing; above the data there is the bss, which the module does not describe, so
// the stack is taken to hold at most wasm-ld's default 64 KiB there. Nullopt when the data
// straddles the stack's start or cannot be placed: then it is no stack wasio can trust.
std::optional<uint32_t> stack_floor(const wasm_summary& s, uint32_t stack_start);

struct prepared_module {
  std::shared_ptr<v8::CompiledWasmModule> code;
  bool fiber = false;       // the code is the module as given, for fiber mode
  bool jspi = false;        // JSPI mode (info.jspi: its imports that block take the suspender)
  std::string mode_reason;  // why this mode, for a log line
  rewrite_result info;
  std::optional<memory_limits> supplied_memory;
  uint64_t data_end = 0;  // wasm_summary::data_end
  std::vector<export_entry> exports;
  std::string link_error;  // check_imports' reason, if any
  std::string error;  // non-empty: the module cannot be run; a one-line reason
};

// Validates, chooses the mode, rewrites for asyncify (through `cache` if given) if that is the
// mode, and compiles, on a short-lived isolate of the calling thread. Automatic: asyncify when
// the rewrite is cheap, or cached and not much bigger (kMaxCachedGrowthPercent); fiber
// otherwise and when asyncify cannot serve the module (binaryen fails on it, or it blocks
// without a shadow-stack pointer). `owner`, if given, holds `bytes` with kMemoryImportRoom in
// front, and may be edited or emptied: fiber mode's edit is then made in place rather than in a
// copy, and a rewritten module's input is let go before the compile.
// `host` (may be null): the embedder's functions, which the module's imports are checked against
// and instrumented for.
prepared_module prepare_module(std::span<const uint8_t> bytes, byte_buffer* owner = nullptr,
                               const rewrite_cache* cache = nullptr, mode_choice mode = mode_choice::automatic,
                               const host_functions* host = nullptr, bool time_slices = true,
                               bool count_ticks = false);

// Process-wide V8 set-up, done once (platform, flags). Safe to call from any thread.
void ensure_v8();

// The bytes V8 reserves for each JSPI stack (--wasm-stack-switching-stack-size, as ensure_v8
// set it, or WASIO_V8_FLAGS after it); 0 without JSPI.
int64_t jspi_stack_bytes();

}  // namespace wasio::engine
