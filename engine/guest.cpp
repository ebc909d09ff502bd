#include "engine/guest.hpp"

#include <asio/steady_timer.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>
#include <fcntl.h>
#include <unistd.h>

#include "engine/asyncify.hpp"
#include "engine/fiber.hpp"
#include "engine/jspi.hpp"
#include "engine/host_calls.hpp"
#include "engine/module.hpp"
#include "engine/rewrite_record.hpp"
#include "engine/worker.hpp"
#include "src/wasi/memory_fs.hpp"

namespace wasio::engine {

namespace {

exit_status failed(std::string why) {
  return exit_status{exit_status::kind::failed, 0, std::move(why)};
}

exit_status stopped(const detail::guest_control& c) {
  return exit_status{exit_status::kind::stopped, 0, c.stop_message()};
}

}  // namespace

guest_segment::guest_segment(guest* g) : g_(g), prev_(current_guest) {
  current_guest = g;
  g->owner().enter(&g->control(), g->isolate());
}

guest_segment::~guest_segment() {
  g_->owner().leave();
  current_guest = prev_;
}

guest::guest(worker& w, std::shared_ptr<const detail::module_data> mod,
             std::shared_ptr<detail::guest_control> control)
    : worker_(w), module_(std::move(mod)), control_(std::move(control)) {
  control_->attach(&worker_, this);
  if (!module_->parkable()) worker_.unparkable_made();
  if (const auto& q = worker_.hibernation()) {
    // As the thunk that starts a wait saw the memory (it refreshes the two after a grow).
    auto p = std::make_shared<memory_pack>(q, this, [](const void* g) {
      auto* self = static_cast<const guest*>(g);
      return memory_pack::memory_view{self->mem_base_, self->mem_size_};
    });
    idle_hook_ = std::move(p);
  }
}

guest::~guest() {
  if (!module_->parkable()) worker_.unparkable_gone();
  control_->detach();
  close();
  suspension_.reset();
  if (!supplied_memory_.IsEmpty()) {
    v8::HandleScope hs(worker_.isolate());  // supplied memories are the shared isolate's
    worker_.memories().give_back(worker_.isolate(), supplied_memory_.Get(worker_.isolate()), memory_limits_);
  }
}

void guest::wake_to_stop() {
  if (suspension_) suspension_->interrupt();
}

void guest::refresh(uint8_t** base, size_t* size) const {
  if (memory_.IsEmpty()) return;
  v8::HandleScope hs(vm_->isolate());
  auto buf = memory_.Get(vm_->isolate())->Buffer();
  mem_base_ = *base = static_cast<uint8_t*>(buf->Data());
  mem_size_ = *size = buf->ByteLength();
}

void guest::request_exit(uint32_t code) {
  exit_code_ = code;
  vm_->isolate()->TerminateExecution();
}

std::optional<std::string> guest::build_context(const config& cfg) {
  if (module_->supplied_memory) {
    memory_limits_ = *module_->supplied_memory;
    if (uint32_t cap = cfg.limits.memory_pages) {
      if (memory_limits_.initial > cap) {
        return module_->name + ": needs " + std::to_string(memory_limits_.initial) +
               " pages of memory, more than the limit of " + std::to_string(cap);
      }
      memory_limits_ = capped(memory_limits_, cap);
    }
  }
  if (cfg.limits.open_fds) wasi_.fds.set_limit(cfg.limits.open_fds);
  wasi_.executor = worker_.io().get_executor();
  wasi_.args = cfg.args;
  wasi_.env = cfg.env;
  const stdio_fd* stdio[3] = {&cfg.stdio.in, &cfg.stdio.out, &cfg.stdio.err};
  for (wasi::fd_t fd = 0; fd < 3; ++fd) {
    if (const auto& stream = stdio[fd]->stream()) {
      wasi_.fds.insert_at(fd, wasi::entry_for(wasi::stream_resource_of(stream, wasi_.executor)));
      continue;
    }
    int err = stdio[fd]->error();
    std::shared_ptr<async::host_stream> s;
    if (!err) s = stdio[fd]->is_null() ? worker_.null_stream(&err) : worker_.stdio_stream(stdio[fd]->get(), &err);
    if (s) {
      wasi_.fds.insert_at(fd, wasi::entry_for(wasi::host_resource(std::move(s))));
    } else if (stdio[fd]->error() || stdio[fd]->is_null() || (stdio[fd]->get() >= 0 && err != EBADF)) {
      // Out of fds, say: the guest must not run with its output silently gone.
      static const char* names[3] = {"stdin", "stdout", "stderr"};
      return std::string("cannot give the guest its ") + names[fd] + ": " + std::strerror(err);
    }
    // A closed host fd leaves the guest fd closed too (badf), as a native process would see it.
  }
  // WASIO_PREOPENS=overlay gives every host preopen as an overlay: the test suite runs its file
  // system tests once more so (tests/CMakeLists.txt).
  static const bool all_overlays = [] {
    const char* v = std::getenv("WASIO_PREOPENS");
    return v && std::string_view(v) == "overlay";
  }();
  for (auto& p : cfg.preopens) {
    if (p.fs || p.as == preopen::kind::memory) {
      auto tree = p.fs ? p.fs->tree() : wasi::make_memory_tree({});
      wasi_.fds.append(wasi::preopen_entry(wasi::memory_tree_root(tree), p.guest_path, p.read_only));
      continue;
    }
    bool overlay = p.as == preopen::kind::overlay || all_overlays;
    auto e = wasi::open_preopen(p.host_path, p.guest_path, p.read_only, overlay);
    if (!e) {
      return "cannot open directory '" + p.host_path + "': " + std::strerror(e.error().host_errno);
    }
    wasi_.fds.append(std::move(e).value());
  }
  for (int l : cfg.net.listeners) {
    int err = 0;
    std::shared_ptr<async::host_stream> s;
    if (async::unique_fd dup(::fcntl(l, F_DUPFD_CLOEXEC, 3)); dup) {
      s = async::host_stream::adopt_socket(wasi_.executor, std::move(dup), &err);
    } else {
      err = errno;
    }
    if (!s) return "cannot give the guest listening socket " + std::to_string(l) + ": " + std::strerror(err);
    // Non-blocking, as wasmtime hands --tcplisten sockets over: accept answers `again` when
    // nothing is pending, and the guest waits in poll_oneoff. Go's runtime runs every goroutine
    // on one thread and relies on it: a blocking accept would stop the whole program.
    wasi::fd_entry e = wasi::entry_for(wasi::host_resource(std::move(s)));
    e.stat.flags = wasi::fdflags::nonblock;
    wasi_.fds.append(std::move(e));
  }
  for (const auto& stream : cfg.streams) {
    if (!stream) return std::string("config::streams holds a null stream");
    wasi_.fds.append(wasi::entry_for(wasi::stream_resource_of(stream, wasi_.executor)));
  }
  wasi_.net = cfg.net;
  return std::nullopt;
}

std::optional<std::string> guest::instantiate(v8::Local<v8::Context> ctx) {
  v8::Isolate* iso = vm_->isolate();
  v8::Local<v8::WasmModuleObject> mod;
  if (!vm_->module_object(*module_).ToLocal(&mod)) return "cannot instantiate the compiled module";
  auto ctor = vm_->instance_constructor();
  v8::TryCatch tc(iso);
  v8::Local<v8::Object> imports = vm_->imports(), wasio_ns;
  if (module_->jspi && !vm_->jspi_imports(*module_).ToLocal(&imports)) return "cannot make the JSPI imports";
  if (module_->supplied_memory) {
    v8::Local<v8::WasmMemoryObject> mem;
    // Recycled from the worker's pool when the guest uses the worker's isolate; a fiber-mode
    // guest's own isolate gets a new one (given back to nobody).
    auto made = own_vm_ ? memory_pool::make(ctx, vm_->memory_constructor(), memory_limits_)
                        : worker_.memories().take(ctx, vm_->memory_constructor(), memory_limits_);
    if (!made.ToLocal(&mem)) return "cannot allocate the guest's memory";
    memory_pool::prefer_huge_pages(mem, module_->data_end);
    if (!own_vm_) supplied_memory_.Reset(iso, mem);
    // The guest's memory from now on: a start function's WASI calls, made during the
    // instantiation, find their buffers in it (they were `fault` before the module's exports
    // were read).
    memory_.Reset(iso, mem);
    refresh(&mem_base_, &mem_size_);
    // The shared namespace `wasio` holds this guest's memory while it is instantiated: V8 reads
    // the imports before anything of the module runs, and a worker instantiates one guest at a
    // time. (Copies of the namespaces for each guest cost more than the rest of this function.)
    wasio_ns = imports->Get(ctx, vm_->name("wasio")).ToLocalChecked().As<v8::Object>();
    wasio_ns->Set(ctx, vm_->name("memory"), mem).Check();
  }
  v8::Local<v8::Value> args[2] = {mod, imports};
  v8::Local<v8::Object> instance;
  // A start function may call WASI already.
  bool ok;
  {
    guest_segment running(this);
    ok = ctor->NewInstance(ctx, 2, args).ToLocal(&instance);
  }
  // Not kept alive by the namespace, nor handed to the next guest.
  if (!wasio_ns.IsEmpty()) wasio_ns->Set(ctx, vm_->name("memory"), v8::Undefined(iso)).FromMaybe(false);
  if (exit_code_) {  // proc_exit from the start function, whether or not V8 saw it yet
    iso->CancelTerminateExecution();
    return "exited during instantiation";
  }
  v8::Local<v8::Value> ex;
  // A trap in the start function can leave the exception pending on a returned instance (seen
  // with V8 10.2): check both, and read `exports` defensively.
  if (ok && !tc.HasCaught() && instance->Get(ctx, vm_->name("exports")).ToLocal(&ex) && ex->IsObject()) {
    exports_.Reset(iso, ex.As<v8::Object>());
    v8::Local<v8::Value> ticks;
    if (module_->counts_ticks &&
        ex.As<v8::Object>()->Get(ctx, vm_->name(rewrite_record::kTicksExport)).ToLocal(&ticks) && ticks->IsObject()) {
      ticks_.Reset(iso, ticks.As<v8::Object>());
    }
  } else {
    if (tc.HasTerminated()) {
      iso->CancelTerminateExecution();
      return "terminated during instantiation";
    }
    if (!tc.HasCaught()) return "instantiation failed";
    v8::String::Utf8Value msg(iso, tc.Exception());
    return std::string(*msg ? *msg : "instantiation failed");
  }
  v8::Local<v8::Value> mem;
  if (ex.As<v8::Object>()->Get(ctx, vm_->name("memory")).ToLocal(&mem) && mem->IsWasmMemoryObject()) {
    memory_.Reset(iso, mem.As<v8::WasmMemoryObject>());
    refresh(&mem_base_, &mem_size_);
  }
  return std::nullopt;
}

std::optional<exit_status> guest::prepare(v8::Local<v8::Context> ctx) {
  if (auto err = instantiate(ctx)) {
    if (exit_code_) {  // proc_exit from a start function
      return exit_status{exit_status::kind::exited, *exit_code_, {}};
    }
    if (control_->stop_requested()) return stopped(*control_);
    // A start function that traps is a trap; imports that do not link (another WASI
    // version, an unknown module) mean the module cannot run here at all.
    if (err->rfind("LinkError", 0) == 0 || err->rfind("TypeError", 0) == 0) {
      return failed(module_->name + ": " + *err);
    }
    return exit_status{exit_status::kind::trapped, 0, *err};
  }
  return std::nullopt;
}

std::optional<run_end> guest::invoke(export_call& call, v8::Local<v8::Value>* returned) {
  v8::Isolate* iso = vm_->isolate();
  v8::TryCatch tc(iso);
  v8::MaybeLocal<v8::Value> r;
  {
    guest_segment running(this);
    r = call.invoke(iso, iso->GetCurrentContext());
  }
  if (auto end = call_ended(tc, r.IsEmpty())) return end;
  *returned = r.ToLocalChecked();
  return std::nullopt;
}

std::optional<run_end> guest::call_ended(const v8::TryCatch& tc, bool threw) {
  v8::Isolate* iso = vm_->isolate();
  // After proc_exit the termination may still be pending: wasi-libc follows the call with
  // `unreachable`, which traps first, and a hand-written guest may simply return before V8
  // looks. Either way it must not hit the next guest on this isolate.
  if (exit_code_) {
    iso->CancelTerminateExecution();
    return run_end{run_end::kind::exited, *exit_code_, {}};
  }
  if (!threw) {
    // Stopped, yet it returned: V8 looks at a termination only at calls and loops, and a guest
    // resumed from a stopped wait may return without either. Its results are not the call's.
    if (!control_->stop_requested()) return std::nullopt;
    iso->CancelTerminateExecution();
    return run_end{run_end::kind::stopped, 0, {}};
  }
  bool terminated = tc.HasTerminated();
  // Stopped: the termination may also still be pending, behind an exception thrown at the stop
  // (wasio.tick at a spent tank): it must not hit the next guest on this isolate either.
  if (terminated || control_->stop_requested()) iso->CancelTerminateExecution();
  if (control_->stop_requested()) return run_end{run_end::kind::stopped, 0, {}};
  if (terminated) return run_end{run_end::kind::trapped, 0, "terminated"};
  std::string text = "unknown exception";
  if (!tc.Exception().IsEmpty()) {
    v8::String::Utf8Value u(iso, tc.Exception());
    if (*u) text = *u;
  }
  return run_end{run_end::kind::trapped, 0, std::move(text)};
}

namespace {

v8::Local<v8::Value> to_v8(v8::Isolate* iso, const value& v) {
  switch (v.type) {
    case val_type::i32: return v8::Integer::New(iso, v.as<int32_t>());
    case val_type::i64: return v8::BigInt::New(iso, v.as<int64_t>());
    case val_type::f32: return v8::Number::New(iso, v.as<float>());
    case val_type::f64: return v8::Number::New(iso, v.as<double>());
  }
  return v8::Undefined(iso);
}

std::optional<value> from_v8(v8::Local<v8::Context> ctx, uint8_t type, v8::Local<v8::Value> v) {
  switch (type) {
    case 0x7f:
      if (v->IsInt32()) return value(v.As<v8::Int32>()->Value());
      break;
    case 0x7e:
      if (v->IsBigInt()) return value(v.As<v8::BigInt>()->Int64Value());
      break;
    case 0x7d:
      if (v->IsNumber()) return value(static_cast<float>(v.As<v8::Number>()->Value()));
      break;
    case 0x7c:
      if (v->IsNumber()) return value(v.As<v8::Number>()->Value());
      break;
  }
  return std::nullopt;
}

}  // namespace

v8::MaybeLocal<v8::Value> export_call::invoke(v8::Isolate* iso, v8::Local<v8::Context> ctx) const {
  v8::Local<v8::Value> argv[16];
  std::vector<v8::Local<v8::Value>> many;
  v8::Local<v8::Value>* a = argv;
  if (args.size() > std::size(argv)) {
    many.resize(args.size());
    a = many.data();
  }
  for (size_t i = 0; i < args.size(); ++i) a[i] = to_v8(iso, args[i]);
  return fn->Get(iso)->Call(ctx, v8::Undefined(iso), static_cast<int>(args.size()), a);
}

bool export_call::take_results(v8::Local<v8::Context> ctx, v8::Local<v8::Value> v) {
  results.clear();
  if (result_types.empty()) return true;
  if (result_types.size() == 1) {
    auto r = from_v8(ctx, result_types[0], v);
    if (r) results.push_back(*r);
    return r.has_value();
  }
  // Several results come as an array (the JS API's multi-value rule).
  if (!v->IsArray()) return false;
  auto arr = v.As<v8::Array>();
  if (arr->Length() != result_types.size()) return false;
  for (uint32_t i = 0; i < arr->Length(); ++i) {
    v8::Local<v8::Value> e;
    if (!arr->Get(ctx, i).ToLocal(&e)) return false;
    auto r = from_v8(ctx, result_types[i], e);
    if (!r) return false;
    results.push_back(*r);
  }
  return true;
}

std::optional<std::string> guest::bind_call(v8::Local<v8::Context> ctx, const std::string& name, export_call& call) {
  auto it = export_fns_.find(name);
  if (it == export_fns_.end()) {
    auto bound = bind_export(ctx, name);
    if (!bound) return bound.error();
    it = export_fns_.emplace(name, std::move(bound).value()).first;
  }
  const func_sig& sig = *it->second.entry->sig;
  bool match = sig.params.size() == call.args.size();
  for (size_t i = 0; match && i < sig.params.size(); ++i) match = static_cast<uint8_t>(call.args[i].type) == sig.params[i];
  if (!match) {
    std::vector<uint8_t> given;
    for (const auto& a : call.args) given.push_back(static_cast<uint8_t>(a.type));
    return module_->name + ": export '" + name + "' is " + signature_text(sig) + ", called with " + types_text(given);
  }
  call.fn = &it->second.fn;
  call.result_types = sig.results;
  return std::nullopt;
}

outcome::result<guest::bound_export, std::string, outcome::policy::terminate> guest::bind_export(
    v8::Local<v8::Context> ctx, const std::string& name) {
  v8::Isolate* iso = ctx->GetIsolate();
  const export_entry* e = exports_function(name);
  v8::Local<v8::Value> fn;
  if (!e || exports_.IsEmpty() ||
      !exports_.Get(iso)->Get(ctx, v8::String::NewFromUtf8(iso, name.c_str()).ToLocalChecked()).ToLocal(&fn) ||
      !fn->IsFunction()) {
    return module_->name + ": no function export '" + name + "'";
  }
  if (!e->sig) return module_->name + ": export '" + name + "' has a type this host cannot call";
  if (!e->sig->numeric()) {
    return module_->name + ": export '" + name + "' is " + signature_text(*e->sig) + ", not callable from C++";
  }
  v8::Local<v8::Function> f = fn.As<v8::Function>();
  if (module_->jspi && !vm_->promising(f).ToLocal(&f)) {
    return module_->name + ": export '" + name + "' cannot be made promising (JSPI)";
  }
  return bound_export{e, v8::Global<v8::Function>(iso, f)};
}

asio::awaitable<void> guest::on_fiber(std::function<void(v8::Local<v8::Context>)> body) {
  auto* fs = static_cast<fiber_suspension*>(suspension_.get());
  co_await fs->run_fiber([this, fs, &body] {
    if (!own_vm_) {
      own_vm_ = worker_.take_vm();  // entered here, on the fiber
      vm_ = own_vm_.get();
    } else {
      own_vm_->enter();
    }
    fs->bind_isolate(vm_->isolate());
    {
      v8::HandleScope hs(vm_->isolate());
      auto ctx = vm_->context();
      v8::Context::Scope cs(ctx);
      body(ctx);
    }
    own_vm_->exit();
  });
}

asio::awaitable<std::optional<exit_status>> guest::open(config cfg) {
  const auto& lim = cfg.limits;
  control_->cpu_limit = lim.cpu_time;
  if (lim.wall_time.count() > 0) {
    control_->wall_deadline = std::chrono::steady_clock::now() + lim.wall_time;
    // While the guest is suspended; the watchdog looks after it while it computes.
    wall_.emplace(worker_.io(), lim.wall_time);
    wall_->async_wait([c = control_](asio::error_code ec) {
      if (!ec) c->request_stop(detail::guest_control::reason::wall_time);
    });
  }
  host_data_ = cfg.host_data;
  trace_ = cfg.trace;
  if (control_->stop_requested()) co_return stopped(*control_);
  if (!module_->link_error.empty()) co_return failed(module_->name + ": " + module_->link_error);
  if (lim.fuel) {
    if (!module_->counts_ticks) co_return failed(no_ticks());
    fuel_.left = lim.fuel;
  }
  if (auto err = build_context(cfg)) co_return failed(*err);
  cfg.stdio = {};  // the guest has its own streams: handed-over fds close (their ends see EOF with the guest's)
  std::optional<exit_status> early;
  if (module_->fiber) {
    suspension_ = make_fiber_suspension(*this);  // before instantiation: a start function may block too
    co_await on_fiber([&](v8::Local<v8::Context> ctx) { early = prepare(ctx); });
    if (early) co_return early;
  } else {
    vm_ = &worker_.shared_vm();
    v8::HandleScope hs(vm_->isolate());
    auto ctx = vm_->context();
    v8::Context::Scope cs(ctx);
    if ((early = prepare(ctx))) co_return early;
    std::string why;
    suspension_ = module_->jspi ? make_jspi_suspension(*this)
                                : make_asyncify_suspension(*this, ctx, exports_.Get(vm_->isolate()), &why);
    if (!suspension_) co_return failed(module_->name + ": " + why);
  }
  // The module's start function, where JSPI's rewrite made it an export: it may block too.
  if (module_->moved_start) {
    auto r = co_await call(rewrite_record::kMovedStartExport, {});
    moved_start_ran();
    if (!r) co_return std::move(r).error();
  }
  // A reactor's initialization (the WASI application ABI): its constructors, which may block.
  if (exports_function("_initialize")) {
    auto r = co_await call("_initialize", {});
    if (!r) co_return std::move(r).error();
  }
  co_return std::nullopt;
}

// call() keeps its frame for as long as the guest waits inside the call, and GCC keeps every
// local and temporary of a coroutine in its frame: what does not wait is done in the plain
// functions around it (before_call, after_call), so that a blocked guest holds less.
std::optional<exit_status> guest::before_call(const std::string& name, export_call& call) {
  if (exit_code_) return exit_status{exit_status::kind::exited, *exit_code_, {}};
  if (control_->stop_requested()) return stopped(*control_);
  if (module_->fiber) return std::nullopt;  // bound on the fiber, in the guest's own isolate
  v8::HandleScope hs(vm_->isolate());
  auto ctx = vm_->context();
  v8::Context::Scope cs(ctx);
  if (auto unbound = bind_call(ctx, name, call)) return failed(std::move(*unbound));
  return std::nullopt;
}

guest_result<std::vector<value>> guest::after_call(export_call& call, std::optional<run_end>& end,
                                                   std::optional<std::string>& unbound) {
  if (!module_->fiber) {
    v8::HandleScope hs(vm_->isolate());
    refresh(&mem_base_, &mem_size_);
  }
  if (unbound) return failed(std::move(*unbound));
  switch (end.value_or(run_end{}).how) {
    case run_end::kind::returned: return std::move(call.results);
    case run_end::kind::exited: return exit_status{exit_status::kind::exited, end->code, {}};
    case run_end::kind::stopped: return stopped(*control_);
    case run_end::kind::trapped: break;
  }
  return exit_status{exit_status::kind::trapped, 0, std::move(end->message)};
}

asio::awaitable<guest_result<std::vector<value>>> guest::call(const std::string& name, std::vector<value> args) {
  export_call call;
  call.args = std::move(args);
  if (auto refused = before_call(name, call)) co_return std::move(*refused);
  std::optional<std::string> unbound;  // fiber mode: bound on the fiber
  std::optional<run_end> end;
  if (module_->fiber) {
    co_await on_fiber([&](v8::Local<v8::Context> ctx) {
      if ((unbound = bind_call(ctx, name, call))) return;
      v8::Local<v8::Value> r;
      end = invoke(call, &r);
      if (!end && !call.take_results(ctx, r)) {
        end = run_end{run_end::kind::trapped, 0, "the export returned values of other types than its own"};
      }
      refresh(&mem_base_, &mem_size_);
    });
  } else if (module_->jspi) {
    end = co_await run_jspi(*suspension_, call);
  } else {
    end = co_await run_asyncified(*suspension_, call);
  }
  co_return after_call(call, end, unbound);
}

asio::awaitable<exit_status> guest::run(std::unique_ptr<config> cfg) {
  if (!exports_function("_start")) co_return failed(module_->name + ": no _start export (not a WASI command)");
  auto early = co_await open(std::move(*cfg));
  cfg.reset();
  if (early) co_return *early;
  auto r = co_await call("_start", {});
  co_return r ? exit_status{exit_status::kind::exited, 0, {}} : std::move(r).error();
}

std::optional<uint64_t> guest::fuel_left() {
  if (ticks_.IsEmpty()) return std::nullopt;
  v8::Isolate* iso = vm_->isolate();
  // Between calls, off the fiber: a fiber-mode guest's own isolate is entered for this alone.
  v8::Isolate::Scope entered(iso);
  v8::HandleScope hs(iso);
  auto ctx = vm_->context();
  v8::Context::Scope cs(ctx);
  auto counter = ticks_.Get(iso);
  v8::Local<v8::Value> v;
  uint32_t still = 0;
  if (counter->Get(ctx, vm_->name("value")).ToLocal(&v) && v->IsInt32()) {
    still = static_cast<uint32_t>(v.As<v8::Int32>()->Value());
  }
  if (still > fuel_.granted) {
    // A call stopped at a spent tank: wasio.tick granted nothing and the module counted on, to
    // -1, before V8 ended its wasm. Back to 0, so that the next call's first tick asks again.
    still = 0;
    counter->Set(ctx, vm_->name("value"), v8::Integer::New(iso, 0)).FromMaybe(false);
  }
  fuel_.settle(still);
  return fuel_.left;
}

bool guest::refill_fuel(uint64_t ticks) {
  if (ticks_.IsEmpty()) return false;
  v8::Isolate* iso = vm_->isolate();
  v8::Isolate::Scope entered(iso);  // as in fuel_left
  v8::HandleScope hs(iso);
  auto ctx = vm_->context();
  v8::Context::Scope cs(ctx);
  // The counter at 0: the next tick asks wasio.tick for a grant from the new tank.
  if (!ticks_.Get(iso)->Set(ctx, vm_->name("value"), v8::Integer::New(iso, 0)).FromMaybe(false)) return false;
  fuel_ = fuel_tank{ticks, 0};
  return true;
}

std::string guest::no_ticks() const {
  bool producers = !module_->fiber && !module_->jspi && !module_->unwinds_at_every_import;
  return module_->name + ": fuel needs a module that counts ticks (runtime_options::count_ticks, asyncify or fiber "
                         "mode); this one " +
         (producers ? "runs as its producer asyncified it" : "was loaded without count_ticks");
}

void guest::moved_start_ran() {
  // It runs once, as a start function does: no export the embedder may call after.
  moved_start_ran_ = true;
  export_fns_.erase(rewrite_record::kMovedStartExport);
}

const export_entry* guest::exports_function(std::string_view name) const {
  for (const auto& e : module_->exports) {
    if (e.name == name && e.kind == 0) return &e;
  }
  // The start function JSPI's rewrite exported: () -> (), as every start function is; until
  // it has run (open).
  static const export_entry moved_start{rewrite_record::kMovedStartExport, 0, func_sig{}};
  if (module_->moved_start && !moved_start_ran_ && name == moved_start.name) return &moved_start;
  return nullptr;
}

void guest::close() {
  // Before the memory is let go; the only hook a guest has is its memory_pack.
  if (idle_hook_) static_cast<memory_pack&>(*idle_hook_).detach();
  if (own_vm_) own_vm_->enter();  // a fiber-mode guest's handles belong to its isolate
  export_fns_.clear();
  exports_.Reset();
  ticks_.Reset();
  memory_.Reset();
  if (own_vm_) {
    own_vm_->exit();
    worker_.give_back_vm(std::move(own_vm_));
  }
  vm_ = nullptr;
}

}  // namespace wasio::engine
