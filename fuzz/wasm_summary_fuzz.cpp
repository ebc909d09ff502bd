// libFuzzer harness: the module reader that runs before V8 or binaryen have seen a module
// (engine/wasm_summary.cpp), on any bytes. It must never read out of bounds, overflow or loop
// forever; what it finds must be consistent (an edit replaces bytes that exist and leaves a
// module the reader reads again with the memory imported). Limits need not make sense (a
// maximum below the initial size): V8 refuses such a module after this.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "engine/wasm_summary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto s = wasio::engine::summarize(bytes);
  if (auto edit = wasio::engine::import_own_memory(bytes, s)) {
    if (edit->replaces > size || edit->prefix.size() > edit->replaces + wasio::engine::kMemoryImportRoom) std::abort();
    std::vector<uint8_t> edited(edit->prefix);
    edited.insert(edited.end(), bytes.begin() + static_cast<std::ptrdiff_t>(edit->replaces), bytes.end());
    auto again = wasio::engine::summarize(edited);
    if (s.complete && (!again.imports_memory || again.own_memory)) std::abort();
  }
  return 0;
}
