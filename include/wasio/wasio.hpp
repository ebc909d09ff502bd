// wasio: an asynchronous WASI preview1 host on V8 and Asio.
//
//   wasio::runtime rt;                                  // one worker per core
//   auto mod = rt.load_file("app.wasm");                // compile once (or mod.error()) ...
//   wasio::config cfg;  cfg.args = {"app.wasm"};
//   rt.async_run(mod.value(), std::move(cfg), [](wasio::exit_status s) { ... });  // ... run many
//
// A reactor (a module that exports functions, `_initialize` and no `_start`) is instantiated
// once and called many times:
//
//   rt.async_instantiate(mod.value(), {}, [](wasio::guest_result<wasio::instance> i) {
//     if (!i) return;  // i.error() is an exit_status: why it could not start
//     auto inst = std::make_shared<wasio::instance>(std::move(i).value());
//     inst->async_call<int32_t>("handle", std::tuple{7}, [inst](wasio::guest_result<int32_t> r) { ... });
//   });
//
// Each async operation takes any Asio completion token (a callback, asio::use_future,
// asio::use_awaitable, asio::deferred) and honours Asio's per-operation cancellation: cancelling stops the guest,
// wherever it is (suspended, or computing), and frees everything it held. Guests that block (an
// empty pipe, a sleep) are suspended on their worker's event loop; they never hold a thread.
#pragma once
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/system_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "wasio/filesystem.hpp"
#include "wasio/host.hpp"
#include "wasio/memory.hpp"
#include "wasio/network.hpp"
#include "wasio/result.hpp"
#include "wasio/stream.hpp"

namespace wasio {

class instance;
namespace detail {
struct module_data;
class runtime_impl;
class guest_control;  // a running guest's stop switch and limits, shared with its worker
std::shared_ptr<guest_control> make_guest_control();
void cancel(guest_control& c);  // thread-safe
struct instance_link;  // an instance handle's way to its instance, on a worker
struct call_cancel;    // one call's cancellation
std::shared_ptr<call_cancel> make_call_cancel();
void cancel(call_cancel& c);  // thread-safe
instance make_instance(std::shared_ptr<instance_link> link);

// Wraps an async_initiate handler into a callable that any thread may call once: the handler
// runs on its associated executor (which is kept busy meanwhile), with its cancellation slot
// cleared first (Asio's rule: no cancellation handler may run once the operation completed).
template <class T, class Handler>
std::function<void(T)> completion(Handler handler) {
  auto work = asio::make_work_guard(asio::get_associated_executor(handler, asio::system_executor()));
  auto h = std::make_shared<Handler>(std::move(handler));
  return [h, work = std::move(work)](T v) mutable {
    auto ex = work.get_executor();
    asio::dispatch(ex, [h, v = std::move(v)]() mutable {
      auto slot = asio::get_associated_cancellation_slot(*h);
      if (slot.is_connected()) slot.clear();
      std::move (*h)(std::move(v));
    });
    work.reset();
  };
}
}  // namespace detail

// A directory the guest sees at `guest_path` (an fd from 3 upwards, in order): a host directory
// (as by default), an overlay of one or an in-memory one (filesystem.hpp).
struct preopen {
  std::string host_path;
  std::string guest_path;
  bool read_only = false;  // the guest gets no rights that write
  enum class kind {
    host,     // host_path itself
    overlay,  // host_path read through, changes kept in a tree of the guest's own, dropped when it ends
    memory,   // an empty in-memory directory of the guest's own (host_path unused)
  } as = kind::host;
  std::shared_ptr<memory_fs> fs;  // when set: this tree, shared with whoever else holds it

  static preopen overlay(std::string host_path, std::string guest_path) {
    return {std::move(host_path), std::move(guest_path), false, kind::overlay, nullptr};
  }
  static preopen memory(std::string guest_path) { return {{}, std::move(guest_path), false, kind::memory, nullptr}; }
  static preopen of(std::shared_ptr<memory_fs> fs, std::string guest_path, bool read_only = false) {
    return {{}, std::move(guest_path), read_only, kind::memory, std::move(fs)};
  }
};

// A pipe between the embedder and one guest's stdio. `embedder` is an Asio stream on the
// embedder's executor (async_write_some into a guest's stdin, async_read_some from its stdout
// or stderr); the kernel's pipe buffer gives backpressure both ways: a guest writing faster
// than the embedder reads is suspended, and so is one reading an empty stdin. `guest` is
// handed over with stdio_fds::hand_over_in/out/err.
struct stdio_pipe {
  asio::posix::stream_descriptor embedder;
  int guest = -1;
};

// A host fd that a guest uses as one of its stdio streams; move-only, so that a config (which
// is move-only for it) is run once:
//  - a plain fd number (stdio_fd(fd), or `cfg.stdio.out = fd`) stays the embedder's: wasio works
//    on its own duplicate and never closes or changes it;
//  - an adopted fd (stdio_fd::adopt, hand_over_*) is owned: wasio closes it once the guest has
//    its own duplicate (or could not start), so that the embedder's end of a pipe sees EOF when
//    the guest ends. It is closed exactly once and never reaches another guest.
//  - stdio_fd::null() is no host fd at all: reads see EOF at once, writes succeed and are
//    discarded, as with /dev/null (what a guest gets by default, see stdio_fds);
//  - a guest_stream (stdio_fd(guest_stream::make(socket))) is the embedder's Asio stream, with
//    no kernel fd given to the guest (stream.hpp).
class stdio_fd {
 public:
  stdio_fd(int fd = -1) noexcept : fd_(fd) {}  // borrowed; -1: the guest's fd is closed (badf)
  stdio_fd(std::shared_ptr<guest_stream> s) noexcept : stream_(std::move(s)) {}
  static stdio_fd adopt(int fd) noexcept {
    stdio_fd s(fd);
    s.owned_ = fd >= 0;
    return s;
  }
  static stdio_fd null() noexcept {
    stdio_fd s;
    s.null_ = true;
    return s;
  }
  stdio_fd(stdio_fd&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), owned_(std::exchange(o.owned_, false)), null_(std::exchange(o.null_, false)),
        error_(std::exchange(o.error_, 0)), stream_(std::move(o.stream_)) {}
  stdio_fd& operator=(stdio_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
      owned_ = std::exchange(o.owned_, false);
      null_ = std::exchange(o.null_, false);
      error_ = std::exchange(o.error_, 0);
      stream_ = std::move(o.stream_);
    }
    return *this;
  }
  ~stdio_fd() { reset(); }
  int get() const noexcept { return fd_; }  // -1 for a closed or a null one
  bool owned() const noexcept { return owned_; }
  bool is_null() const noexcept { return null_; }
  const std::shared_ptr<guest_stream>& stream() const noexcept { return stream_; }
  // The same fd for another guest: a borrowed one as it is, an owned one duplicated (the copy
  // owns the duplicate). When the duplicate cannot be made (out of fds), the copy holds the
  // errno instead, and a guest given it fails to start with the reason.
  stdio_fd clone() const noexcept;
  int error() const noexcept { return error_; }

 private:
  void reset() noexcept;
  int fd_ = -1;
  bool owned_ = false;
  bool null_ = false;
  int error_ = 0;
  std::shared_ptr<guest_stream> stream_;
};

// The guest's fds 0, 1 and 2. By default none of the embedding process's own: stdin is at EOF,
// and what the guest writes to stdout and stderr is discarded (as wasmtime's WasiCtxBuilder and
// wazero's ModuleConfig do), so that a library guest cannot read the server's stdin or write
// into its logs unless the embedder says so: `cfg.stdio = wasio::stdio_fds::inherit()` (what
// the wasio CLI does), or one stream at a time (`cfg.stdio.err = 2`). One fd adopted for two of
// them (a socket as stdin and stdout) is closed once: adopt it for one, borrow it for the other.
struct stdio_fds {
  stdio_fd in = stdio_fd::null(), out = stdio_fd::null(), err = stdio_fd::null();

  // The process's own fds 0, 1 and 2, borrowed.
  static stdio_fds inherit() noexcept { return {stdio_fd(0), stdio_fd(1), stdio_fd(2)}; }

  // The guest end of `p` becomes the guest's stdin (stdout, stderr), owned by the config.
  void hand_over_in(stdio_pipe& p) { in = stdio_fd::adopt(std::exchange(p.guest, -1)); }
  void hand_over_out(stdio_pipe& p) { out = stdio_fd::adopt(std::exchange(p.guest, -1)); }
  void hand_over_err(stdio_pipe& p) { err = stdio_fd::adopt(std::exchange(p.guest, -1)); }
};

// The guest reads what the embedder writes (its stdin). Errors are one-line messages.
outcome::result<stdio_pipe, std::string, outcome::policy::terminate> make_stdin_pipe(const asio::any_io_executor& ex);
// The embedder reads what the guest writes (its stdout or stderr).
outcome::result<stdio_pipe, std::string, outcome::policy::terminate> make_output_pipe(const asio::any_io_executor& ex);

// Per-guest limits; zero means none. A guest that reaches a time limit is stopped
// (exit_status::kind::stopped); the memory and fd limits make the guest's own calls fail instead
// (memory.grow returns -1, so malloc returns NULL; an open is `mfile`).
struct limits {
  uint32_t memory_pages = 0;  // linear memory, in 64 KiB pages
  uint32_t open_fds = 0;      // fds the guest can hold, stdio and preopens included
  // Time the guest occupies its worker thread: its wasm and the host work done inline for its
  // calls, not the time it spends suspended.
  std::chrono::nanoseconds cpu_time{0};
  std::chrono::nanoseconds wall_time{0};  // from the start of its instantiation
  // Fuel (0: unlimited): the guest is stopped ("fuel exhausted") once its wasm has counted this
  // many ticks, one at each function entry, return and loop iteration, like wasmtime's fuel. The
  // count is the same on every run of the same guest with the same inputs, whatever the machine
  // and its load. It needs a module that counts ticks (runtime_options::count_ticks, asyncify or
  // fiber mode): a guest of another is refused at its start, saying so. An instance's calls draw on
  // one tank: the call that spends it is stopped, and so is every later one until the embedder
  // refills it (instance::set_fuel).
  uint64_t fuel = 0;
};
// instance::fuel() of an instance whose fuel has no limit.
inline constexpr uint64_t unlimited_fuel = UINT64_MAX;

// One WASI call a guest made, as config::trace reports it once the call has completed.
struct wasi_call {
  std::string_view function;   // "fd_write"
  std::string_view arguments;  // decoded: `fd=1, iovs=[1 iovec, 13 bytes]`; strings quoted, no raw pointers
  std::string_view results;    // what the call stored for the guest on success (`13`), else empty
  errc error = errc::success;  // the errno it returned
  bool returns = true;         // false for proc_exit, reported before it ends the guest
  std::chrono::nanoseconds duration{0};  // from the call to its completion, suspension included

  // `fd_write(fd=1, iovs=[1 iovec, 13 bytes]) => 13 (success) 2.1µs`, or `proc_exit(rval=0)`:
  // what `wasio run --trace` writes.
  std::string line() const;
};

// Called on the guest's worker thread after each of its WASI calls; the views are valid during
// the call only. Unset (the default), tracing costs a test of this function per call.
using wasi_trace = std::function<void(const wasi_call&)>;

// What one guest runs with. Move-only (its stdio may own fds): a config is run once.
struct config {
  std::vector<std::string> args;  // argv, argv[0] included
  std::vector<std::string> env;   // "KEY=VALUE"
  std::vector<preopen> preopens;
  stdio_fds stdio;
  struct limits limits;
  network net;  // none unless allowed (network.hpp)
  // The embedder's own state for this guest, which its host functions get back from
  // call_context::host_data().
  std::shared_ptr<void> host_data;
  wasi_trace trace;  // every WASI call the guest makes, reported (see wasi_call)
  // More fds, each an embedder's stream (stream.hpp): numbered after the preopens and the
  // listening sockets of `net`, in this order.
  std::vector<std::shared_ptr<guest_stream>> streams;

  // A config for another guest with the same settings (stdio_fd::clone for its stdio).
  config clone() const;
};

// How a guest ended.
struct exit_status {
  enum class kind {
    exited,   // returned from _start (code 0) or called proc_exit(code)
    trapped,  // a wasm trap or an uncaught exception: `message` names it
    failed,   // could not start: a bad preopen, a missing export; `message` says why
    stopped,  // cancelled by the embedder or past a time limit: `message` says which
  };
  kind how = kind::exited;
  uint32_t code = 0;
  std::string message;

  bool operator==(const exit_status&) const = default;

  // The status a command-line host exits with: the guest's code, 134 (as SIGABRT) for a trap,
  // 1 when the guest could not start, 137 (as SIGKILL) when it was stopped.
  int process_status() const noexcept;
};

// A value of type T, or how the guest ended (or failed to start) instead.
template <class T>
using guest_result = outcome::result<T, exit_status, outcome::policy::terminate>;

// A long-lived instance of a module (runtime::async_instantiate), whose exports the embedder
// calls. Move-only; destroying it closes the instance (calls still queued complete as stopped).
// Calls are served one at a time, in the order made, on the instance's worker, like a strand's
// handlers; an export that blocks (in WASI, or in an awaitable host function) suspends its
// instance alone. Every member may be called from any thread.
class instance {
 public:
  instance() = default;
  instance(instance&&) noexcept = default;
  instance& operator=(instance&& o) noexcept;
  ~instance();
  explicit operator bool() const noexcept { return link_ != nullptr; }

  // Calls export `name` with `args`: completes with its results, or with an exit_status that
  // says why not: trapped (the trap's message; the instance can be called again, with its memory
  // as the trap left it), stopped (this call cancelled, a time limit reached, the runtime
  // destroyed, the instance closed), exited (the guest called proc_exit: so does every later
  // call), failed (no such export, arguments that do not match its parameters).
  // Cancelling the operation stops this call alone, queued or running.
  template <class CompletionToken>
  auto async_call(std::string name, std::vector<value> args, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(guest_result<std::vector<value>>)>(
        [](auto handler, std::shared_ptr<detail::instance_link> link, std::string name, std::vector<value> args) {
          auto cancel = cancel_of(handler);
          submit(link, std::move(name), std::move(args), std::move(cancel),
                 detail::completion<guest_result<std::vector<value>>>(std::move(handler)));
        },
        token, link_, std::move(name), std::move(args));
  }
  // The same with C++ types: `R` is void or the export's one result type (int32_t, uint32_t,
  // int64_t, uint64_t, float, double), `args` its parameters.
  template <class R, class... A, class CompletionToken>
  auto async_call(std::string name, std::tuple<A...> args, CompletionToken&& token) {
    std::vector<value> v = std::apply([](auto... a) { return std::vector<value>{value(a)...}; }, args);
    return asio::async_initiate<CompletionToken, void(guest_result<R>)>(
        [](auto handler, std::shared_ptr<detail::instance_link> link, std::string name, std::vector<value> args) {
          auto cancel = cancel_of(handler);
          auto done = detail::completion<guest_result<R>>(std::move(handler));
          submit(link, name, std::move(args), std::move(cancel), [done, name](guest_result<std::vector<value>> r) {
            done(typed<R>(std::move(r), name));
          });
        },
        token, link_, std::move(name), std::move(v));
  }

  // The instance's linear memory as its last call (or its instantiation) left it, for the
  // embedder to read and write between calls: not while a call is in flight.
  guest_memory memory() const;

  // Its fuel (limits::fuel) as its last call (or its instantiation) left it, in ticks, exactly
  // (unlimited_fuel without a limit); nullopt where its module counts no ticks
  // (runtime_options::count_ticks) or the instance is closed.
  std::optional<uint64_t> fuel() const;
  // Gives it `ticks` of fuel (unlimited_fuel: no limit; 0: none, so a call stops at its first
  // tick), taken by the next call to start: the call running keeps what it has. As wasmtime's
  // Store::set_fuel, to go on after a call stopped with "fuel exhausted", or to give each
  // request its own budget. False where its module counts no ticks or the instance is closed.
  bool set_fuel(uint64_t ticks);

 private:
  friend instance detail::make_instance(std::shared_ptr<detail::instance_link>);
  explicit instance(std::shared_ptr<detail::instance_link> l) : link_(std::move(l)) {}
  // A cancellation for the call whose handler is `h`, if its slot is connected.
  template <class Handler>
  static std::shared_ptr<detail::call_cancel> cancel_of(Handler& h) {
    auto slot = asio::get_associated_cancellation_slot(h);
    if (!slot.is_connected()) return nullptr;
    auto c = detail::make_call_cancel();
    slot.assign([c](asio::cancellation_type) { detail::cancel(*c); });
    return c;
  }
  // Queues the call on the instance's worker; `done` may run on any thread.
  static void submit(const std::shared_ptr<detail::instance_link>& link, std::string name,
                            std::vector<value> args, std::shared_ptr<detail::call_cancel> cancel,
                            std::function<void(guest_result<std::vector<value>>)> done);
  template <class R>
  static guest_result<R> typed(guest_result<std::vector<value>> r, const std::string& name) {
    if (!r) return std::move(r).error();
    auto& v = r.value();
    if constexpr (std::is_void_v<R>) {
      if (v.empty()) return outcome::success();
    } else {
      if (v.size() == 1 && v[0].is<R>()) return v[0].as<R>();
    }
    return wrong_results(name, v.size());
  }
  static exit_status wrong_results(const std::string& name, size_t count);
  std::shared_ptr<detail::instance_link> link_;
};

// How guests wait for a blocking call without holding their worker (docs/why-two-modes.md):
//  - asyncify: the module is rewritten by binaryen so that a guest's wasm stack unwinds into its
//    memory; guests share their worker's V8 isolate (dense: ~25 KiB per waiting guest, ~13.5
//    KiB once its memory is packed away, runtime_options::hibernate_after). The rewrite takes
//    seconds to minutes for big modules, once (runtime_options::cache_dir).
//  - fiber: the module runs as given on a native stack and V8 isolate of its own per guest
//    (~1 MB and a few ms per guest), which starts big modules at once.
//  - jspi: V8's own suspension (JS Promise Integration), where the engine has it (V8 11, as on
//    Debian 13; jspi_available()): the module is not instrumented, its guests share their
//    worker's isolate (as dense as asyncify) and suspend at blocking calls; slower than
//    asyncify with thousands waiting at once (docs/why-jspi.md). Not with count_ticks.
//  - automatic: asyncify when its rewrite is cached or cheap (small modules); otherwise, and for
//    modules asyncify cannot serve, jspi where the engine has it and can run the module, fiber
//    where not.
enum class suspension_mode { automatic, asyncify, fiber, jspi };
// Whether this build's engine has JSPI (suspension_mode::jspi): V8 11 and binaryen 112 or later.
bool jspi_available() noexcept;
// The engine this build runs guests on: "V8 10.2.154.26-node.36".
std::string engine_version();

// An exported function whose signature C++ can call (numbers only).
struct export_info {
  std::string name;
  std::vector<val_type> params, results;
};

// A compiled module, shareable between runtimes' guests and threads. Cheap to copy.
class module {
 public:
  const std::shared_ptr<const detail::module_data>& data() const { return data_; }
  // Its exported functions that instance::async_call can call, in the module's order.
  std::vector<export_info> functions() const;
  // The suspension mode its guests run in, and why it was chosen (for a log line).
  suspension_mode mode() const;
  const std::string& mode_reason() const;

 private:
  friend class detail::runtime_impl;
  explicit module(std::shared_ptr<const detail::module_data> d) : data_(std::move(d)) {}
  std::shared_ptr<const detail::module_data> data_;
};

struct runtime_options {
  unsigned workers = 0;  // 0: one per core
  // Embedded, Node-style: run every guest on this io_context, on whichever thread runs it (one
  // thread), instead of on worker threads. The runtime must then be destroyed on that thread,
  // outside the loop's run() (it runs the loop itself until its guests have ended). One
  // embedded runtime per thread: its V8 isolate stays entered on that thread.
  asio::io_context* loop = nullptr;
  // A guest whose wasm has run this long without suspending yields its worker, so that its
  // siblings' timers and I/O are served (0: never): at its next WASI call, or wherever it is
  // (V8 interrupts it at a loop back-edge or a function entry): in fiber mode its fiber switches
  // out, in asyncify mode on a worker of wasio's own its thread is parked while another thread
  // goes on with the worker's loop (docs/why-parking.md). Not so on an embedder's loop (`loop`),
  // whose handlers run on the embedder's thread only, nor in JSPI mode: there a guest that
  // computes without any WASI call yields only if its module counts ticks (count_ticks, asyncify
  // mode); otherwise config::limits::cpu_time stops it.
  std::chrono::nanoseconds time_slice = std::chrono::milliseconds(10);
  // Modules are rewritten for suspension (binaryen's asyncify) once, and the result kept on
  // disk for later runs and other processes: a big module's rewrite takes seconds to minutes.
  // In `cache_dir`, or, when empty, $WASIO_CACHE_DIR, else $XDG_CACHE_HOME/wasio, else
  // ~/.cache/wasio; "off" (or WASIO_CACHE=off in the environment) disables it. The least
  // recently used entries go beyond `cache_max_bytes`.
  std::string cache_dir;
  uint64_t cache_max_bytes = uint64_t{1} << 30;
  suspension_mode mode = suspension_mode::automatic;
  // The embedder's functions that its guests may import (host.hpp). Fixed for the runtime's
  // life: a module is instrumented for the awaitable ones it imports when it is loaded.
  host_functions host;
  // Guests and instances alive at once. Beyond `max_guests` (0: as many as the kernel's limit
  // on mappings, vm.max_map_count, and the address space allow: in asyncify mode about 24,000
  // guests whose memory has no maximum (each reserves 4 GiB) and over 100,000 of 16 MiB
  // (limits::memory_pages); in fiber mode 3,500 at Linux's default), a new one waits until one ends; beyond `max_waiting` waiting, it fails
  // at once (exit_status::kind::failed, with the reason). Never does one guest too many bring
  // the process down.
  size_t max_guests = 0;
  size_t max_waiting = SIZE_MAX;
  // Modules count ticks (a tick per function entry, return and loop iteration, like wasmtime's
  // fuel), in asyncify mode and in fiber mode (a rewrite that adds only that): their guests may
  // then have limits::fuel, and in asyncify mode also yield at the end of their time slice in
  // loops without WASI calls on an embedder's loop (elsewhere they yield there anyway:
  // time_slice). Not in JSPI mode. It costs compute-bound code 1.2-3.4x in time
  // (docs/why-ticks.md), which is why it is off unless asked for.
  bool count_ticks = false;
  // A guest that has waited this long in a WASI call (for a pipe, a socket, a sleep) has its
  // memory's resident pages compressed into the host's heap and dropped, until the wait ends
  // (docs/why-hibernation.md): a small program's blocked guest then costs ~13.5 KiB instead of
  // ~25. Packing and putting back cost ~55 µs of CPU per such wait; a guest whose waits end soon
  // after it was packed has its own threshold doubled (up to 128x), so one woken often stops
  // being packed. Guests with more than 256 KiB resident are left as they are, and so are
  // guests waiting in an embedder's host function (its code may touch their memory at any
  // time). nullopt: never. WASIO_HIBERNATE_AFTER_MS=N|off in the environment overrides it.
  std::optional<std::chrono::milliseconds> hibernate_after = std::chrono::milliseconds(100);
};

// Loading errors are one-line messages fit for a user.
using load_result = outcome::result<module, std::string, outcome::policy::terminate>;

class runtime {
 public:
  explicit runtime(runtime_options opts = {});
  // Stops every guest still running (each completes as stopped, "cancelled") and waits for
  // them, then joins the workers.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Validates, rewrites (asyncify) and compiles a module. Identical bytes are rewritten once.
  load_result load(std::span<const uint8_t> bytes);
  load_result load_file(const std::string& path);

  // Runs one instance of `m` with `cfg` on a worker; completes with its exit_status.
  template <class CompletionToken>
  auto async_run(const module& m, config cfg, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(exit_status)>(
        [this](auto handler, const module& m, config cfg) {
          auto control = stop_switch(handler);
          start(m, std::move(cfg), std::move(control), detail::completion<exit_status>(std::move(handler)));
        },
        token, m, std::move(cfg));
  }

  // Instantiates `m` with `cfg` on a worker, and runs its `_initialize` if it exports one;
  // completes with the instance, or with how it ended instead (failed: an import the host
  // does not define, or defines with another signature; trapped in its start function or
  // `_initialize`; ...). Cancelling it stops the instantiation.
  template <class CompletionToken>
  auto async_instantiate(const module& m, config cfg, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(guest_result<instance>)>(
        [this](auto handler, const module& m, config cfg) {
          auto control = stop_switch(handler);
          start_instance(m, std::move(cfg), std::move(control),
                         detail::completion<guest_result<instance>>(std::move(handler)));
        },
        token, m, std::move(cfg));
  }

  // A graceful end: stops taking guests (each new one completes at once as failed, "the runtime
  // is shutting down"), lets those running or waiting for room end by themselves, and once
  // `grace` has passed stops the rest, computing or suspended, as ~runtime does. Completes with
  // how many were stopped (0: all ended by themselves); the runtime may then be destroyed.
  template <class CompletionToken>
  auto async_shutdown(std::chrono::nanoseconds grace, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(size_t)>(
        [this](auto handler, std::chrono::nanoseconds grace) {
          shutdown(grace, detail::completion<size_t>(std::move(handler)));
        },
        token, grace);
  }

  unsigned worker_count() const noexcept;

 private:
  // A new guest's control, which the handler's cancellation slot (if connected) stops.
  template <class Handler>
  static std::shared_ptr<detail::guest_control> stop_switch(Handler& h) {
    auto control = detail::make_guest_control();
    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected()) slot.assign([control](asio::cancellation_type) { detail::cancel(*control); });
    return control;
  }
  void start(const module& m, config cfg, std::shared_ptr<detail::guest_control> control,
             std::function<void(exit_status)> done);
  void start_instance(const module& m, config cfg, std::shared_ptr<detail::guest_control> control,
                      std::function<void(guest_result<instance>)> done);
  void shutdown(std::chrono::nanoseconds grace, std::function<void(size_t)> done);
  std::unique_ptr<detail::runtime_impl> impl_;
};

}  // namespace wasio
