// A small reader of a module's sections: enough to decide, before binaryen sees the module,
// whether wasio may supply its memory (see docs/why-memory-pool.md), where its stack lies, and
// what it imports and exports with which signatures (checked against the host's functions
// before instantiation, and used to call exports from C++).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wasio::engine {

struct memory_limits {
  uint32_t initial = 0;             // pages
  std::optional<uint32_t> maximum;  // pages
};

// `l` with its maximum lowered to `cap` pages (limits::memory_pages; 0: no cap).
inline memory_limits capped(memory_limits l, uint32_t cap) {
  if (cap && (!l.maximum || *l.maximum > cap)) l.maximum = cap;
  return l;
}

// A function type as the module declares it: value types by their binary encoding (0x7f i32,
// 0x7e i64, 0x7d f32, 0x7c f64; anything else, a vector or a reference, is kept as its first
// byte and callable from nowhere but wasm).
struct func_sig {
  std::vector<uint8_t> params, results;
  bool operator==(const func_sig&) const = default;
  // Numbers only (i32, i64, f32, f64): what C++ can call and be called with.
  bool numeric() const {
    auto number = [](uint8_t t) { return t == 0x7f || t == 0x7e || t == 0x7d || t == 0x7c; };
    for (auto* v : {&params, &results}) {
      for (uint8_t t : *v) {
        if (!number(t)) return false;
      }
    }
    return true;
  }
};

struct import_entry {
  std::string module, name;
  uint8_t kind = 0;  // 0 function, 1 table, 2 memory, 3 global, 4 tag
  func_sig sig;      // functions
  bool sig_known = false;  // its type was read (not a GC-proposal type this reader skips)
};

struct export_entry {
  std::string name;
  uint8_t kind = 0;
  std::optional<func_sig> sig;  // functions whose type this reader could resolve
};

struct wasm_summary {
  std::vector<import_entry> imports;
  std::vector<export_entry> exports;
  bool imports_memory = false;
  // The one memory the module defines, when it is a plain wasm32 memory (not shared, not
  // memory64) that it does not import.
  std::optional<memory_limits> own_memory;
  // Where the active data segments placed at constant offsets end in memory 0: instantiation
  // writes the segments, which for a C program fill most of the pages below (for a data-heavy
  // program, tens of MB).
  uint64_t data_end = 0;
  // Where the lowest of those segments starts (UINT64_MAX: none), and whether an active
  // segment of memory 0 lies where this reader cannot tell (an offset that is not i32.const).
  uint64_t data_start = UINT64_MAX;
  bool data_unplaced = false;
  std::optional<uint32_t> start;  // the start function's index: it runs during instantiation
  bool complete = false;  // every section was read (else the fields above may miss some)
};

// Reads `bytes`, which need not be valid (it runs before V8 has seen them): unreadable input
// gives an empty summary.
wasm_summary summarize(std::span<const uint8_t> bytes);

// The edit that turns the module's own memory (summarize's own_memory) into the import
// wasio.memory with the same limits, so that the host can supply it (and cap it): the section-
// level edit binaryen makes for asyncify mode, without binaryen, for fiber mode's big modules.
// It replaces the module's first `replaces` bytes (the sections up to the memory section) with
// `prefix` and leaves the rest, nearly all of a big module, where it is: a buffer with room in
// front takes it in place (byte_buffer::replace_front). `summary` is summarize(bytes), which
// the caller has already made. Nullopt when the module has no such memory.
struct memory_import_edit {
  std::vector<uint8_t> prefix;
  size_t replaces = 0;
};
std::optional<memory_import_edit> import_own_memory(std::span<const uint8_t> bytes, const wasm_summary& summary);

// More than the room in front of a module that import_own_memory's edit needs: it adds the new
// import (the names, 14 bytes, and the limits as the memory section encoded them) and a new
// import section's header or longer LEB128s in the old one's (3 bytes at most), and removes the
// memory section, whose limits were the same bytes: at most 17 more.
inline constexpr size_t kMemoryImportRoom = 64;

}  // namespace wasio::engine
