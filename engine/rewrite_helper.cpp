// wasio's asyncify rewrite, as a process of its own: the library runs it (embedded in the library,
// from a memfd, engine/asyncify_rewrite.cpp) for each module it rewrites.
//
//   wasio-rewrite IMPORT_MEMORY LEGALIZE ALWAYS BLOCKING ALL  < module.wasm  > record
//
// IMPORT_MEMORY, LEGALIZE and ALWAYS are 0 or 1 (ALWAYS: instrument a module even when none of
// its imports blocks, so that it can yield at a time slice); BLOCKING and ALL are the
// comma-separated imports that may suspend and that asyncify instruments ("module.name,..."). The record
// (engine/rewrite_record.hpp) goes to stdout; binaryen's messages to stderr.
//
// Why a process: binaryen (108, Debian) calls abort() on modules it cannot handle (seen: a
// GHC-compiled module, "unexpected expression type") and keeps its pass settings in process
// globals; and why a fresh one, not a fork of the embedding process: a child forked from a
// process with V8's and the workers' threads may only call async-signal-safe functions, and
// binaryen does far more (a clean-clone test run once hung there).
#include <binaryen-c.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "async/unique_fd.hpp"
#include "engine/rewrite_record.hpp"

namespace wasio::engine {
namespace {

using namespace rewrite_record;

struct settings {
  bool import_memory = false;
  bool legalize = true;
  bool always = true;
  std::string blocking, all;
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

// The rewrite. Writes a header, an error text and the module bytes to `out`.
[[noreturn]] void rewrite(std::span<const uint8_t> wasm, const settings& settings, int out) {
  const std::string& imports = settings.blocking;
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
    if (((flags & blocks) || settings.always) && (flags & has_sp)) {
      BinaryenSetPassArgument("asyncify-imports", settings.all.c_str());
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
}  // namespace wasio::engine

int main(int argc, char** argv) {
  using namespace wasio::engine;
  if (argc != 6) {
    std::fputs("usage: wasio-rewrite IMPORT_MEMORY LEGALIZE ALWAYS BLOCKING ALL < module.wasm > record\n", stderr);
    return 2;
  }
  auto on = [](const char* a) { return std::strcmp(a, "1") == 0; };
  settings s{on(argv[1]), on(argv[2]), on(argv[3]), argv[4], argv[5]};
  std::vector<uint8_t> wasm;
  uint8_t buf[1 << 16];
  for (ssize_t n; (n = ::read(0, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("wasio-rewrite: reading the module");
      return 1;
    }
    wasm.insert(wasm.end(), buf, buf + n);
  }
  rewrite(wasm, s, 1);
}
