// The asyncify rewrite, in a child process.
//
// binaryen (108, Debian) calls abort() on modules it cannot handle (seen: a GHC-compiled module,
// "unexpected expression type"), and its pass settings are process globals. A forked child makes
// both harmless: the parent never calls binaryen, and a crash there is an error message here.
#include <binaryen-c.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "async/unique_fd.hpp"
#include "engine/disk_cache.hpp"
#include "engine/imports.hpp"
#include "engine/module.hpp"

namespace wasio::engine {
namespace {

constexpr uint32_t kMagic = 0x77617369;  // "wasi"
enum flag : uint32_t { asyncified = 1, has_sp = 2, blocks = 4, memory_imported = 8, every_import = 16 };

struct header {
  uint32_t magic;
  uint32_t flags;
  uint32_t error_len;
  uint32_t bytes_len;
  uint32_t stack_start;  // the stack pointer's initial value, with has_sp
};

// Whether `e`, a function's statement, is wasm-ld's prologue on global `sp`:
// global.set sp (local.tee x (i32.sub (global.get sp) N)): the frame taken below the pointer.
bool is_prologue(BinaryenExpressionRef e, const char* sp) {
  if (BinaryenExpressionGetId(e) != BinaryenGlobalSetId() || std::strcmp(BinaryenGlobalSetGetName(e), sp) != 0) {
    return false;
  }
  BinaryenExpressionRef v = BinaryenGlobalSetGetValue(e);
  if (BinaryenExpressionGetId(v) == BinaryenLocalSetId() && BinaryenLocalSetIsTee(v)) v = BinaryenLocalSetGetValue(v);
  if (BinaryenExpressionGetId(v) != BinaryenBinaryId() || BinaryenBinaryGetOp(v) != BinaryenSubInt32()) return false;
  BinaryenExpressionRef l = BinaryenBinaryGetLeft(v);
  return BinaryenExpressionGetId(l) == BinaryenGlobalGetId() && std::strcmp(BinaryenGlobalGetGetName(l), sp) == 0;
}

// wasm-ld puts the shadow-stack pointer in global 0 (C, C++, Rust, Zig): a mutable, defined i32
// with a constant start, below which the stack's free space lies. Other producers'
// global 0 may be anything else (a bump allocator's next free byte, in AssemblyScript-style and
// hand-written modules), and a buffer put below it would overwrite the guest's data. So the
// global counts as a stack pointer only when it is one: named __stack_pointer, or used as one,
// some function taking its frame below it in wasm-ld's prologue (the name section is often
// stripped). `*start` receives its initial value.
bool find_stack_pointer(BinaryenModuleRef m, const char** name, uint32_t* start) {
  if (BinaryenGetNumGlobals(m) == 0) return false;
  BinaryenGlobalRef g = BinaryenGetGlobalByIndex(m, 0);
  const char* import_module = BinaryenGlobalImportGetModule(g);
  if (import_module && *import_module) return false;
  if (!BinaryenGlobalIsMutable(g) || BinaryenGlobalGetType(g) != BinaryenTypeInt32()) return false;
  BinaryenExpressionRef init = BinaryenGlobalGetInitExpr(g);
  if (!init || BinaryenExpressionGetId(init) != BinaryenConstId()) return false;
  *name = BinaryenGlobalGetName(g);
  *start = static_cast<uint32_t>(BinaryenConstGetValueI32(init));
  if (std::strcmp(*name, "__stack_pointer") == 0) return true;
  for (BinaryenIndex i = 0, n = BinaryenGetNumFunctions(m); i < n; ++i) {
    BinaryenExpressionRef body = BinaryenFunctionGetBody(BinaryenGetFunctionByIndex(m, i));
    if (!body) continue;  // an import
    if (BinaryenExpressionGetId(body) != BinaryenBlockId()) {
      if (is_prologue(body, *name)) return true;
      continue;
    }
    // The prologue is among a function's first statements (after saving arguments).
    for (BinaryenIndex c = 0, nc = std::min<BinaryenIndex>(BinaryenBlockGetNumChildren(body), 4); c < nc; ++c) {
      if (is_prologue(BinaryenBlockGetChildAt(body, c), *name)) return true;
    }
  }
  return false;
}

bool imports_any_of(BinaryenModuleRef m, const std::set<std::string>& wanted) {
  for (BinaryenIndex i = 0, n = BinaryenGetNumFunctions(m); i < n; ++i) {
    BinaryenFunctionRef f = BinaryenGetFunctionByIndex(m, i);
    const char* mod = BinaryenFunctionImportGetModule(f);
    if (mod && *mod && wanted.count(std::string(mod) + "." + BinaryenFunctionImportGetBase(f))) {
      return true;
    }
  }
  return false;
}

const char* exported_global(BinaryenModuleRef m, const char* internal_name) {
  for (BinaryenIndex i = 0, n = BinaryenGetNumExports(m); i < n; ++i) {
    BinaryenExportRef e = BinaryenGetExportByIndex(m, i);
    if (BinaryenExportGetKind(e) == BinaryenExternalGlobal() &&
        std::strcmp(BinaryenExportGetValue(e), internal_name) == 0) {
      return BinaryenExportGetName(e);
    }
  }
  return nullptr;
}

// The child's work. Writes a header, an error text and the module bytes to `out`.
[[noreturn]] void child_main(std::span<const uint8_t> wasm, const rewrite_settings& settings, int out) {
  std::string imports = asyncify_import_list();
  if (!settings.extra_blocking.empty()) imports += "," + settings.extra_blocking;
  std::set<std::string> blocking;
  for (size_t b = 0, e; b < imports.size(); b = e + 1) {
    e = imports.find(',', b);
    if (e == std::string::npos) e = imports.size();
    blocking.insert(imports.substr(b, e - b));
  }

  BinaryenModuleRef m = BinaryenModuleRead(reinterpret_cast<char*>(const_cast<uint8_t*>(wasm.data())), wasm.size());
  BinaryenModuleSetFeatures(m, BinaryenFeatureAll());
  uint32_t flags = 0;
  bool changed = false;
  const char* sp = nullptr;
  uint32_t stack_start = 0;
  if (find_stack_pointer(m, &sp, &stack_start)) flags |= has_sp;
  if (imports_any_of(m, blocking)) flags |= blocks;
  if (BinaryenGetExport(m, "asyncify_start_unwind")) {
    flags |= asyncified;  // done by its producer: never twice
  } else {
    // Split the i64 parameters of imports into i32 pairs: V8 would otherwise allocate a BigInt
    // for each one on every call (clock_time_get, fd_seek, ...). Before asyncify, so that the
    // wrappers this adds are instrumented too; never on a module already asyncified.
    std::vector<const char*> passes;
    if (settings.legalize) passes.push_back("legalize-js-interface");
    if ((flags & blocks) && (flags & has_sp)) {
      std::string all_imports = asyncify_import_list(true);
      if (!settings.extra_all.empty()) all_imports += "," + settings.extra_all;
      BinaryenSetPassArgument("asyncify-imports", all_imports.c_str());
      passes.push_back("asyncify");
      flags |= asyncified | every_import;
    }
    // Level 1 keeps asyncify's size cost near +30% at a third of level 2's time (ENGINE-FACTS.md).
    BinaryenSetOptimizeLevel(1);
    BinaryenSetShrinkLevel(0);
    BinaryenModuleRunPasses(m, passes.data(), static_cast<BinaryenIndex>(passes.size()));
    changed = true;
  }
  if ((flags & asyncified) && (flags & has_sp)) {
    const char* exported = exported_global(m, sp);
    if (!exported) {
      BinaryenAddGlobalExport(m, sp, "__stack_pointer");
      changed = true;
    } else if (std::strcmp(exported, "__stack_pointer") != 0) {
      flags &= ~has_sp;  // exported under another name: leave the module alone
    }
  }
  if (settings.import_memory) {
    // The host supplies (and recycles) the memory: wasio.memory, same limits, still exported.
    BinaryenAddMemoryImport(m, "0", "wasio", "memory", 0);
    flags |= memory_imported;
    changed = true;
  }
  header h{kMagic, flags, 0, 0, stack_start};
  if (!changed) {
    async::write_all(out, &h, sizeof h);
    ::_exit(0);
  }
  BinaryenModuleAllocateAndWriteResult r = BinaryenModuleAllocateAndWrite(m, nullptr);
  h.bytes_len = static_cast<uint32_t>(r.binaryBytes);
  bool ok = async::write_all(out, &h, sizeof h) && async::write_all(out, r.binary, r.binaryBytes);
  ::_exit(ok ? 0 : 1);
}

}  // namespace

namespace {

// Takes the child's record (a header, an error text, the module bytes) into `res`; false when
// it is not a whole, well-formed record. The module's bytes stay where they are.
bool parse_record(byte_buffer data, rewrite_result& res) {
  header h{};
  auto d = data.bytes();
  if (d.size() < sizeof h) return false;
  std::memcpy(&h, d.data(), sizeof h);
  if (h.magic != kMagic || d.size() != sizeof h + uint64_t{h.error_len} + h.bytes_len) return false;
  res.asyncified = h.flags & asyncified;
  res.has_stack_pointer = h.flags & has_sp;
  res.stack_start = h.stack_start;
  res.unwinds_at_every_import = h.flags & every_import;
  res.imports_blocking = h.flags & blocks;
  res.memory_imported = h.flags & memory_imported;
  if (h.bytes_len) {
    data.narrow(sizeof h + h.error_len, h.bytes_len);
    res.bytes = std::move(data);
  }
  return true;
}

// Everything the rewrite's output depends on besides the input: a change to any of it is
// another cache key.
std::string settings_of(const rewrite_settings& s) {
  return "wasio-asyncify-4;level=1;memory=" + std::to_string(s.import_memory) + ";legalize=" +
         std::to_string(s.legalize) + ";imports=" + asyncify_import_list(true) + ";blocking=" + asyncify_import_list() +
         ";host=" + s.extra_all + ";host-blocking=" + s.extra_blocking;
}

}  // namespace

rewrite_result asyncify_rewrite(std::span<const uint8_t> wasm, const rewrite_settings& settings,
                                const rewrite_cache* cache, bool cached_only) {
  rewrite_result res;
  std::string key;
  if (cache) {
    std::string text = settings_of(settings);
    auto as_bytes = [](std::string_view s) { return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
    key = disk_cache::key({as_bytes(cache->input_digest), as_bytes(text)});
    if (auto stored = cache->dir->get(key)) {
      if (parse_record(std::move(*stored), res)) {
        res.from_cache = true;
        return res;
      }
      cache->dir->drop(key);
      res = {};
    }
  }
  if (cached_only) {
    res.error = "not in the cache";
    return res;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    res.error = std::string("asyncify rewrite: pipe: ") + std::strerror(errno);
    return res;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    res.error = std::string("asyncify rewrite: fork: ") + std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    return res;
  }
  if (pid == 0) {
    ::close(p[0]);
    child_main(wasm, settings, p[1]);
  }
  ::close(p[1]);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !parse_record(byte_buffer::copy_of({reinterpret_cast<const uint8_t*>(data.data()), data.size()}), res)) {
    res = {};
    res.error = WIFSIGNALED(status)
                    ? "asyncify rewrite: binaryen crashed on this module (signal " +
                          std::to_string(WTERMSIG(status)) + ")"
                    : "asyncify rewrite failed";
    return res;
  }
  if (cache) cache->dir->put(key, data);
  return res;
}

}  // namespace wasio::engine
