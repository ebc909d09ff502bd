// A worker: one thread, one asio::io_context, one V8 isolate and context. Guests placed on a
// worker live there for their whole life; other threads only post to it.
#pragma once
#include <sys/types.h>
#include <v8.h>

#include <asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <atomic>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "async/host_stream.hpp"
#include "engine/admission.hpp"
#include "engine/guest_control.hpp"
#include "engine/hibernation.hpp"
#include "engine/loop_turns.hpp"
#include "engine/memory_pool.hpp"
#include "engine/vm.hpp"
#include "wasio/wasio.hpp"

namespace wasio::engine {

class guest;
class instance_host;

// The guest whose wasm is running on this thread now, for the import thunks: a thread-local is
// one load, where the functions' V8 data would cost a call into libnode on every import.
inline thread_local guest* current_guest = nullptr;

class watchdog;

class worker {
 public:
  // `dog` (may be null) is told about guests with time limits. With `loop`, the worker runs on
  // that io_context (the embedder's thread) instead of a thread of its own.
  // A guest whose wasm has run for `slice` (0: never) yields at its next WASI call.
  // `host`: the embedder's host functions (may be null), in every isolate's import object.
  worker(watchdog* dog, asio::io_context* loop = nullptr,
         std::chrono::nanoseconds slice = std::chrono::milliseconds(10),
         std::shared_ptr<const host_functions> host = nullptr,
         std::optional<std::chrono::milliseconds> hibernate_after = std::nullopt);
  // Stops every guest (each completes, as stopped), waits for them, disposes the isolate. An
  // embedded worker must be destroyed on its loop's thread; it runs the loop until then.
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Runs a new guest of `m` with `cfg` here; `done` is called on this worker's thread. The guest
  // holds `ticket` (its room in the runtime, engine/admission.hpp) while it lives.
  void spawn(std::shared_ptr<const detail::module_data> m, config cfg,
             std::shared_ptr<detail::guest_control> control, std::function<void(exit_status)> done,
             admission::ticket ticket = nullptr);
  // Instantiates `m` with `cfg` here (guest::open); `done` gets the new instance's link, or how
  // it ended instead, on this worker's thread.
  using opened_fn = std::function<void(guest_result<std::shared_ptr<detail::instance_link>>)>;
  void spawn_instance(std::shared_ptr<const detail::module_data> m, config cfg,
                      std::shared_ptr<detail::guest_control> control, opened_fn done,
                      admission::ticket ticket = nullptr);
  // Stops every guest and instance of this worker, computing or suspended, from any thread
  // (runtime::async_shutdown's deadline); every later guest too.
  void stop_every_guest(const char* why);
  // For an instance_host that has closed and ended its last call: it goes (posted).
  void instance_closed(instance_host* h);

  // Any thread, as the runtime goes: stops the guest computing on this worker now, and every
  // guest that enters its wasm later, without waiting for the worker to read its queue (a guest
  // that computes never lets it).
  void stop_all_now();

  // ---- any thread ----
  // Stops `c`'s guest, which lives here: terminates its wasm if it is running now, and posts a
  // wake-up for when it is suspended.
  void stop(std::shared_ptr<detail::guest_control> c);
  // For the watchdog: terminates the guest running now if it is past a time limit, and asks it
  // to yield if it has used up its time slice.
  void check_limits(std::chrono::steady_clock::time_point now);
  // Guests that cannot be parked (fiber and JSPI mode, engine/loop_turns.hpp), as they are made
  // and go: while one lives here, no guest is parked.
  void unparkable_made() { ++unparkable_; }
  void unparkable_gone() { --unparkable_; }
  // For the thunks: the running guest has used up its time slice (one relaxed load).
  bool preempt_due() const noexcept { return preempt_.load(std::memory_order_relaxed); }
  void clear_preempt() noexcept { preempt_.store(false, std::memory_order_relaxed); }

  // ---- on the worker thread only ----
  // A guest's wasm runs between enter and leave (one "segment"): what the watchdog and stop()
  // may terminate. leave() charges the segment to the guest's CPU time and clears a
  // termination that arrived too late to hit it, so that it cannot hit the next guest.
  // `iso` is the guest's isolate: the worker's, or a fiber-mode guest's own.
  void enter(detail::guest_control* c, v8::Isolate* iso);
  void leave();
  asio::io_context& io() { return *io_; }
  // The worker's shared isolate (asyncify-mode guests), made on the worker thread.
  engine::vm& shared_vm() { return *vm_; }
  // Isolates for fiber-mode guests, kept between guests: making one costs milliseconds. take_vm
  // returns one entered on the calling fiber (new if none is kept); give_back_vm takes one whose
  // guest has ended, exited, and keeps a few.
  std::unique_ptr<vm> take_vm();
  void give_back_vm(std::unique_ptr<vm> v);
  v8::Isolate* isolate() const { return vm_->isolate(); }
  memory_pool& memories() { return memories_; }
  // Where its guests' memories are packed away while they wait long (null: never).
  const std::shared_ptr<hibernation_queue>& hibernation() const noexcept { return hibernation_; }
  // The stream behind host fd `fd`, shared by the guests of this worker. Null with *error set
  // when the fd is not open.
  std::shared_ptr<async::host_stream> stdio_stream(int fd, int* error);
  // A stream on /dev/null (stdio_fd::null()), one for every guest of this worker.
  std::shared_ptr<async::host_stream> null_stream(int* error);

 private:
  void init_isolate();
  void dispose_isolate();
  static void ignore_default_sigpipe();
  void begin_shutdown();
  void stop_guests(const char* why);  // on the worker's thread
  bool idle() const;
  void finish_if_idle();
  struct new_guest {
    std::shared_ptr<const detail::module_data> module;
    config cfg;
    std::shared_ptr<detail::guest_control> control;
    std::function<void(exit_status)> done;  // a command
    opened_fn opened;                        // or an instance
    admission::ticket ticket;                // its room in the runtime
  };
  void enqueue(new_guest g);
  void drain_later();  // drain_arrivals in a handler of its own, unless one is due already
  void start(new_guest g);
  // Whether an arrival must wait to start: it cannot be parked, and a guest is parked now (its
  // fiber or JSPI stack would be resumed on whichever thread runs the loop then).
  bool must_wait_for_parked(const new_guest& n);
  void drain_arrivals();
  // Terminates the running guest's wasm; seg_mu_ held.
  void terminate_running();
  // The interrupt that yields a fiber-mode guest at the end of its slice, or parks one on the
  // shared isolate (check_limits).
  static void yield_in_interrupt(v8::Isolate* iso, void*);
  // From that interrupt: parks `g`, which computes on the shared isolate, if it may be, and
  // returns once its turn has come again (docs/why-parking.md).
  void park(guest& g);

  watchdog* dog_;
  std::mutex seg_mu_;
  detail::guest_control* running_ = nullptr;  // the guest in a segment now
  v8::Isolate* running_iso_ = nullptr;         // and its isolate
  std::chrono::steady_clock::time_point seg_start_;
  bool terminate_sent_ = false;
  bool interrupt_sent_ = false;  // yield_in_interrupt requested in this segment
  std::chrono::nanoseconds slice_;
  std::atomic<bool> preempt_{false};
  std::optional<asio::io_context> own_io_;  // unless embedded
  asio::io_context* io_ = nullptr;           // own_io_ or the embedder's
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<vm> vm_;
  // Own loop only: the threads that take turns at it while a computing guest is parked.
  std::optional<loop_turns> turns_;
  int unparkable_ = 0;             // fiber- and JSPI-mode guests alive here
  bool unparkable_waiting_ = false;  // one waits to start until no guest is parked
  std::vector<std::unique_ptr<vm>> spare_vms_;
  std::shared_ptr<hibernation_queue> hibernation_;  // stopped before the loop goes
  std::unordered_set<detail::guest_control*> live_;  // started, not yet ended
  bool stopping_ = false;
  std::atomic<bool> stop_all_{false};  // stop_all_now was called
  std::shared_ptr<const host_functions> host_;
  std::unordered_map<instance_host*, std::shared_ptr<instance_host>> instances_;
  std::atomic<int> unseen_spawns_{0};  // spawn() posts not yet run
  // Up to 64 MiB of recycled memories of at most 4 MiB each: small guests' memories recycle,
  // big ones are left to V8.
  memory_pool memories_{64u << 20, 4u << 20};
  struct cached_stream {
    dev_t dev;
    ino_t ino;  // the fd number may be reused for another file: check before reuse
    std::shared_ptr<async::host_stream> stream;
  };
  std::map<int, cached_stream> stdio_;  // by host fd; -1 is /dev/null
  // Guests waiting to start. A burst of submissions is started a few at a time, between rounds
  // of the event loop, so that it does not starve the guests already running (their timers and
  // I/O), and short-lived ones finish and recycle their memory while the burst goes on.
  std::deque<new_guest> arrivals_;
  bool draining_ = false;
  int posted_starts_ = 0;  // taken from arrivals_, not yet started
  std::thread thread_;
};

}  // namespace wasio::engine
