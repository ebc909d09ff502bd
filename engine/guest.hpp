// One running instance of a module: its WASI context, its V8 instance and its suspension mode.
// A guest lives on one worker for its whole life and is only touched from that worker's thread.
#pragma once
#include <v8.h>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>

#include "engine/admission.hpp"
#include "engine/guest_control.hpp"
#include "engine/hibernation.hpp"
#include "engine/memory.hpp"
#include "engine/wasm_summary.hpp"
#include "engine/suspension.hpp"
#include "engine/ticks.hpp"
#include "engine/vm.hpp"
#include "src/wasi/context.hpp"
#include "wasio/wasio.hpp"

namespace wasio::engine {

class worker;
class fiber_suspension;

// Sets current_guest (for the import thunks) and opens a worker segment for the scope of a call
// into the guest's wasm.
class guest_segment {
 public:
  explicit guest_segment(guest* g);
  ~guest_segment();
  guest_segment(const guest_segment&) = delete;
  guest_segment& operator=(const guest_segment&) = delete;

 private:
  guest* g_;
  guest* prev_;
};

class guest final : private memory_source {
 public:
  guest(worker& w, std::shared_ptr<const detail::module_data> mod,
        std::shared_ptr<detail::guest_control> control);
  ~guest();

  // Its room in the runtime (engine/admission.hpp), given back when the guest goes.
  admission::ticket admission_ticket;

  // Builds the WASI context and the instance, then runs `_start` to its end. The config comes
  // on the heap and goes once the guest is built: a coroutine's frame keeps its parameters for
  // its whole life, and a blocked guest would hold the config's 344 bytes twice (here and in
  // co_spawn's frame).
  asio::awaitable<exit_status> run(std::unique_ptr<config> cfg);
  // For an instance: builds the WASI context and the instance, and runs `_initialize` if the
  // module exports it (a reactor, in the WASI application ABI). Nullopt when it is ready for
  // calls, else how it ended.
  asio::awaitable<std::optional<exit_status>> open(config cfg);
  // Calls export `name` with `args` (after open). Its results, or how it failed: trapped,
  // stopped, exited (proc_exit: every later call fails so), failed (no such export, arguments
  // of other types).
  asio::awaitable<guest_result<std::vector<value>>> call(const std::string& name, std::vector<value> args);
  // The guest's memory as the last call left it, read on the worker thread (no refresh source:
  // for the embedder, between calls).
  guest_memory memory_snapshot() const { return guest_memory(mem_base_, mem_size_); }

  worker& owner() const noexcept { return worker_; }
  // The guest's isolate: its worker's (asyncify mode) or its own (fiber mode).
  v8::Isolate* isolate() const noexcept { return vm_->isolate(); }
  v8::Local<v8::Context> context() const { return vm_->context(); }
  v8::Local<v8::String> name(std::string_view literal) const { return vm_->name(literal); }  // vm::name
  wasi::context& wasi() noexcept { return wasi_; }
  // Null while the module is instantiated (its start function runs before a suspension exists).
  suspension* suspender() noexcept { return suspension_.get(); }
  // Set by the suspension while the guest is rewound into the call it was suspended in: the
  // thunks look at this plain flag first, so that a call made in the normal course pays no
  // virtual call.
  bool rewinding() const noexcept { return rewinding_; }
  void set_rewinding(bool on) noexcept { rewinding_ = on; }
  const detail::module_data& module() const noexcept { return *module_; }

  // The guest's linear memory. The base and size are cached: V8 10.2 reserves a wasm32 memory's
  // whole maximum (4 GiB without a declared one) up front and grows it in place, so the base does
  // not move; a size grown by memory.grow is picked up when a check fails (refresh below).
  guest_memory memory() const { return guest_memory(mem_base_, mem_size_, this); }
  // The hook its WASI calls' operations start with: its memory may be packed away while one
  // waits (engine/hibernation.hpp). Null where the worker does not pack memories.
  const std::shared_ptr<async::idle_hook>& idle_hook() const noexcept { return idle_hook_; }

  detail::guest_control& control() noexcept { return *control_; }
  // Its fuel (limits::fuel), drawn on by wasio.tick (engine/ticks.hpp).
  fuel_tank& fuel() noexcept { return fuel_; }
  // Between an instance's calls (worker thread), where the module counts ticks (else nullopt
  // and false): the fuel left, exactly (what its wasm counted of the last grant is charged,
  // read from the module's counter); and a new tank, which the next tick draws on.
  std::optional<uint64_t> fuel_left();
  bool refill_fuel(uint64_t ticks);
  // Wakes the guest if it is suspended, so that its driver sees the stop request (worker thread).
  void wake_to_stop();

  // proc_exit: remember the code and stop the guest; V8's termination cannot be caught by it.
  void request_exit(uint32_t code);
  std::optional<uint32_t> exit_requested() const noexcept { return exit_code_; }

  // How a call into the guest's wasm ended, for both modes: exited (after proc_exit, whose
  // pending termination is cancelled), stopped, trapped; nullopt when it returned (`threw`
  // false) without an exit.
  std::optional<run_end> call_ended(const v8::TryCatch& tc, bool threw);
  // Calls the export as the guest's running segment, in the current context: how it ended
  // (call_ended), or nullopt with what it returned in `*returned`.
  std::optional<run_end> invoke(export_call& call, v8::Local<v8::Value>* returned);

  // How an awaitable host function's call ended (host_calls.cpp), kept until the thunk that
  // made it delivers it to the guest: its result's bits, or the text it traps with.
  struct host_call {
    uint64_t result = 0;
    std::optional<std::string> trap;
  };
  host_call& host_slot() noexcept { return host_call_; }
  const std::shared_ptr<void>& host_data() const noexcept { return host_data_; }
  // The config's trace hook, to which the thunks report each call (engine/trace.cpp), and the
  // time the call being traced began.
  bool traced() const noexcept { return static_cast<bool>(trace_); }
  const wasi_trace& trace() const noexcept { return trace_; }
  std::chrono::steady_clock::time_point& trace_start() noexcept { return trace_start_; }

 private:
  std::optional<std::string> build_context(const config& cfg);
  std::optional<std::string> instantiate(v8::Local<v8::Context> ctx);
  // Instantiates; the exit status when the guest ends or fails on the way.
  std::optional<exit_status> prepare(v8::Local<v8::Context> ctx);
  // call()'s parts that do not wait: how it is refused (exited, stopped, not bound) before the
  // guest runs, and its result once the guest's wasm is done.
  std::optional<exit_status> before_call(const std::string& name, export_call& call);
  guest_result<std::vector<value>> after_call(export_call& call, std::optional<run_end>& end,
                                              std::optional<std::string>& unbound);
  // Builds the call of export `name`, in the isolate's scope; a one-line reason if it cannot be.
  std::optional<std::string> bind_call(v8::Local<v8::Context> ctx, const std::string& name, export_call& call);
  struct bound_export {
    const export_entry* entry;  // with a signature C++ can call
    v8::Global<v8::Function> fn;
  };
  outcome::result<bound_export, std::string, outcome::policy::terminate> bind_export(v8::Local<v8::Context> ctx,
                                                                                    const std::string& name);
  // Fiber mode: enters the guest's isolate on a new fiber and runs `body` in its scope.
  asio::awaitable<void> on_fiber(std::function<void(v8::Local<v8::Context>)> body);
  // Releases what the guest holds in its isolate (worker thread).
  void close();
  // The module's function export `name` (as declared, before any rewrite), if any.
  const export_entry* exports_function(std::string_view name) const;

  worker& worker_;
  vm* vm_ = nullptr;             // the worker's shared one, or own_vm_
  std::unique_ptr<vm> own_vm_;   // fiber mode
  std::shared_ptr<const detail::module_data> module_;
  wasi::context wasi_;
  void refresh(uint8_t** base, size_t* size) const override;

  v8::Global<v8::Object> exports_;
  v8::Global<v8::Object> ticks_;  // the module's tick counter (a WebAssembly.Global), where it counts
  std::unordered_map<std::string, bound_export> export_fns_;  // by name, as calls bind them
  v8::Global<v8::WasmMemoryObject> memory_;
  v8::Global<v8::WasmMemoryObject> supplied_memory_;  // from the worker's pool, given back at the end
  mutable uint8_t* mem_base_ = nullptr;
  mutable size_t mem_size_ = 0;
  std::unique_ptr<suspension> suspension_;
  std::optional<uint32_t> exit_code_;
  fuel_tank fuel_;
  bool rewinding_ = false;
  bool moved_start_ran_ = false;  // module_data::moved_start: the start function has run
  void moved_start_ran();
  std::string no_ticks() const;  // why the guest cannot have a fuel limit
  std::shared_ptr<detail::guest_control> control_;
  memory_limits memory_limits_{};  // of the supplied memory, as given back to the pool
  std::optional<asio::steady_timer> wall_;  // the wall-time limit while suspended
  host_call host_call_;
  std::shared_ptr<void> host_data_;
  wasi_trace trace_;
  std::chrono::steady_clock::time_point trace_start_;
  std::shared_ptr<async::idle_hook> idle_hook_;  // a memory_pack, detached as the guest closes
};

}  // namespace wasio::engine
