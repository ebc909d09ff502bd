// A small reader of a module's import and memory sections: enough to decide, before binaryen
// sees the module, whether wasio may supply its memory (see docs/why-memory-pool.md).
#pragma once
#include <cstdint>
#include <optional>
#include <span>

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

}  // namespace wasio::engine
