// engine/admission.hpp
#include "engine/admission.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <vector>

namespace wasio::engine {

size_t process_mappings() {
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t lines = 0;
  char buf[64 * 1024];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) lines += static_cast<size_t>(std::count(buf, buf + n, '\n'));
  ::close(fd);
  return lines;
}

size_t max_mappings() {
  int fd = ::open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  char buf[32] = {};
  ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof buf - 1);
  if (fd >= 0) ::close(fd);
  long v = n > 0 ? std::atol(buf) : 0;
  return v > 0 ? static_cast<size_t>(v) : 65530;  // Linux's default
}

size_t usable_address_space() {
  size_t limit = size_t{1} << 47;  // x86-64's user half
  rlimit rl{};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<size_t>(limit, rl.rlim_cur);
  size_t used = 0;  // VmSize, in KiB
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  char buf[4096] = {};
  ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof buf - 1);
  if (fd >= 0) ::close(fd);
  if (n > 0) {
    if (const char* v = std::strstr(buf, "VmSize:")) used = static_cast<size_t>(std::atoll(v + 7)) << 10;
  }
  return limit > used ? (limit - used) / 4 * 3 : 0;
}

struct admission::state : std::enable_shared_from_this<state> {
  // Until this many guests have started, a guest is taken to cost this many mappings (more
  // than fiber mode's 17).
  static constexpr size_t kLearnFrom = 16, kAssumedCost = 24, kFirstBatch = 1024;

  std::mutex mu;
  size_t max_guests = 0;  // the embedder's cap, 0: none
  size_t max_waiting = 0;
  size_t usable = 0;      // mappings the guests may use: 90% of the kernel's limit (the rest: V8's heaps, the embedder)
  size_t base = 0;        // mappings when the runtime started
  size_t live = 0;        // guests admitted and not ended
  size_t started = 0;     // of which started
  size_t allowed = 0;     // guests that may be admitted before counting again
  size_t measured_started = 0;
  size_t space_usable = 0;  // address space guests' memories may reserve
  size_t space_used = 0;    // by the guests admitted and not ended
  struct waiter {
    std::function<void(ticket)> start;
    size_t space;
  };
  std::deque<waiter> waiting;
  bool closing = false;
  std::string refusing;           // drain(): why new guests are refused
  std::function<void()> on_idle;  // drain(): called once nothing is alive or waiting

  // Counts the mappings and sets how many guests may be admitted; mu held.
  void measure() {
    size_t now = process_mappings();
    measured_started = started;
    // Guests' mappings per started guest, as a fraction grown/started (at least 2).
    size_t grown = now > base ? now - base : 0, per = started;
    if (started < kLearnFrom) grown = kAssumedCost, per = 1;
    grown = std::max(grown, 2 * per);
    size_t pending = live - started;
    size_t room = now < usable ? (usable - now) * per / grown : 0;
    room = room > pending ? room - pending : 0;
    allowed = live + std::min(room / 2 + (room == 1), std::max(kFirstBatch, started));
    if (max_guests) allowed = std::min(allowed, max_guests);
  }

  size_t space_left() const { return space_usable - std::min(space_used, space_usable); }

  bool has_room(size_t space) {
    if (max_guests && live >= max_guests) return false;
    if (space > space_left() && live > 0) return false;
    if (live < allowed) return true;
    // Counting again is worth it once enough more guests have started to tell their cost
    // better (reading /proc/self/maps takes ~10 ms at 60,000 mappings): not for every start.
    // But also once every admitted guest has started, if any has since the last count: no later
    // start would count again, and guests waiting while there is room would wait for one to end
    // (with guests that end only when all have started, forever). A full runtime where guests
    // come and go is back at the count it measured at: not counted again for each start.
    bool all_started = started == live && started != measured_started;
    if (!all_started && started < measured_started + std::max(kLearnFrom, measured_started / 8)) return false;
    measure();
    return live < allowed;
  }

  ticket make_ticket(size_t space) {
    ++live;
    space_used += space;
    return std::make_shared<slot>(shared_from_this(), space);
  }

  // Starts what may start now, outside the lock (a start posts to a worker); then, if nothing
  // is alive or waiting and drain() asked, says so.
  void admit_waiting(std::unique_lock<std::mutex>& lock) {
    std::vector<std::pair<std::function<void(ticket)>, ticket>> go;
    while (!waiting.empty() && (closing || has_room(waiting.front().space))) {
      go.emplace_back(std::move(waiting.front().start), make_ticket(waiting.front().space));
      waiting.pop_front();
    }
    std::function<void()> idle;
    if (live == 0 && waiting.empty()) std::swap(idle, on_idle);
    lock.unlock();
    for (auto& [start, t] : go) start(std::move(t));
    if (idle) idle();
  }
};

admission::slot::~slot() {
  std::unique_lock lock(st_->mu);
  --st_->live;
  st_->space_used -= space_;
  if (started_) --st_->started;
  st_->admit_waiting(lock);
}

void admission::slot::started() {
  std::unique_lock lock(st_->mu);
  if (started_) return;
  started_ = true;
  ++st_->started;
  st_->admit_waiting(lock);
}

admission::admission(size_t max_guests, size_t max_waiting) : st_(std::make_shared<state>()) {
  st_->max_guests = max_guests;
  st_->max_waiting = max_waiting;
  st_->usable = max_mappings() / 10 * 9;
  st_->base = process_mappings();
  st_->space_usable = usable_address_space();
  st_->measure();
}

void admission::enter(std::function<void(ticket)> start, const std::function<void(std::string)>& refused,
                      size_t space) {
  ticket t;
  std::string why;
  {
    std::lock_guard lock(st_->mu);
    if (!st_->refusing.empty()) {
      why = st_->refusing;
    } else if (st_->closing || (st_->waiting.empty() && st_->has_room(space))) {
      t = st_->make_ticket(space);
    } else if (st_->waiting.size() < st_->max_waiting) {
      st_->waiting.push_back({std::move(start), space});
      return;
    } else if (st_->max_guests && st_->live >= st_->max_guests) {
      why = "too many guests: " + std::to_string(st_->live) + " running (runtime_options::max_guests) and " +
            std::to_string(st_->waiting.size()) + " waiting";
    } else if (space > st_->space_left()) {
      why = "out of address space for another guest's memory (" + std::to_string(st_->live) + " running, " +
            std::to_string(space >> 20) + " MiB reserved each at most): cap their memory (limits::memory_pages) or "
            "run fewer at once";
    } else {
      why = "out of kernel mappings for another guest (" + std::to_string(st_->live) +
            " running): raise vm.max_map_count or run fewer at once";
    }
  }
  if (!why.empty()) return refused(std::move(why));
  start(std::move(t));
}

void admission::drain(std::string why, std::function<void()> idle) {
  std::unique_lock lock(st_->mu);
  st_->refusing = std::move(why);
  st_->on_idle = std::move(idle);
  st_->admit_waiting(lock);
}

size_t admission::alive() const {
  std::lock_guard lock(st_->mu);
  return st_->live + st_->waiting.size();
}

void admission::release_waiting() {
  std::unique_lock lock(st_->mu);
  st_->closing = true;
  st_->admit_waiting(lock);
}

}  // namespace wasio::engine
