#include "engine/wasm_summary.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

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
  // A signed LEB128 of at most 5 bytes (an i32), sign-extended to 32 bits.
  uint32_t sleb32() {
    uint32_t v = 0;
    int shift = 0;
    uint8_t x;
    do {
      x = byte();
      v |= uint32_t{x & 0x7fu} << shift;
      shift += 7;
    } while ((x & 0x80) && ok && shift < 35);
    if (x & 0x80) ok = false;
    if (shift < 32 && (x & 0x40)) v |= ~uint32_t{0} << shift;
    return v;
  }
  void skip(uint64_t n) {
    if (n > b.size() - at) ok = false;
    else at += n;
  }
  void skip_name() { skip(leb()); }
  std::string name() {
    uint64_t n = leb();
    if (!ok || n > b.size() - at) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b.data() + at), n);
    at += n;
    return s;
  }
  // A value type: one byte, or (typed references) a byte and a heap type.
  uint8_t valtype() {
    uint8_t t = byte();
    if (t == 0x63 || t == 0x64) sleb33();
    return t;
  }
  void sleb33() {
    for (int i = 0; i < 5; ++i) {
      if (!(byte() & 0x80)) return;
    }
    ok = false;
  }
  // A type section entry; nullopt (but read past) for a type that is not a plain function
  // type (the GC proposal's structs, arrays, recursion groups, subtypes).
  std::optional<func_sig> functype() {
    if (byte() != 0x60) {
      ok = false;  // the rest of the section cannot be walked without the GC encoding
      return std::nullopt;
    }
    func_sig f;
    for (auto* v : {&f.params, &f.results}) {
      uint64_t n = leb();
      if (n > b.size() - at) {
        ok = false;
        return std::nullopt;
      }
      for (; ok && n > 0; --n) v->push_back(valtype());
    }
    return f;
  }
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
  std::vector<std::optional<func_sig>> types;
  std::vector<uint32_t> functions;  // the type of each function, imported ones first
  auto sig_of = [&](uint64_t type) -> std::optional<func_sig> {
    return type < types.size() ? types[type] : std::nullopt;
  };
  uint8_t last_rank = 0;  // of the last non-custom section read
  while (r.ok && r.at < bytes.size()) {
    uint8_t id = r.byte();
    uint64_t size = r.leb();
    if (!r.ok || size > bytes.size() - r.at) return {};  // (not r.at + size: a 64-bit size wraps)
    // The known sections, each at most once and in the spec's order (custom ones anywhere):
    // anything else is invalid, and import_own_memory's edit would place its import wrongly.
    // Ranks by id: type, import, function, table, memory, tag, global, export, start, element,
    // data count, code, data.
    static constexpr uint8_t rank[14] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
    if (id > 13) return {};
    if (id != 0) {
      if (rank[id] <= last_rank) return {};
      last_rank = rank[id];
    }
    size_t end = r.at + size;
    // Each section is read within its own bounds: an entry running past the section's end (an
    // invalid module, which V8 will refuse) must not be read from the sections after it.
    reader sec{bytes.first(end)};
    sec.at = r.at;
    if (id == 1) {  // types
      for (uint64_t n = sec.leb(); sec.ok && n > 0; --n) types.push_back(sec.functype());
    } else if (id == 3) {  // functions: a type index each
      for (uint64_t n = sec.leb(); sec.ok && n > 0 && sec.at < end; --n) functions.push_back(static_cast<uint32_t>(sec.leb()));
    } else if (id == 7) {  // exports: name, kind, index
      for (uint64_t n = sec.leb(); sec.ok && n > 0 && sec.at < end; --n) {
        export_entry e;
        e.name = sec.name();
        e.kind = sec.byte();
        uint64_t index = sec.leb();
        if (e.kind == 0 && index < functions.size()) e.sig = sig_of(functions[index]);
        s.exports.push_back(std::move(e));
      }
    } else if (id == 2) {  // imports: module, name, kind, description
      for (uint64_t n = sec.leb(); sec.ok && n > 0; --n) {
        import_entry imp;
        imp.module = sec.name();
        imp.name = sec.name();
        uint8_t kind = imp.kind = sec.byte();
        switch (kind) {
          case 0: {  // function: type index
            uint64_t type = sec.leb();
            functions.push_back(static_cast<uint32_t>(type));
            if (auto sig = sig_of(type)) {
              imp.sig = std::move(*sig);
              imp.sig_known = true;
            }
            break;
          }
          case 1: sec.byte(); sec.read_limits(); break;     // table: reftype, limits
          case 2: s.imports_memory = true; sec.read_limits(); break;
          case 3: sec.byte(); sec.byte(); break;            // global: valtype, mutability
          case 4: sec.byte(); sec.leb(); break;             // tag: attribute, type index
          default: return {};
        }
        if (sec.ok) s.imports.push_back(std::move(imp));
      }
      if (!sec.ok || sec.at != end) return {};
    } else if (id == 5) {  // memories
      for (uint64_t n = sec.leb(); sec.ok && n > 0; --n) {
        mem = sec.read_limits();
        ++memories;
      }
      if (!sec.ok || sec.at != end) return {};
    } else if (id == 8) {  // start
      s.start = static_cast<uint32_t>(sec.leb());
    } else if (id == 11) {  // data: flags (0: active, memory 0; 1: passive; 2: active, memory
                            // given), [memory], [offset expression], bytes
      for (uint64_t n = sec.leb(); sec.ok && n > 0; --n) {
        uint64_t flags = sec.leb();
        uint64_t memory = flags == 2 ? sec.leb() : 0;
        if (flags > 2) {
          s.data_unplaced = true;
          break;
        }
        std::optional<uint64_t> offset;
        if (flags != 1) {
          // Only the plain form (i32.const N; end) is read; another expression ends the walk.
          if (sec.byte() != 0x41) {
            s.data_unplaced |= memory == 0;
            break;
          }
          offset = sec.sleb32();  // the u32 address an i32 stands for
          if (sec.byte() != 0x0b) {
            s.data_unplaced |= memory == 0;
            break;
          }
        }
        uint64_t len = sec.leb();
        sec.skip(len);
        if (!sec.ok) s.data_unplaced = true;
        if (sec.ok && offset && memory == 0) {
          s.data_end = std::max(s.data_end, *offset + len);
          s.data_start = std::min(s.data_start, *offset);
        }
      }
    }
    r.at = end;
  }
  s.complete = r.ok;
  if (!r.ok || s.imports_memory || memories != 1 || (mem->flags & ~1u) || mem->min > 65536 ||
      mem->max > 65536) {
    s.own_memory = std::nullopt;
    return s;
  }
  memory_limits l{static_cast<uint32_t>(mem->min), std::nullopt};
  if (mem->flags & 1) l.maximum = static_cast<uint32_t>(mem->max);
  s.own_memory = l;
  return s;
}

namespace {

void put_leb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? (b | 0x80) : b);
  } while (v);
}

void put_section(std::vector<uint8_t>& out, uint8_t id, std::span<const uint8_t> payload) {
  out.push_back(id);
  put_leb(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

}  // namespace

std::optional<memory_import_edit> import_own_memory(std::span<const uint8_t> bytes, const wasm_summary& summary) {
  if (!summary.own_memory) return std::nullopt;
  // The sections up to the memory section; sections come in a fixed order (custom ones
  // anywhere), the import section, if any, before the memory section.
  struct section {
    uint8_t id;
    std::span<const uint8_t> payload;
  };
  std::vector<section> sections;
  reader r{bytes};
  r.skip(8);
  while (r.ok && r.at < bytes.size() && (sections.empty() || sections.back().id != 5)) {
    uint8_t id = r.byte();
    uint64_t size = r.leb();
    if (!r.ok || size > bytes.size() - r.at) return std::nullopt;
    sections.push_back({id, bytes.subspan(r.at, size)});
    r.at += size;
  }
  if (sections.empty() || sections.back().id != 5) return std::nullopt;
  // The import that replaces the memory, with its limits as encoded.
  std::vector<uint8_t> entry;
  for (std::string_view name : {std::string_view("wasio"), std::string_view("memory")}) {
    put_leb(entry, name.size());
    entry.insert(entry.end(), name.begin(), name.end());
  }
  entry.push_back(2);  // memory
  reader m{sections.back().payload};
  m.leb();  // count: 1, summarize checked
  size_t from = m.at;
  m.read_limits();
  if (!m.ok) return std::nullopt;
  entry.insert(entry.end(), m.b.begin() + from, m.b.begin() + m.at);
  sections.pop_back();  // the memory is now imported

  memory_import_edit edit{{bytes.begin(), bytes.begin() + 8}, r.at};
  bool imported = false;
  auto add_import_section = [&](std::span<const uint8_t> old) {
    std::vector<uint8_t> payload;
    reader i{old};
    uint64_t n = old.empty() ? 0 : i.leb();
    put_leb(payload, n + 1);
    payload.insert(payload.end(), old.begin() + i.at, old.end());  // the imports so far, then ours
    payload.insert(payload.end(), entry.begin(), entry.end());
    put_section(edit.prefix, 2, payload);
    imported = true;
  };
  for (const auto& sec : sections) {
    if (sec.id == 2) {
      add_import_section(sec.payload);
      continue;
    }
    if (!imported && sec.id > 2) add_import_section({});  // the import section comes before
    put_section(edit.prefix, sec.id, sec.payload);
  }
  if (!imported) add_import_section({});
  return edit;
}

}  // namespace wasio::engine
