// wasio's asyncify rewrite, as a process of its own: the library runs it (embedded in the library,
// from a memfd, engine/asyncify_rewrite.cpp) for each module it rewrites.
//
//   wasio-rewrite IMPORT_MEMORY LEGALIZE ALWAYS TICKS BLOCKING ALL JSPI START  < module.wasm  > record
//
// IMPORT_MEMORY, LEGALIZE and ALWAYS are 0 or 1 (ALWAYS: instrument a module even when none of
// its imports blocks, so that it can yield at a time slice); TICKS is 0, 1 (make it count ticks
// and call wasio.tick, add_ticks) or 2 (and let the guest suspend in wasio.tick); BLOCKING and
// ALL are the comma-separated imports that may suspend and that asyncify instruments
// ("module.name,..."). JSPI 1 prepares the module for JSPI instead of asyncify (jspi_rewrite);
// START is then the index of its start function, or -1 for none.
// The record (engine/rewrite_record.hpp) goes to stdout; binaryen's messages to stderr.
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
#include <cstdlib>
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
  int ticks = 0;  // 0: none; 1: counted (fuel); 2: counted, and wasio.tick may suspend the guest
  std::string blocking, all;
  bool jspi = false;
  bool ticks_only = false;  // fiber mode's: the ticks alone
  long long start = -1;     // with jspi: the start function's index
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

// The guest's tick counter and the import that refills it (engine/ticks.hpp).
constexpr const char* kTicks = rewrite_record::kTicksExport;
constexpr const char* kTickImport = "wasio_tick";
constexpr const char* kRefill = "wasio_refill";
constexpr const char* kCheck = "log_execution";  // the name binaryen's log-execution pass calls

// Makes the module count "ticks", in a global of its own, at every function entry, return and
// loop iteration, and call wasio.tick when its count runs out: that import charges the count to
// the guest's fuel, ends the guest when its fuel is spent, and (TICKS 2) may suspend it at the
// end of its time slice, so that a guest computing in a loop without any WASI call still
// yields, as wasmtime's epoch and fuel checks do.
//
// binaryen's own log-execution pass (src/passes/LogExecution.cpp) puts a call to the import
// env.log_execution(id) at those places, with binaryen's walker, which knows every kind of
// expression (its C API has no generic one). That import is then replaced by a function of ours,
// `if (!ticks) wasio_refill(); ticks -= 1`, which the inlining pass copies into every call site.
// The refill (`ticks = wasio.tick()`) stays out of line, padded with nops past the inlining
// size: a call in the hot code, even one never taken, made compute-bound code up to 2x slower
// still (V8 keeps values around a call in memory). Only the check is small enough to be always
// inlined (9 nodes, the size below), and no guest function is inlined for having one caller, so
// the guest's code is otherwise left as it was.
// False (the module unchanged) if the module already has a function or global of these names.
bool add_ticks(BinaryenModuleRef m) {
  if (BinaryenGetFunction(m, kCheck) || BinaryenGetFunction(m, kTickImport) || BinaryenGetFunction(m, kRefill) ||
      BinaryenGetGlobal(m, kTicks) || BinaryenGetExport(m, kTicks)) {
    return false;
  }
  const char* log_pass[] = {"log-execution"};
  BinaryenModuleRunPasses(m, log_pass, 1);
  BinaryenRemoveFunction(m, kCheck);  // the import the pass added, called at each place
  BinaryenType i32 = BinaryenTypeInt32();
  // 0 at first: the first check asks wasio.tick for the guest's first grant.
  BinaryenAddGlobal(m, kTicks, i32, true, BinaryenConst(m, BinaryenLiteralInt32(0)));
  // Exported for the host alone (guest::fuel_left reads what is left of a grant between an
  // instance's calls); the embedder's export list is the module's as given.
  BinaryenAddGlobalExport(m, kTicks, kTicks);
  BinaryenAddFunctionImport(m, kTickImport, "wasio", "tick", BinaryenTypeNone(), i32);
  // The refill, out of line: too big to be inlined (nops), so that the hot code holds no call.
  BinaryenExpressionRef refill[12];
  refill[0] = BinaryenGlobalSet(m, kTicks, BinaryenCall(m, kTickImport, nullptr, 0, i32));
  for (int i = 1; i < 12; ++i) refill[i] = BinaryenNop(m);
  BinaryenAddFunction(m, kRefill, BinaryenTypeNone(), BinaryenTypeNone(), nullptr, 0,
                      BinaryenBlock(m, nullptr, refill, 12, BinaryenTypeNone()));
  BinaryenExpressionRef seq[2] = {
      BinaryenIf(m, BinaryenUnary(m, BinaryenEqZInt32(), BinaryenGlobalGet(m, kTicks, i32)),
                 BinaryenCall(m, kRefill, nullptr, 0, BinaryenTypeNone()), nullptr),
      BinaryenGlobalSet(m, kTicks, BinaryenBinary(m, BinaryenSubInt32(), BinaryenGlobalGet(m, kTicks, i32),
                                                  BinaryenConst(m, BinaryenLiteralInt32(1))))};
  BinaryenExpressionRef body = BinaryenBlock(m, nullptr, seq, 2, BinaryenTypeNone());
  BinaryenAddFunction(m, kCheck, i32, BinaryenTypeNone(), nullptr, 0, body);
  BinaryenSetAlwaysInlineMaxSize(9);
  BinaryenSetOneCallerInlineMaxSize(0);
  BinaryenSetFlexibleInlineMaxSize(0);
  const char* inline_pass[] = {"inlining"};
  BinaryenModuleRunPasses(m, inline_pass, 1);
  return true;
}

// Splits the i64 parameters of imports into i32 pairs (settings.legalize): V8 would otherwise
// allocate a BigInt for each one on every call (clock_time_get, fd_seek, ...). Level 1, for the
// passes after it too, keeps asyncify's size cost near +30% at a third of level 2's time
// (ENGINE-FACTS.md).
void legalize(BinaryenModuleRef m, const settings& settings) {
  BinaryenSetOptimizeLevel(1);
  BinaryenSetShrinkLevel(0);
  if (settings.legalize) {
    const char* pass[] = {"legalize-js-interface"};
    BinaryenModuleRunPasses(m, pass, 1);
  }
}

#ifdef WASIO_BINARYEN_JSPI
// Two imports of one name with different types (the WasmEdge socket extension's v1 and v2 of a
// function, which the Rust crate mixes in one module) cannot both be served by one suspending
// function, whose type is fixed: each after the first is renamed NAME#N, which the JSPI import
// object (engine/vm.cpp) serves with NAME's function, and added to `listed` where NAME is.
void name_duplicate_imports(BinaryenModuleRef m, std::string& listed) {
  struct import {
    std::string internal, module, base;
    BinaryenType params, results;
  };
  std::vector<import> renamed;
  std::set<std::string> seen;
  for (BinaryenIndex i = 0, n = BinaryenGetNumFunctions(m); i < n; ++i) {
    BinaryenFunctionRef f = BinaryenGetFunctionByIndex(m, i);
    const char* mod = BinaryenFunctionImportGetModule(f);
    if (!mod || !*mod) continue;
    std::string base = BinaryenFunctionImportGetBase(f);
    if (seen.insert(std::string(mod) + "." + base).second) continue;
    renamed.push_back({BinaryenFunctionGetName(f), mod, base, BinaryenFunctionGetParams(f), BinaryenFunctionGetResults(f)});
  }
  std::set<std::string> names(seen);
  std::string in_list = "," + listed + ",";
  for (const auto& r : renamed) {
    std::string name;
    for (int k = 2; names.count(r.module + "." + (name = r.base + "#" + std::to_string(k))); ++k) {
    }
    names.insert(r.module + "." + name);
    BinaryenRemoveFunction(m, r.internal.c_str());
    BinaryenAddFunctionImport(m, r.internal.c_str(), r.module.c_str(), name.c_str(), r.params, r.results);
    if (in_list.find("," + r.module + "." + r.base + ",") != std::string::npos) listed += "," + r.module + "." + name;
  }
}
#endif

// For JSPI (engine/jspi.cpp): binaryen's jspi pass threads V8's suspender through a global, so
// that the blocking imports take it as a first externref parameter (the guest may suspend in
// them) and every exported function does too (the host calls them as promising exports). The
// import and export names stay; nothing else changes: no instrumentation, no growth.
void jspi_rewrite(BinaryenModuleRef m, const settings& settings, uint32_t& flags) {
#ifndef WASIO_BINARYEN_JSPI
  (void)m, (void)settings, (void)flags;
  std::fputs("this binaryen has no jspi pass (binaryen 112 or later has)\n", stderr);
  ::_exit(1);
#else
  // The start function runs during instantiation, outside any promising export, where V8 11.3
  // traps every call of a suspending import: it becomes an export, which the host calls (as a
  // promising one) once the module is instantiated, and the start an empty function. First,
  // while binaryen's functions are still in the module's index order (imports, then the
  // defined ones), in which the start section names it.
  if (settings.start >= 0) {
    BinaryenFunctionRef start =
        settings.start < BinaryenGetNumFunctions(m) ? BinaryenGetFunctionByIndex(m, static_cast<BinaryenIndex>(settings.start))
                                                    : nullptr;
    if (!start || BinaryenGetExport(m, kMovedStartExport) || BinaryenGetFunction(m, "wasio_no_start")) {
      std::fputs("its start function cannot be moved to an export\n", stderr);
      ::_exit(1);
    }
    BinaryenAddFunctionExport(m, BinaryenFunctionGetName(start), kMovedStartExport);
    BinaryenSetStart(m, BinaryenAddFunction(m, "wasio_no_start", BinaryenTypeNone(), BinaryenTypeNone(), nullptr, 0,
                                            BinaryenNop(m)));
    flags |= moved_start;
  }
  legalize(m, settings);
  if ((flags & blocks) || settings.always) {
    std::string listed = settings.always ? settings.all : settings.blocking;
    name_duplicate_imports(m, listed);
    std::string exports;
    for (BinaryenIndex i = 0, n = BinaryenGetNumExports(m); i < n; ++i) {
      BinaryenExportRef e = BinaryenGetExportByIndex(m, i);
      if (BinaryenExportGetKind(e) != BinaryenExternalFunction()) continue;
      exports += (exports.empty() ? "" : ",") + std::string(BinaryenExportGetName(e));
    }
    // With time slices, every import: a guest yields in whichever it calls at a slice's end.
    BinaryenSetPassArgument("jspi-imports", listed.c_str());
    BinaryenSetPassArgument("jspi-exports", exports.c_str());
    const char* jspi_pass[] = {"jspi"};
    BinaryenModuleRunPasses(m, jspi_pass, 1);
    flags |= jspi | (settings.always ? every_import : 0);
  }
  // V8 11 has reference types but not GC: the suspender global's null must be written as
  // `ref.null extern`, which binaryen does only with GC (and strings, which need it) off.
  BinaryenModuleSetFeatures(m, BinaryenFeatureAll() & ~BinaryenFeatureGC() & ~BinaryenFeatureStrings());
#endif
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
  uint32_t stack_start = 0;
  if (imports_any_of(m, blocking)) flags |= blocks;
  if (settings.jspi) {
    jspi_rewrite(m, settings, flags);
    changed = true;
  } else if (settings.ticks_only) {
    // Fiber mode suspends a guest on a stack of its own, wherever it is: only its fuel needs the
    // module changed.
    legalize(m, settings);  // binaryen's optimization levels for add_ticks' inlining
    if (settings.ticks && add_ticks(m)) flags |= ticks;
    changed = true;
  } else {
    const char* sp = nullptr;
    if (find_stack_pointer(m, &sp, &stack_start)) flags |= has_sp;
    if (BinaryenGetExport(m, "asyncify_start_unwind")) {
      flags |= asyncified;  // done by its producer: never twice
    } else {
      // Before asyncify, so that the wrappers legalizing adds are instrumented too; never on a
      // module already asyncified.
      legalize(m, settings);
      if (((flags & blocks) || settings.always) && (flags & has_sp)) {
        std::string all = settings.all;
        if (settings.ticks && add_ticks(m)) {
          flags |= ticks;
          // Listed to asyncify only where it may suspend: asyncify instruments every function
          // that may reach a listed import, and nearly every function counts ticks.
          if (settings.ticks == 2) all += ",wasio.tick";
        }
        BinaryenSetPassArgument("asyncify-imports", all.c_str());
        const char* asyncify[] = {"asyncify"};
        BinaryenModuleRunPasses(m, asyncify, 1);
        // The host never asks for the state, and V8 makes a function object for every exported
        // function of every instance (a sixth of the exports' cost in starting a small guest).
        BinaryenRemoveExport(m, "asyncify_get_state");
        flags |= asyncified | every_import;
      }
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
  if (argc != 9) {
    std::fputs("usage: wasio-rewrite IMPORT_MEMORY LEGALIZE ALWAYS TICKS BLOCKING ALL SUSPENSION START < module.wasm > record\n"
               "  SUSPENSION: 0 asyncify, 1 jspi, 2 none (the ticks alone, for fiber mode)\n", stderr);
    return 2;
  }
  auto on = [](const char* a) { return std::strcmp(a, "1") == 0; };
  settings s{on(argv[1]), on(argv[2]), on(argv[3]), std::atoi(argv[4]), argv[5], argv[6],
             on(argv[7]),  std::strcmp(argv[7], "2") == 0, std::atoll(argv[8])};
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
