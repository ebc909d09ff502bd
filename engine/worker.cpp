#include "engine/worker.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <future>

#include "engine/guest.hpp"
#include "engine/imports.hpp"
#include "engine/instance.hpp"
#include "engine/module.hpp"
#include "engine/watchdog.hpp"

namespace wasio::engine {

worker::worker(watchdog* dog, asio::io_context* loop, std::chrono::nanoseconds slice,
               std::shared_ptr<const host_functions> host,
               std::optional<std::chrono::milliseconds> hibernate_after)
    : dog_(dog), slice_(slice), host_(std::move(host)) {
  ensure_v8();
  if (loop) {
    // Embedded: the embedder's thread runs the loop; the isolate is made there, by the first
    // handler (a V8 isolate takes its stack limits from the thread that creates it).
    io_ = loop;
    if (hibernate_after) hibernation_ = std::make_shared<hibernation_queue>(*io_, *hibernate_after);
    ignore_default_sigpipe();
    return;
  }
  own_io_.emplace(1);  // one thread runs this context: let Asio skip its locking
  io_ = &*own_io_;
  if (hibernate_after) hibernation_ = std::make_shared<hibernation_queue>(*io_, *hibernate_after);
  work_.emplace(io_->get_executor());
  std::promise<void> ready;
  auto started = ready.get_future();
  thread_ = std::thread([this, &ready] {
    // A write to a pipe whose reader left raises SIGPIPE in the writing thread, which would kill
    // the whole host. Blocked here, it stays pending and the write fails with EPIPE, which the
    // guest sees as `pipe`. Only this thread's mask changes, never the embedder's handlers.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    init_isolate();
    ready.set_value();
    io_->run();
    turns_.reset();  // the threads that took turns at the loop end
    // The cached streams leave the reactor before it goes; anything still queued is destroyed
    // with the loop, while the isolate is alive.
    for (auto& [fd, c] : stdio_) c.stream->leave_reactor();
    if (hibernation_) hibernation_->stop();
    own_io_.reset();
    dispose_isolate();
  });
  started.wait();
}

worker::~worker() {
  if (own_io_) {
    // The worker thread stops every guest, waits for them to end, then drops the guard: once
    // it has, it destroys the loop, so nothing here may touch the loop after this post.
    asio::post(*io_, [this] { begin_shutdown(); });
    if (thread_.joinable()) thread_.join();
    return;
  }
  // Embedded: on the loop's thread (the documented rule), which runs the loop here until every
  // guest has ended, including those submitted but not yet taken in by the loop.
  begin_shutdown();
  while (!idle() || unseen_spawns_ > 0) {
    if (io_->stopped()) io_->restart();  // a completion handler may stop the loop meanwhile
    io_->run_one();
  }
  stdio_.clear();
  if (hibernation_) hibernation_->stop();
  if (vm_) dispose_isolate();
}

void worker::ignore_default_sigpipe() {
  // Embedded, wasio cannot block SIGPIPE in the embedder's thread. Its default action would
  // kill the process when a guest writes to a pipe whose reader left; ignored, the write fails
  // with EPIPE (the guest sees `pipe`). A handler the embedder installed is left alone (Node
  // ignores SIGPIPE the same way).
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

namespace {
// The stack limit for V8 on a thread of wasio's own: the thread's whole stack but a margin for
// the host's frames below the guest's (V8's default, 984 KiB below where the isolate was made,
// is less than an asyncify-instrumented guest needs to block 10,000 frames deep, which fiber
// mode's 16 MiB stacks and node's uninstrumented frames allow). Nullopt: V8's default stands.
std::optional<uintptr_t> own_thread_stack_limit() {
  constexpr size_t kMargin = 256 * 1024;
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return std::nullopt;
  void* low = nullptr;
  size_t size = 0;
  int r = ::pthread_attr_getstack(&attr, &low, &size);
  ::pthread_attr_destroy(&attr);
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  auto limit = reinterpret_cast<uintptr_t>(low) + kMargin;
  if (r != 0 || size < 2 * kMargin || limit >= here) return std::nullopt;
  return limit;
}
}  // namespace

void worker::init_isolate() {
  // On a loop of its own, other threads may take turns at the loop and the isolate while a
  // computing guest is parked (engine/loop_turns.hpp); the embedder's loop is the embedder's
  // thread alone.
  vm_ = std::make_unique<vm>(host_.get(), /*locked=*/own_io_.has_value());
  if (!own_io_) return;  // an embedder's thread: its stack is the embedder's to size
  v8::Isolate* iso = vm_->isolate();
  auto set_stack_limit = [iso] {
    if (auto limit = own_thread_stack_limit()) iso->SetStackLimit(*limit);
  };
  set_stack_limit();
  // Each parked guest holds a thread (its stack mapped, a few pages of it touched, two kernel
  // mappings). Beyond this many computing at once, the one running when none can be parked
  // runs on, as it would without parking.
  constexpr size_t kMaxParked = 256;
  turns_.emplace(*io_, iso, set_stack_limit, kMaxParked);
}

void worker::dispose_isolate() {
  stdio_.clear();
  memories_.clear();
  spare_vms_.clear();
  vm_.reset();
}

std::unique_ptr<vm> worker::take_vm() {
  if (spare_vms_.empty()) return std::make_unique<vm>(host_.get());
  auto v = std::move(spare_vms_.back());
  spare_vms_.pop_back();
  v->enter();
  return v;
}

void worker::give_back_vm(std::unique_ptr<vm> v) {
  // A few: each idle isolate holds about a megabyte. Beyond that the vm is disposed here.
  constexpr size_t kSpare = 16;
  if (spare_vms_.size() < kSpare && !stopping_) spare_vms_.push_back(std::move(v));
}

void worker::begin_shutdown() {
  stopping_ = true;
  stop_guests("the runtime was destroyed");
  finish_if_idle();
}

void worker::stop_guests(const char* why) {
  for (auto& g : arrivals_) g.control->mark(detail::guest_control::reason::cancelled);
  for (auto* c : live_) c->request_stop(detail::guest_control::reason::cancelled);
  for (auto& [p, h] : instances_) h->close(why);  // erased later, by a post
}

void worker::stop_every_guest(const char* why) {
  stop_all_now();  // a guest computing now, from this thread
  asio::post(*io_, [this, why] { stop_guests(why); });
}

void worker::stop_all_now() {
  stop_all_ = true;
  std::lock_guard lock(seg_mu_);
  if (running_) {
    running_->mark(detail::guest_control::reason::cancelled);
    terminate_running();
  }
}

void worker::instance_closed(instance_host* h) {
  asio::post(*io_, [this, h] {
    auto it = instances_.find(h);
    if (it == instances_.end()) return;
    live_.erase(&it->second->control());
    instances_.erase(it);
    if (dog_) dog_->guest_ended();
    finish_if_idle();
  });
}

bool worker::idle() const { return live_.empty() && arrivals_.empty() && !draining_ && posted_starts_ == 0; }

void worker::finish_if_idle() {
  if (!stopping_ || !idle() || !own_io_) return;
  work_.reset();
  io_->stop();
}

void worker::spawn(std::shared_ptr<const detail::module_data> m, config cfg,
                   std::shared_ptr<detail::guest_control> control, std::function<void(exit_status)> done,
                   admission::ticket ticket) {
  enqueue(new_guest{std::move(m), std::move(cfg), std::move(control), std::move(done), nullptr, std::move(ticket)});
}

void worker::spawn_instance(std::shared_ptr<const detail::module_data> m, config cfg,
                            std::shared_ptr<detail::guest_control> control, opened_fn done,
                            admission::ticket ticket) {
  enqueue(new_guest{std::move(m), std::move(cfg), std::move(control), nullptr, std::move(done), std::move(ticket)});
}

void worker::enqueue(new_guest g) {
  ++unseen_spawns_;
  asio::post(*io_, [this, g = std::move(g)]() mutable {
    --unseen_spawns_;
    arrivals_.push_back(std::move(g));
    drain_later();
  });
}

void worker::drain_later() {
  if (draining_) return;
  // Posted, not called: a burst of arrivals queued ahead of the reactor would otherwise each
  // start its guest at once, before any timer or I/O completion is looked at.
  draining_ = true;
  asio::post(*io_, [this] { drain_arrivals(); });
}

void worker::drain_arrivals() {
  if (!vm_) init_isolate();  // embedded: the first handler on the embedder's thread
  constexpr int kPerRound = 8;  // ~1-2 ms of instantiation between two looks at the reactor
  for (int i = 0; i < kPerRound && !arrivals_.empty(); ++i) {
    if (must_wait_for_parked(arrivals_.front())) break;  // looked at again in the next round
    // Each start a handler of its own: a guest runs inline from there until it first waits, and
    // one parked meanwhile (engine/loop_turns.hpp) must not hold up the rest of this round.
    ++posted_starts_;
    asio::post(*io_, [this, g = std::move(arrivals_.front())]() mutable {
      --posted_starts_;
      if (g.module->parkable() || !turns_ || (!must_wait_for_parked(g) && turns_->on_worker_thread())) {
        return start(std::move(g));
      }
      // Back to the queue's head: a guest was parked since, or the loop is on another thread
      // of the worker's, which gives it back to the worker thread to start this guest there (a
      // fiber's isolate is the worker thread's to enter).
      arrivals_.push_front(std::move(g));
      if (unparkable_waiting_) return drain_later();
      turns_->return_to_worker_thread([this] { drain_later(); });
    });
    arrivals_.pop_front();
  }
  if (arrivals_.empty()) {
    draining_ = false;
    finish_if_idle();
  } else {
    asio::post(*io_, [this] { drain_arrivals(); });
  }
}

bool worker::must_wait_for_parked(const new_guest& n) {
  if (!turns_ || n.module->parkable()) return false;
  unparkable_waiting_ = turns_->parked() > 0;  // and until then no guest is parked anew
  return unparkable_waiting_;
}

void worker::start(new_guest n) {
  if (stopping_) n.control->mark(detail::guest_control::reason::cancelled);  // ends at once
  auto g = std::make_shared<guest>(*this, std::move(n.module), n.control);
  if (n.ticket) n.ticket->started();
  g->admission_ticket = std::move(n.ticket);
  // The watchdog looks after every guest: their time slices, and the time limits of some.
  bool watched = dog_ != nullptr;
  if (watched) dog_->guest_started();
  detail::guest_control* c = n.control.get();
  live_.insert(c);
  auto host_error = [](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return exit_status{exit_status::kind::failed, 0, std::string("host error: ") + x.what()};
    } catch (...) {
      return exit_status{exit_status::kind::failed, 0, "host error"};
    }
  };
  if (n.opened) {
    asio::co_spawn(
        *io_, [g, cfg = std::move(n.cfg)]() mutable { return g->open(std::move(cfg)); },
        [this, g, c, watched, host_error, control = std::move(n.control), done = std::move(n.opened)](
            std::exception_ptr e, std::optional<exit_status> s) mutable {
          if (e) s = host_error(e);
          if (s) {
            live_.erase(c);
            if (watched) dog_->guest_ended();
            done(std::move(*s));
          } else {
            auto h = std::make_shared<instance_host>(*this, std::move(g), std::move(control));
            instances_.emplace(h.get(), h);  // a guest for the watchdog until it closes
            done(h->link());
          }
          finish_if_idle();
        });
    return;
  }
  // The handler holds the guest, and lets it go before it reports the end: its memory and its
  // admission slot are free once the embedder hears of it (one that starts the next guest then
  // must find the room; the entry point's copy of the function would hold it for longer).
  asio::co_spawn(
      *io_,
      [raw = g.get(), cfg = std::make_unique<config>(std::move(n.cfg))]() mutable { return raw->run(std::move(cfg)); },
      [this, g, c, watched, host_error, control = std::move(n.control), done = std::move(n.done)](
          std::exception_ptr e, exit_status s) mutable {
        live_.erase(c);
        if (watched) dog_->guest_ended();
        if (e) s = host_error(e);
        g.reset();
        done(std::move(s));
        finish_if_idle();
      });
}

void worker::stop(std::shared_ptr<detail::guest_control> c) {
  {
    std::lock_guard lock(seg_mu_);
    if (running_ == c.get()) terminate_running();
  }
  // Suspended (or about to be): wake it on its own thread.
  asio::post(*io_, [c = std::move(c)] {
    if (guest* g = c->guest()) g->wake_to_stop();
  });
}

void worker::check_limits(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(seg_mu_);
  if (!running_ || terminate_sent_) return;
  // One period early: the watchdog looks only every period, and the slice is a bound.
  if (slice_.count() > 0 && now - seg_start_ + dog_->period() > slice_) {
    preempt_.store(true, std::memory_order_relaxed);
    // A fiber-mode guest may also be suspended wherever V8 looks at interrupts (loop back-edges
    // and function entries of its wasm): it has a stack and an isolate of its own, so its fiber
    // can switch out from inside the interrupt, at no cost to its code. On the shared isolate a
    // guest can only unwind from an import (wasio.tick, in a module that counts ticks), but on
    // a loop of wasio's own (turns_, set before any guest runs) its thread can be parked from
    // inside the interrupt while another goes on with the loop (docs/why-parking.md).
    if ((running_iso_ != vm_->isolate() || turns_) && !interrupt_sent_) {
      interrupt_sent_ = true;
      running_iso_->RequestInterrupt(yield_in_interrupt, nullptr);
    }
  }
  detail::guest_control& c = *running_;
  if (c.cpu_limit.count() > 0 && c.cpu_used + (now - seg_start_) > c.cpu_limit) {
    c.mark(detail::guest_control::reason::cpu_time);
  } else if (now > c.wall_deadline) {
    c.mark(detail::guest_control::reason::wall_time);
  } else {
    return;
  }
  terminate_running();
}

// V8 runs an interrupt at its next check in that isolate: in the segment it was meant for, or
// in a later one (of the same guest, or of the next guest given the isolate), which no longer has
// a yield due (enter() clears it).
void worker::yield_in_interrupt(v8::Isolate* iso, void*) {
  guest* g = current_guest;
  if (!g || g->isolate() != iso || !g->owner().preempt_due()) return;
  if (!g->module().fiber) return g->owner().park(*g);
  if (suspension* s = g->suspender()) s->yield_now();  // switches out, and back in here
}

void worker::park(guest& g) {
  // Not a JSPI guest, whose wasm runs on a stack of V8's that the isolate, not the thread,
  // keeps as its active one (its suspension is never parkable); not in a call of its own.
  suspension* s = g.suspender();
  if (!turns_ || turns_->full() || unparkable_ > 0 || unparkable_waiting_ || !s || !s->parkable()) return;
  clear_preempt();
  leave();
  turns_->park();  // returns once its turn has come (at once if no thread could be had)
  enter(&g.control(), vm_->isolate());  // stops it now if it was asked to meanwhile
}

void worker::terminate_running() {
  if (terminate_sent_) return;
  terminate_sent_ = true;
  running_iso_->TerminateExecution();  // thread-safe, as V8 documents it
}

void worker::enter(detail::guest_control* c, v8::Isolate* iso) {
  std::lock_guard lock(seg_mu_);
  running_ = c;
  running_iso_ = iso;
  seg_start_ = std::chrono::steady_clock::now();
  preempt_.store(false, std::memory_order_relaxed);
  interrupt_sent_ = false;
  if (stop_all_) c->mark(detail::guest_control::reason::cancelled);
  // Asked to stop before this segment began: end it at once (V8 checks at its next interrupt).
  if (c->stop_requested()) terminate_running();
}

void worker::leave() {
  std::lock_guard lock(seg_mu_);
  if (running_) {
    auto& c = *running_;
    c.cpu_used += std::chrono::steady_clock::now() - seg_start_;
    // Many short segments can pass the limit between two looks of the watchdog.
    if (c.cpu_limit.count() > 0 && c.cpu_used > c.cpu_limit) c.mark(detail::guest_control::reason::cpu_time);
  }
  running_ = nullptr;
  if (terminate_sent_) {
    terminate_sent_ = false;
    running_iso_->CancelTerminateExecution();
  }
}

std::shared_ptr<async::host_stream> worker::stdio_stream(int fd, int* error) {
  // The process's own stdio is shared by the guests of this worker (the CLI's --instances);
  // any other fd (an embedder's pipe) gets a stream of its own, closed when its guest ends, so
  // that the other end sees EOF.
  if (fd > 2) return async::host_stream::open(io_->get_executor(), fd, error);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = errno;
    return nullptr;
  }
  auto it = stdio_.find(fd);
  if (it != stdio_.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino) {
    return it->second.stream;
  }
  auto s = async::host_stream::open(io_->get_executor(), fd, error);
  if (s) stdio_[fd] = cached_stream{st.st_dev, st.st_ino, s};
  return s;
}

std::shared_ptr<async::host_stream> worker::null_stream(int* error) {
  auto it = stdio_.find(-1);
  if (it != stdio_.end()) return it->second.stream;
  async::unique_fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) {
    *error = errno;
    return nullptr;
  }
  auto s = async::host_stream::open(io_->get_executor(), null.get(), error);
  if (s) stdio_[-1] = cached_stream{0, 0, s};
  return s;
}

}  // namespace wasio::engine
