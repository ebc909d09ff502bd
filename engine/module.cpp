#include "engine/module.hpp"

#include <libplatform/libplatform.h>
#include <v8-version.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/host_calls.hpp"
#include "engine/memory_arena.hpp"

namespace wasio::engine {
namespace {

// The default platform, but with the memory arena as its page allocator (memory_arena.hpp).
class arena_platform final : public v8::Platform {
 public:
  arena_platform(v8::Platform& base, memory_arena& arena) : base_(base), arena_(arena) {}
  v8::PageAllocator* GetPageAllocator() override { return &arena_; }
  int NumberOfWorkerThreads() override { return base_.NumberOfWorkerThreads(); }
  std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner(v8::Isolate* iso) override {
    return base_.GetForegroundTaskRunner(iso);
  }
  void CallOnWorkerThread(std::unique_ptr<v8::Task> task) override { base_.CallOnWorkerThread(std::move(task)); }
  void CallDelayedOnWorkerThread(std::unique_ptr<v8::Task> task, double delay) override {
    base_.CallDelayedOnWorkerThread(std::move(task), delay);
  }
  bool IdleTasksEnabled(v8::Isolate* iso) override { return base_.IdleTasksEnabled(iso); }
  std::unique_ptr<v8::JobHandle> PostJob(v8::TaskPriority priority, std::unique_ptr<v8::JobTask> task) override {
    return base_.PostJob(priority, std::move(task));
  }
#if V8_MAJOR_VERSION >= 11
  // V8 11 makes CreateJob the pure virtual and PostJob its default wrapper (v8-platform.h).
  std::unique_ptr<v8::JobHandle> CreateJob(v8::TaskPriority priority, std::unique_ptr<v8::JobTask> task) override {
    return base_.CreateJob(priority, std::move(task));
  }
#endif
  double MonotonicallyIncreasingTime() override { return base_.MonotonicallyIncreasingTime(); }
  double CurrentClockTimeMillis() override { return base_.CurrentClockTimeMillis(); }
  v8::TracingController* GetTracingController() override { return base_.GetTracingController(); }

 private:
  v8::Platform& base_;
  memory_arena& arena_;
};

#ifdef WASIO_JSPI
// A suspended guest's wasm runs on a stack of V8's, as deep as fiber mode's own stacks
// (16 MiB, fiber.cpp; V8's default is 984 KiB): only the pages touched are committed.
constexpr int64_t kJspiStackKiB = 16384;
int64_t jspi_stack_kib = kJspiStackKiB;
#else
int64_t jspi_stack_kib = 0;
#endif

}  // namespace

int64_t jspi_stack_bytes() { return jspi_stack_kib * 1024; }

void ensure_v8() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The platform lives as long as the process: V8 cannot be initialised twice, and disposing it
    // while a late isolate still runs background tasks hangs (ENGINE-FACTS.md, "Threads").
    // WASIO_V8_FLAGS passes extra V8 flags through, for diagnosis (e.g. "--trace-gc").
#ifdef WASIO_JSPI
    // JSPI (engine/jspi.hpp): WebAssembly.Function with {suspending} and {promising}. Before
    // Initialize: V8 reads it as contexts are set up.
    v8::V8::SetFlagsFromString(
        ("--experimental-wasm-stack-switching --wasm-stack-switching-stack-size=" + std::to_string(kJspiStackKiB)).c_str());
#endif
    // A worker's threads take turns at its isolate (engine/loop_turns.hpp), so that V8 keeps
    // the state of a parked guest's thread archived while another runs. V8's GC of wasm code
    // refuses that (wasm-engine.cc, CheckNoArchivedThreads: "archived threads in combination
    // with wasm not supported", a fatal error); without it, code replaced by a tier-up stays
    // mapped until its module goes, at most the module's baseline code once.
    v8::V8::SetFlagsFromString("--no-wasm-code-gc");
    if (const char* flags = std::getenv("WASIO_V8_FLAGS")) {
      v8::V8::SetFlagsFromString(flags);
      // The stack size as V8 now has it (the last one given wins), for jspi_stack_bytes.
      constexpr std::string_view kStackFlag = "--wasm-stack-switching-stack-size=";
      std::string_view all(flags);
      if (auto at = all.rfind(kStackFlag); at != std::string_view::npos && jspi_stack_kib > 0) {
        jspi_stack_kib = std::strtoll(flags + at + kStackFlag.size(), nullptr, 10);
      }
    }
    // Never destroyed, not even at exit: V8's worker threads may still call the platform and
    // its page allocator while static objects go (a destroyed wrapper was "pure virtual method
    // called" at exit).
    auto* base = v8::platform::NewDefaultPlatform().release();
    auto* arena = new memory_arena(base->GetPageAllocator());
    auto* platform = new arena_platform(*base, *arena);
    v8::V8::InitializePlatform(platform);
    v8::V8::Initialize();
  });
}

namespace {

std::string exception_text(v8::Isolate* iso, const v8::TryCatch& tc) {
  if (tc.Exception().IsEmpty()) return "unknown error";
  v8::String::Utf8Value s(iso, tc.Exception());
  return *s ? *s : "unknown error";
}

// An isolate for the calling thread, disposed at scope end.
struct scratch_isolate {
  std::unique_ptr<v8::ArrayBuffer::Allocator> alloc{v8::ArrayBuffer::Allocator::NewDefaultAllocator()};
  v8::Isolate* iso;
  scratch_isolate() {
    v8::Isolate::CreateParams cp;
    cp.array_buffer_allocator = alloc.get();
    iso = v8::Isolate::New(cp);
  }
  ~scratch_isolate() { iso->Dispose(); }
};

}  // namespace

std::optional<uint32_t> stack_floor(const wasm_summary& s, uint32_t stack_start) {
  constexpr uint32_t kDefaultStack = 64 * 1024, kLowest = 16;
  if (!s.complete || s.data_unplaced) return std::nullopt;
  if (s.data_start >= stack_start) return kLowest;  // --stack-first, or no data
  if (s.data_end > stack_start) return std::nullopt;
  uint64_t floor = std::max<uint64_t>(s.data_end, stack_start > kDefaultStack ? stack_start - kDefaultStack : 0);
  return static_cast<uint32_t>(std::max<uint64_t>((floor + 15) & ~uint64_t{15}, kLowest));
}

namespace {
// Binaryen's legalize-js-interface changes every i64 in an import's or export's signature; only
// the parameters of imports are safe to split (the thunks take both forms): an i64 result comes
// back through an env.getTempRet0 import wasio does not have, and an export would change type.
bool may_legalize(const wasm_summary& s) {
  auto i64 = [](const std::vector<uint8_t>& v) { return std::find(v.begin(), v.end(), 0x7e) != v.end(); };
  for (const auto& i : s.imports) {
    if (i.kind == 0 && i64(i.sig.results)) return false;
  }
  for (const auto& e : s.exports) {
    if (e.kind == 0 && (!e.sig || i64(e.sig->params) || i64(e.sig->results))) return false;
  }
  return s.complete;
}
}  // namespace

namespace {
// Why JSPI mode cannot run a module (empty: it can). Ticks are asyncify's instrumentation. (A
// start function, which runs outside any promising export, is moved to an export by the JSPI
// rewrite: rewrite_helper.cpp.)
std::string jspi_refusal(const wasm_summary& s, bool count_ticks) {
#ifndef WASIO_JSPI
  (void)s, (void)count_ticks;
  return "this wasio's engine has no JSPI (it needs V8 11 and binaryen 112 or later, as on Debian 13; this is V8 " +
         std::to_string(V8_MAJOR_VERSION) + "." + std::to_string(V8_MINOR_VERSION) + ")";
#else
  if (count_ticks) return "counting ticks (count_ticks, fuel) needs asyncify or fiber mode";
  if (!s.complete) return "its sections could not all be read";
  return {};
#endif
}
}  // namespace

prepared_module prepare_module(std::span<const uint8_t> bytes, byte_buffer* owner, const rewrite_cache* cache,
                               mode_choice mode, const host_functions* host, bool time_slices,
                               bool count_ticks) {
  ensure_v8();
  prepared_module out;
  scratch_isolate s;
  v8::Isolate* iso = s.iso;
  v8::Isolate::Scope is(iso);
  v8::HandleScope hs(iso);
  auto ctx = v8::Context::New(iso);
  v8::Context::Scope cs(ctx);
  v8::TryCatch tc(iso);

  // Binaryen must only ever see valid modules: validated before a rewrite. WebAssembly.validate
  // decodes without compiling; only a failure pays for a compile, which gives the error its
  // message. Not before fiber mode's compile, which validates anyway, nor for a cached rewrite,
  // whose input was validated when it was stored: a big module's decode is not free.
  auto valid = [&] {
    auto ab = v8::ArrayBuffer::New(iso, bytes.size());
    if (!bytes.empty()) std::memcpy(ab->Data(), bytes.data(), bytes.size());
    auto wasm = ctx->Global()->Get(ctx, v8::String::NewFromUtf8Literal(iso, "WebAssembly"))
                    .ToLocalChecked().As<v8::Object>();
    auto validate = wasm->Get(ctx, v8::String::NewFromUtf8Literal(iso, "validate"))
                        .ToLocalChecked().As<v8::Function>();
    v8::Local<v8::Value> arg = v8::Uint8Array::New(ab, 0, bytes.size());
    v8::Local<v8::Value> ok;
    if (validate->Call(ctx, wasm, 1, &arg).ToLocal(&ok) && ok->IsTrue()) return true;
    if (v8::WasmModuleObject::Compile(iso, {bytes.data(), bytes.size()}).IsEmpty()) {
      out.error = exception_text(iso, tc);
    } else {
      out.error = "invalid module";
    }
    return false;
  };

  // 2. The mode, and for asyncify the rewrite, which also hands the memory to wasio where it can.
  auto kib = std::to_string(bytes.size() >> 10) + " KiB";
  wasm_summary summary = summarize(bytes);
  auto extra = host_imports_of(summary, host);
  rewrite_settings settings{summary.own_memory.has_value(), may_legalize(summary), std::move(extra.all),
                            std::move(extra.blocking), time_slices || count_ticks, count_ticks,
                            count_ticks && time_slices};
  out.exports = summary.exports;
  if (auto err = check_imports(summary, host)) out.link_error = *err;
  // JSPI where the engine has it: the module is not instrumented, only its blocking imports and
  // its exports take V8's suspender (a rewrite of seconds at most, cached). It serves the
  // modules asyncify cannot (no shadow-stack pointer: Go's; too big to rewrite), on the
  // worker's shared isolate, where fiber mode needs an isolate and ~1 MB per guest; but V8 11.3
  // walks every suspended stack at every GC, so with many guests waiting at once asyncify is
  // faster (docs/why-jspi.md). Automatic mode therefore runs in JSPI what it would otherwise
  // run in fiber mode.
  std::string no_jspi = jspi_refusal(summary, count_ticks);
  if (mode == mode_choice::prefer_jspi) mode = no_jspi.empty() ? mode_choice::jspi : mode_choice::automatic;
  const bool automatic = mode == mode_choice::automatic;
  if (mode == mode_choice::jspi && !no_jspi.empty()) {
    out.error = "JSPI mode cannot run it: " + no_jspi;
    return out;
  }
  enum class jspi_outcome { ready, invalid, rewrite_failed };
  auto prepare_jspi = [&](const std::string& why) {
    settings.jspi = true;
    settings.ticks = settings.tick_yields = false;
    settings.start = summary.start ? int64_t{*summary.start} : -1;
    out.info = asyncify_rewrite(bytes, settings, cache, /*cached_only=*/true);
    if (!out.info.error.empty()) {
      if (!valid()) return jspi_outcome::invalid;
      out.info = asyncify_rewrite(bytes, settings, cache);
    }
    if (!out.info.error.empty()) {
      out.error = "the JSPI rewrite failed: " + out.info.error;
      return jspi_outcome::rewrite_failed;
    }
    out.mode_reason = "jspi: " + why + (out.info.from_cache ? "its rewrite is cached" : "rewritten now") + " (" + kib + ")";
    return jspi_outcome::ready;
  };
  if (mode == mode_choice::jspi) {
    if (prepare_jspi("") != jspi_outcome::ready) return out;
  } else if (mode == mode_choice::automatic && bytes.size() > kCheapRewriteBytes) {
    out.info = asyncify_rewrite(bytes, settings, cache, /*cached_only=*/true);
    size_t rewritten = out.info.module_of(bytes).size();
    if (!out.info.error.empty()) {
      out.mode_reason = "fiber: a " + kib + " module's rewrite is slow and not cached yet";
      mode = mode_choice::fiber;
    } else if (uint64_t{rewritten} * 100 > uint64_t{bytes.size()} * kMaxCachedGrowthPercent) {
      out.mode_reason = "fiber: its cached rewrite is " + std::to_string(rewritten * 100 / bytes.size() - 100) +
                        "% bigger than the " + kib + " module (more code to compile)";
      out.info = rewrite_result{};
      mode = mode_choice::fiber;
    } else {
      out.mode_reason = "asyncify: its rewrite (" + kib + ") is cached";
    }
  } else if (mode != mode_choice::fiber) {
    out.info = asyncify_rewrite(bytes, settings, cache, /*cached_only=*/true);
    if (!out.info.error.empty()) {
      if (!valid()) return out;
      out.info = asyncify_rewrite(bytes, settings, cache);
    }
    out.mode_reason = "asyncify: " + std::string(out.info.from_cache ? "its rewrite is cached" : "rewritten now") + " (" + kib + ")";
  }
  if (out.info.has_stack_pointer) {
    if (auto floor = stack_floor(summary, out.info.stack_start)) {
      out.info.stack_floor = *floor;
    } else {
      out.info.has_stack_pointer = false;
    }
  }
  if (mode == mode_choice::fiber) {
    out.info = rewrite_result{};
    if (out.mode_reason.empty()) out.mode_reason = "fiber: asked for";
  } else if (mode == mode_choice::jspi) {
    out.info.has_stack_pointer = false;  // no asyncify buffer
  } else if (!out.info.error.empty() ||
             (out.info.imports_blocking && !(out.info.asyncified && out.info.has_stack_pointer))) {
    std::string why = !out.info.error.empty() ? out.info.error
                                              : "it blocks, but has no shadow-stack pointer that wasio recognises";
    if (mode == mode_choice::asyncify) {
      out.error = why + " (fiber mode can run it)";
      return out;
    }
    out.info = rewrite_result{};
    out.mode_reason = "fiber: asyncify cannot serve it (" + why + ")";
    mode = mode_choice::fiber;
  }
  if (automatic && mode == mode_choice::fiber && no_jspi.empty()) {
    std::string fiber_reason = out.mode_reason;
    std::string instead = fiber_reason.substr(fiber_reason.find(':') + 2);  // why not asyncify
    switch (prepare_jspi("instead of fiber mode (" + instead + "); ")) {
      case jspi_outcome::ready: mode = mode_choice::jspi; break;
      case jspi_outcome::invalid: return out;
      case jspi_outcome::rewrite_failed:  // binaryen cannot read or write it: fiber mode runs it as given
        out.mode_reason = fiber_reason + "; the JSPI rewrite failed too (" + out.info.error + ")";
        out.error.clear();
        out.info = rewrite_result{};
        break;
    }
  }
  // Fiber mode runs a module as given, but for counting ticks (fuel): then a rewrite of its own
  // adds them (and makes the memory an import), cached as the others are.
  if (mode == mode_choice::fiber && count_ticks) {
    settings.jspi = false;
    settings.ticks_only = true;
    settings.tick_yields = false;  // a fiber yields at a slice's end from V8's interrupt instead
    settings.legalize = false;
    out.info = asyncify_rewrite(bytes, settings, cache, /*cached_only=*/true);
    if (!out.info.error.empty()) {
      if (!valid()) return out;
      out.info = asyncify_rewrite(bytes, settings, cache);
    }
    if (!out.info.error.empty()) {
      out.error = "counting ticks (count_ticks, fuel): " + out.info.error;
      return out;
    }
    out.mode_reason += std::string("; counting ticks: ") + (out.info.from_cache ? "its rewrite is cached" : "rewritten now");
  }
  out.fiber = mode == mode_choice::fiber;
  out.jspi = mode == mode_choice::jspi;
  std::span<const uint8_t> code = out.info.module_of(bytes);
  if (owner && !out.info.bytes.empty()) *owner = {};  // the input is not needed any more: unmapped now
  if (out.fiber && !out.info.memory_imported) {
    // The memory becomes an import here too, so that wasio supplies it with the guest's limit.
    // In the caller's buffer when it may be edited, else in a copy.
    if (auto edit = import_own_memory(bytes, summary)) {
      if (!owner || !owner->replace_front(edit->replaces, edit->prefix)) {
        out.info.bytes = byte_buffer::copy_of(bytes.subspan(edit->replaces), edit->prefix.size());
        out.info.bytes.replace_front(0, edit->prefix);
        owner = &out.info.bytes;
      }
      code = owner->bytes();
      out.info.memory_imported = true;
    }
  }
  if (out.info.memory_imported) out.supplied_memory = summary.own_memory;
  out.data_end = summary.data_end;

  // 3. Compile. The code outlives this isolate: workers instantiate it from the shared module.
  v8::Local<v8::WasmModuleObject> mod;
  if (!v8::WasmModuleObject::Compile(iso, {code.data(), code.size()}).ToLocal(&mod)) {
    out.error = (out.fiber ? "" : "after the asyncify rewrite: ") + exception_text(iso, tc);
    return out;
  }
  out.code = std::make_shared<v8::CompiledWasmModule>(mod->GetCompiledModule());
  out.info.bytes = {};  // V8 has its own copy
  return out;
}

}  // namespace wasio::engine
