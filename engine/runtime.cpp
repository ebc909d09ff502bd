// wasio::runtime: the worker pool and the module cache.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "async/unique_fd.hpp"
#include "engine/admission.hpp"
#include "engine/memory_arena.hpp"
#include "engine/disk_cache.hpp"
#include "engine/instance.hpp"
#include "engine/module.hpp"
#include "engine/watchdog.hpp"
#include "engine/worker.hpp"
#include "wasio/wasio.hpp"

namespace wasio {

int exit_status::process_status() const noexcept {
  switch (how) {
    case kind::exited: return static_cast<int>(code & 0xff);
    case kind::trapped: return 134;
    case kind::failed: return 1;
    case kind::stopped: return 137;
  }
  return 1;
}

stdio_fd stdio_fd::clone() const noexcept {
  if (!owned_) {
    stdio_fd s(fd_);
    s.null_ = null_;
    s.error_ = error_;
    s.stream_ = stream_;  // shared, as one pipe between two guests
    return s;
  }
  stdio_fd s = adopt(::fcntl(fd_, F_DUPFD_CLOEXEC, 3));
  if (s.fd_ < 0) s.error_ = errno;
  return s;
}

config config::clone() const {
  config c;
  c.args = args;
  c.env = env;
  c.preopens = preopens;
  c.stdio.in = stdio.in.clone();
  c.stdio.out = stdio.out.clone();
  c.stdio.err = stdio.err.clone();
  c.limits = limits;
  c.net = net;
  c.host_data = host_data;
  c.trace = trace;
  c.streams = streams;
  return c;
}

void stdio_fd::reset() noexcept {
  if (owned_) ::close(fd_);
  fd_ = -1;
  owned_ = false;
  null_ = false;
  stream_.reset();
}

namespace {

outcome::result<stdio_pipe, std::string, outcome::policy::terminate> make_pipe(
    const asio::any_io_executor& ex, bool embedder_writes) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return std::string("cannot make a pipe: ") + std::strerror(errno);
  int mine = embedder_writes ? p[1] : p[0], theirs = embedder_writes ? p[0] : p[1];
  return stdio_pipe{asio::posix::stream_descriptor(ex, mine), theirs};
}

}  // namespace

outcome::result<stdio_pipe, std::string, outcome::policy::terminate> make_stdin_pipe(const asio::any_io_executor& ex) {
  return make_pipe(ex, true);
}

outcome::result<stdio_pipe, std::string, outcome::policy::terminate> make_output_pipe(const asio::any_io_executor& ex) {
  return make_pipe(ex, false);
}

namespace detail {

// runtime_options::mode; WASIO_MODE=asyncify|fiber|jspi in the environment overrides `automatic`
// (to run a whole test suite in one mode).
engine::mode_choice choose_mode(suspension_mode m) {
  if (m == suspension_mode::automatic) {
    if (const char* env = std::getenv("WASIO_MODE")) {
      if (std::string_view(env) == "fiber") return engine::mode_choice::fiber;
      if (std::string_view(env) == "asyncify") return engine::mode_choice::asyncify;
      if (std::string_view(env) == "jspi") return engine::mode_choice::prefer_jspi;
    }
  }
  return static_cast<engine::mode_choice>(m);
}

// runtime_options::hibernate_after; WASIO_HIBERNATE_AFTER_MS=N|off in the environment overrides it
// (0: to run a whole test suite with every guest packed away at each wait).
std::optional<std::chrono::milliseconds> hibernate_after(std::optional<std::chrono::milliseconds> given) {
  const char* env = std::getenv("WASIO_HIBERNATE_AFTER_MS");
  if (!env || !*env) return given;
  if (std::string_view(env) == "off") return std::nullopt;
  char* end = nullptr;
  long ms = std::strtol(env, &end, 10);
  if (*end || ms < 0) return given;
  return std::chrono::milliseconds(ms);
}

class runtime_impl {
 public:
  explicit runtime_impl(runtime_options opts)
      : admission_(opts.max_guests, opts.max_waiting),
        disk_cache_(engine::disk_cache::open(opts.cache_dir, opts.cache_max_bytes)),
        mode_(choose_mode(opts.mode)),
        time_slices_(opts.time_slice.count() > 0),
        count_ticks_(opts.count_ticks),
        host_(std::make_shared<const host_functions>(std::move(opts.host))) {
    unsigned n = opts.workers ? opts.workers : std::max(1u, std::thread::hardware_concurrency());
    if (opts.loop) n = 1;  // embedded: the embedder's thread is the one worker
    std::vector<engine::worker*> watched;
    for (unsigned i = 0; i < n; ++i) {
      workers_.push_back(std::make_unique<engine::worker>(&watchdog_, opts.loop, opts.time_slice, host_,
                                                          hibernate_after(opts.hibernate_after)));
      watched.push_back(workers_.back().get());
    }
    watchdog_.watch(std::move(watched));
  }

  ~runtime_impl() {
    // The guests computing now are stopped from here: a worker reads its queue only between
    // guests' segments. Then the watchdog stops looking (it would look at workers being
    // destroyed); the object stays: the workers' guests still tell it they ended. Guests still
    // waiting for room are started first, to be stopped with the rest; a shutdown still
    // waiting for its grace period ends now.
    {
      std::lock_guard lock(shutdown_mu_);
      destroying_ = true;
    }
    shutdown_cv_.notify_all();
    if (shutdown_thread_.joinable()) shutdown_thread_.join();
    admission_.drain("the runtime was destroyed", nullptr);  // and no idle callback into *this
    admission_.release_waiting();
    for (auto& w : workers_) w->stop_all_now();
    watchdog_.stop();
    workers_.clear();
  }

  // `owner`, if given, holds `bytes` and may be edited or emptied (prepare_module).
  load_result load(std::span<const uint8_t> bytes, engine::byte_buffer* owner, std::string name) {
    // By digest, not by the bytes themselves: a big module's copy would stay for the runtime's
    // life (SHA-256 runs at GB/s with the CPU's SHA extensions). The disk cache's key derives
    // from the same digest.
    std::string key = engine::disk_cache::key({bytes});
    {
      std::lock_guard lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) return module(it->second);
    }
    // Outside the lock: a rewrite takes 0.1 s for a small module, seconds for a large one.
    engine::rewrite_cache rc{disk_cache_.get(), key};
    engine::prepared_module p =
        engine::prepare_module(bytes, owner, disk_cache_ ? &rc : nullptr, mode_,
                               host_->definitions().empty() ? nullptr : host_.get(), time_slices_, count_ticks_);
    if (!p.error.empty()) return name + ": " + p.error;
    auto d = std::make_shared<module_data>();
    static std::atomic<uint64_t> next_id{1};
    d->id = next_id++;
    d->name = std::move(name);
    d->compiled = std::move(p.code);
    d->fiber = p.fiber;
    d->jspi_mode = p.jspi;
    d->jspi = p.info.jspi;
    d->moved_start = p.info.moved_start;
    d->mode_reason = std::move(p.mode_reason);
    d->asyncified = p.info.asyncified;
    d->unwinds_at_every_import = p.info.unwinds_at_every_import;
    d->counts_ticks = p.info.counts_ticks;
    d->has_stack_pointer = p.info.has_stack_pointer;
    d->stack_floor = p.info.stack_floor;
    d->supplied_memory = p.supplied_memory;
    d->data_end = p.data_end;
    d->exports = std::move(p.exports);
    d->link_error = std::move(p.link_error);
    std::lock_guard lock(mu_);
    auto [it, inserted] = cache_.emplace(std::move(key), d);
    return module(it->second);
  }

  // Each guest and instance is started once admission_ has room for it (engine/admission.hpp).
  // What a guest waiting for room keeps (in a shared_ptr: a config is move-only, and both the
  // start and the refusal need it).
  template <class Done>
  struct pending {
    std::shared_ptr<const module_data> m;
    config cfg;
    std::shared_ptr<guest_control> control;
    Done done;
  };

  // The address space a guest of `m` reserves for its memory: its maximum, capped by `lim`
  // as guest::build_context caps it (engine/memory_arena.hpp).
  static size_t reserved_space(const module_data& m, const limits& lim) {
    if (!m.supplied_memory) return 0;
    return engine::memory_arena::reservation_of(engine::capped(*m.supplied_memory, lim.memory_pages));
  }

  void start(const module& m, config cfg, std::shared_ptr<guest_control> control,
             std::function<void(exit_status)> done) {
    // Braces, not parentheses: clang before 16 has no parenthesized aggregate initialization.
    auto p = std::make_shared<pending<std::function<void(exit_status)>>>(
        pending<std::function<void(exit_status)>>{m.data(), std::move(cfg), std::move(control), std::move(done)});
    admission_.enter(
        [this, p](engine::admission::ticket t) {
          next_worker().spawn(std::move(p->m), std::move(p->cfg), std::move(p->control), std::move(p->done), std::move(t));
        },
        [p](std::string why) { p->done(exit_status{exit_status::kind::failed, 0, std::move(why)}); },
        reserved_space(*p->m, p->cfg.limits));
  }

  void start_instance(const module& m, config cfg, std::shared_ptr<guest_control> control,
                      std::function<void(guest_result<instance>)> done) {
    auto p = std::make_shared<pending<std::function<void(guest_result<instance>)>>>(
        pending<std::function<void(guest_result<instance>)>>{m.data(), std::move(cfg), std::move(control), std::move(done)});
    admission_.enter(
        [this, p](engine::admission::ticket t) {
          next_worker().spawn_instance(
              std::move(p->m), std::move(p->cfg), std::move(p->control),
              [done = std::move(p->done)](guest_result<std::shared_ptr<instance_link>> r) {
                if (!r) return done(std::move(r).error());
                done(make_instance(std::move(r).value()));
              },
              std::move(t));
        },
        [p](std::string why) { p->done(exit_status{exit_status::kind::failed, 0, std::move(why)}); },
        reserved_space(*p->m, p->cfg.limits));
  }

  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }

  // runtime::async_shutdown: new guests refused; a thread of its own waits for the rest to end,
  // or for the grace period, then stops them.
  void shutdown(std::chrono::nanoseconds grace, std::function<void(size_t)> done) {
    {
      std::lock_guard lock(shutdown_mu_);
      if (shut_down_) return done(*shut_down_);  // a later call: what the first found
      if (shutting_down_) {                       // a second call: it completes with the first
        later_.push_back(std::move(done));
        return;
      }
      shutting_down_ = true;
    }
    admission_.drain("the runtime is shutting down", [this] {
      std::lock_guard lock(shutdown_mu_);
      idle_ = true;
      shutdown_cv_.notify_all();
    });
    std::lock_guard lock(shutdown_mu_);
    shutdown_thread_ = std::thread([this, grace, done = std::move(done)] {
      std::unique_lock lock(shutdown_mu_);
      auto over = [this] { return idle_ || destroying_; };
      size_t stopped = 0;
      if (!shutdown_cv_.wait_for(lock, grace, over)) {
        stopped = admission_.alive();
        lock.unlock();
        admission_.release_waiting();
        for (auto& w : workers_) w->stop_every_guest("the runtime was shut down");
        lock.lock();
        shutdown_cv_.wait(lock, over);
      }
      auto others = std::move(later_);
      shut_down_ = stopped;
      lock.unlock();
      done(stopped);
      for (auto& d : others) d(stopped);
    });
  }

 private:
  engine::worker& next_worker() {
    return *workers_[next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size()];
  }

  engine::admission admission_;
  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  std::thread shutdown_thread_;
  bool idle_ = false, destroying_ = false, shutting_down_ = false;
  std::optional<size_t> shut_down_;  // once the shutdown completed: how many it stopped
  std::vector<std::function<void(size_t)>> later_;
  engine::watchdog watchdog_;  // declared first: it outlives the workers that report to it
  std::vector<std::unique_ptr<engine::worker>> workers_;
  std::atomic<unsigned> next_worker_{0};
  std::shared_ptr<const engine::disk_cache> disk_cache_;  // null: disabled
  engine::mode_choice mode_;
  bool time_slices_;
  bool count_ticks_;
  std::shared_ptr<const host_functions> host_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const module_data>> cache_;  // by SHA-256 of the input
};

}  // namespace detail

runtime::runtime(runtime_options opts) : impl_(std::make_unique<detail::runtime_impl>(opts)) {}
runtime::~runtime() = default;

std::string engine_version() { return std::string("V8 ") + v8::V8::GetVersion(); }

bool jspi_available() noexcept {
#ifdef WASIO_JSPI
  return true;
#else
  return false;
#endif
}

suspension_mode module::mode() const {
  return data_->fiber ? suspension_mode::fiber : data_->jspi_mode ? suspension_mode::jspi : suspension_mode::asyncify;
}
const std::string& module::mode_reason() const { return data_->mode_reason; }

std::vector<export_info> module::functions() const {
  std::vector<export_info> out;
  for (const auto& e : data_->exports) {
    if (e.kind != 0 || !e.sig || !e.sig->numeric()) continue;
    export_info f{e.name, {}, {}};
    for (auto t : e.sig->params) f.params.push_back(static_cast<val_type>(t));
    for (auto t : e.sig->results) f.results.push_back(static_cast<val_type>(t));
    out.push_back(std::move(f));
  }
  return out;
}

load_result runtime::load(std::span<const uint8_t> bytes) { return impl_->load(bytes, nullptr, "module"); }

load_result runtime::load_file(const std::string& path) {
  async::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return path + ": not a regular file";
  // With room in front for fiber mode's edit, made there in place (engine/byte_buffer.hpp).
  auto bytes = engine::byte_buffer::read_file(fd.get(), engine::kMemoryImportRoom);
  if (!bytes) return path + ": " + std::strerror(errno);
  return impl_->load(bytes->bytes(), &*bytes, path);
}

void runtime::start(const module& m, config cfg, std::shared_ptr<detail::guest_control> control,
                    std::function<void(exit_status)> done) {
  impl_->start(m, std::move(cfg), std::move(control), std::move(done));
}

void runtime::start_instance(const module& m, config cfg, std::shared_ptr<detail::guest_control> control,
                             std::function<void(guest_result<instance>)> done) {
  impl_->start_instance(m, std::move(cfg), std::move(control), std::move(done));
}

unsigned runtime::worker_count() const noexcept { return impl_->worker_count(); }

void runtime::shutdown(std::chrono::nanoseconds grace, std::function<void(size_t)> done) {
  impl_->shutdown(grace, std::move(done));
}

}  // namespace wasio
