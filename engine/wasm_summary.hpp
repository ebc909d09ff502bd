// A small reader of a module's import and memory sections: enough to decide, before binaryen
// sees the module, whether wasio may supply its memory (see docs/why-memory-pool.md).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace wasio::engine {

struct memory_limits {
  uint32_t initial = 0;             // pages
  std::optional<uint32_t> maximum;  // pages
};

struct wasm_summary {
  bool imports_memory = false;
  // The one memory the module defines, when it is a plain wasm32 memory (not shared, not
  // memory64) that it does not import.
  std::optional<memory_limits> own_memory;
};

// Reads `bytes` (already validated by V8); unreadable input gives an empty summary.
wasm_summary summarize(std::span<const uint8_t> bytes);

// The module with its own memory (summarize's own_memory) turned into the import wasio.memory
// with the same limits, so that the host can supply it (and cap it); the section-level edit
// binaryen makes for asyncify mode, without binaryen, for fiber mode's big modules. Empty when
// the module has no such memory.
std::vector<uint8_t> import_own_memory(std::span<const uint8_t> bytes);

}  // namespace wasio::engine
