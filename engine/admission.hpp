// How many guests and instances a runtime lets live at once, so that none of them makes V8 run
// out of kernel mappings (vm.max_map_count): V8 treats a failed mmap or munmap as fatal and
// takes the whole process down (40,000 blocked guests did, at Linux's default limit). A guest
// that does not fit waits for room, or, past runtime_options::max_waiting, fails at once with
// the reason.
//
// The room is measured, not assumed: a guest costs 2 mappings in asyncify mode and about 17 in
// fiber mode (its own isolate and stack), the embedder has mappings of its own. So the process's
// mappings are counted (/proc/self/maps) when the runtime starts and again whenever the guests
// started since the last count could have used half the room left (at most 1,024 more, or as
// many more as were running, so that the cost per guest is learnt before it matters, at 24
// assumed until 16 have started); a guest's cost is the
// growth since the start over the guests that have started, and the guests admitted but not yet
// started are counted at that cost too.
//
// And address space: each guest's memory holds a reservation of its maximum size (4 GiB for a
// memory without one, engine/memory_arena.hpp), and the process has 128 TiB. A guest is admitted
// only while the reservations of those alive fit in 3/4 of what was free when the runtime
// started (or of RLIMIT_AS).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace wasio::engine {

class admission {
  struct state;

 public:
  // `max_guests` 0: as many as the mappings allow; `max_waiting`: guests queued beyond it.
  admission(size_t max_guests, size_t max_waiting);

  // A guest's room, held while it lives: dropping it lets a waiting guest start.
  class slot {
   public:
    slot(std::shared_ptr<state> st, size_t space) : st_(std::move(st)), space_(space) {}
    ~slot();
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    // The guest is being instantiated: from now on its mappings are in the counts.
    void started();

   private:
    std::shared_ptr<state> st_;
    size_t space_;  // bytes of address space its memory reserves
    bool started_ = false;
  };
  using ticket = std::shared_ptr<slot>;

  // Calls `start` with a ticket now if there is room, or later (on a thread that starts or ends
  // a guest) once there is; when it may not wait either, calls `refused` with the reason.
  // `space`: the address space the guest's memory reserves.
  void enter(std::function<void(ticket)> start, const std::function<void(std::string)>& refused,
             size_t space = 0);
  // The runtime is going away: the waiting guests are started at once (they end as stopped).
  void release_waiting();
  // From now on each new guest is refused with `why`; `idle` is called once, when no guest is
  // alive or waiting any more (at once if none is), on the thread that ends the last one.
  void drain(std::string why, std::function<void()> idle);
  // Guests alive (admitted and not ended) and waiting.
  size_t alive() const;

 private:
  std::shared_ptr<state> st_;
};

// The kernel mappings this process holds (lines of /proc/self/maps), and the most it may hold.
size_t process_mappings();
size_t max_mappings();
// The address space guests' memories may reserve: 3/4 of what is free of the process's (128 TiB,
// or RLIMIT_AS).
size_t usable_address_space();

}  // namespace wasio::engine
