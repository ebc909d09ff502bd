// The asyncify rewrite's record, from the helper process (engine/rewrite_helper.cpp) to the
// library (engine/asyncify_rewrite.cpp) and in the disk cache: a header, an error text (unused
// now: the helper's messages are its stderr) and the module's bytes.
#pragma once
#include <cstdint>

namespace wasio::engine::rewrite_record {

constexpr uint32_t kMagic = 0x77617369;  // "wasi"
enum flag : uint32_t { asyncified = 1, has_sp = 2, blocks = 4, memory_imported = 8, every_import = 16, ticks = 32, jspi = 64, moved_start = 128 };

// With `ticks`: the global that counts them, exported under this name for the host alone
// (engine/ticks.hpp).
constexpr const char* kTicksExport = "wasio_ticks";
// With `moved_start`: the module's start function, no longer its start but exported under this
// name, for the host to call (as a promising export) once the module is instantiated (JSPI).
constexpr const char* kMovedStartExport = "wasio_start";

struct header {
  uint32_t magic;
  uint32_t flags;
  uint32_t error_len;
  uint32_t bytes_len;
  uint32_t stack_start;  // the stack pointer's initial value, with has_sp
};

}  // namespace wasio::engine::rewrite_record
