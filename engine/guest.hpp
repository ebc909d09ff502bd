// One running instance of a module: its WASI context, its V8 instance and its suspension mode.
// A guest lives on one worker for its whole life and is only touched from that worker's thread.
#pragma once
#include <v8.h>

#include <asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "engine/guest_control.hpp"
#include "engine/memory.hpp"
#include "engine/wasm_summary.hpp"
#include "engine/suspension.hpp"
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

  // Builds the WASI context and the instance, then runs `_start` to its end.
  asio::awaitable<exit_status> run(const config& cfg);

  worker& owner() const noexcept { return worker_; }
  // The guest's isolate: its worker's (asyncify mode) or its own (fiber mode).
  v8::Isolate* isolate() const noexcept { return vm_->isolate(); }
  v8::Local<v8::Context> context() const { return vm_->context(); }
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

  detail::guest_control& control() noexcept { return *control_; }
  // Wakes the guest if it is suspended, so that its driver sees the stop request (worker thread).
  void wake_to_stop();

  // proc_exit: remember the code and stop the guest; V8's termination cannot be caught by it.
  void request_exit(uint32_t code);
  std::optional<uint32_t> exit_requested() const noexcept { return exit_code_; }

  // How a call into the guest's wasm ended, for both modes: exited (after proc_exit, whose
  // pending termination is cancelled), stopped, trapped; nullopt when it returned (`threw`
  // false) without an exit.
  std::optional<run_end> call_ended(const v8::TryCatch& tc, bool threw);

 private:
  std::optional<std::string> build_context(const config& cfg);
  std::optional<std::string> instantiate(v8::Local<v8::Context> ctx, v8::Local<v8::Object>* exports);
  // Instantiates and finds _start; the exit status when the guest ends or fails on the way.
  std::optional<exit_status> prepare(v8::Local<v8::Context> ctx, v8::Global<v8::Function>* entry,
                                     v8::Local<v8::Object>* exports);
  exit_status status_of(run_end end) const;
  // Fiber mode, on the fiber: makes the guest's own isolate, runs it to its end, disposes it.
  exit_status run_on_fiber(fiber_suspension& fs);

  worker& worker_;
  vm* vm_ = nullptr;             // the worker's shared one, or own_vm_
  std::unique_ptr<vm> own_vm_;   // fiber mode
  std::shared_ptr<const detail::module_data> module_;
  wasi::context wasi_;
  void refresh(uint8_t** base, size_t* size) const override;

  v8::Global<v8::WasmMemoryObject> memory_;
  v8::Global<v8::WasmMemoryObject> supplied_memory_;  // from the worker's pool, given back at the end
  mutable uint8_t* mem_base_ = nullptr;
  mutable size_t mem_size_ = 0;
  std::unique_ptr<suspension> suspension_;
  std::optional<uint32_t> exit_code_;
  bool rewinding_ = false;
  std::shared_ptr<detail::guest_control> control_;
  memory_limits memory_limits_{};  // of the supplied memory, as given back to the pool
};

}  // namespace wasio::engine
