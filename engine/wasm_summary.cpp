#include "engine/wasm_summary.hpp"

#include <string_view>

namespace wasio::engine {
namespace {

// Binary format: https://webassembly.github.io/spec/core/binary/modules.html
struct reader {
  std::span<const uint8_t> b;
  size_t at = 0;
  bool ok = true;

  uint8_t byte() {
    if (at >= b.size()) {
      ok = false;
      return 0;
    }
    return b[at++];
  }
  uint64_t leb() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t x = byte();
      v |= uint64_t{x & 0x7fu} << shift;
      if (!(x & 0x80) || !ok) return v;
    }
    ok = false;
    return v;
  }
  void skip(uint64_t n) {
    if (n > b.size() - at) ok = false;
    else at += n;
  }
  void skip_name() { skip(leb()); }
  // limits: flags (bit 0: has max, bit 1: shared, bit 2: memory64), min, [max]
  struct limits {
    uint8_t flags;
    uint64_t min, max;
  };
  limits read_limits() {
    limits l{byte(), 0, 0};
    l.min = leb();
    if (l.flags & 1) l.max = leb();
    return l;
  }
};

}  // namespace

wasm_summary summarize(std::span<const uint8_t> bytes) {
  wasm_summary s;
  reader r{bytes};
  r.skip(8);  // magic, version
  int memories = 0;
  std::optional<reader::limits> mem;
  while (r.ok && r.at < bytes.size()) {
    uint8_t id = r.byte();
    uint64_t size = r.leb();
    size_t end = r.at + size;
    if (!r.ok || end > bytes.size()) return {};
    if (id == 2) {  // imports: module, name, kind, description
      for (uint64_t n = r.leb(); r.ok && n > 0; --n) {
        r.skip_name();
        r.skip_name();
        uint8_t kind = r.byte();
        switch (kind) {
          case 0: r.leb(); break;                           // function: type index
          case 1: r.byte(); r.read_limits(); break;         // table: reftype, limits
          case 2: s.imports_memory = true; r.read_limits(); break;
          case 3: r.byte(); r.byte(); break;                // global: valtype, mutability
          case 4: r.byte(); r.leb(); break;                 // tag: attribute, type index
          default: return {};
        }
      }
    } else if (id == 5) {  // memories
      for (uint64_t n = r.leb(); r.ok && n > 0; --n) {
        mem = r.read_limits();
        ++memories;
      }
    }
    r.at = end;
  }
  if (!r.ok || s.imports_memory || memories != 1 || (mem->flags & ~1u) || mem->min > 65536 ||
      mem->max > 65536) {
    return wasm_summary{s.imports_memory, std::nullopt};
  }
  memory_limits l{static_cast<uint32_t>(mem->min), std::nullopt};
  if (mem->flags & 1) l.maximum = static_cast<uint32_t>(mem->max);
  s.own_memory = l;
  return s;
}

}  // namespace wasio::engine
