// Thunks: poll_oneoff, proc_exit, sched_yield.
#include <vector>

#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

asio::awaitable<errc> poll_with(call c, uint32_t in, uint32_t out, uint32_t nsubscriptions, uint32_t nevents_ptr,
                                const layout::subscription_layout& sl) {
  WASIO_CO_TRY_ERRC(nevents, c.mem().out<uint32_t>(nevents_ptr));
  if (nsubscriptions == 0) co_return errc::inval;  // nothing could ever wake the guest
  // The host keeps a record and an event per subscription for the whole wait: their number may
  // not be the guest's to choose (22M once cost 2.5 GB). poll(2) says EINVAL past its limit too.
  if (nsubscriptions > wasi::kMaxSubscriptions) co_return errc::inval;
  WASIO_CO_TRY_ERRC(subs_mem, c.mem().bytes(in, uint64_t{nsubscriptions} * sl.size));
  WASIO_CO_TRY_ERRC(events_mem, c.mem().bytes(out, uint64_t{nsubscriptions} * layout::event_size));
  std::vector<wasi::subscription> subs;
  subs.reserve(nsubscriptions);
  for (uint32_t i = 0; i < nsubscriptions; ++i) {
    WASIO_CO_TRY_ERRC(s, layout::decode_subscription(subs_mem.data() + i * sl.size, sl));
    subs.push_back(s);
  }
  std::vector<wasi::event> events(nsubscriptions);
  auto n = co_await wasi::poll_oneoff(c.ctx(), subs, events);
  if (!n) co_return n.error();
  for (uint32_t i = 0; i < n.value(); ++i) {
    layout::encode_event(events_mem.data() + i * layout::event_size, events[i]);
  }
  nevents.set(n.value());
  co_return errc::success;
}

asio::awaitable<errc> poll_oneoff(call c, uint32_t in, uint32_t out, uint32_t nsubscriptions, uint32_t nevents_ptr) {
  return poll_with(c, in, out, nsubscriptions, nevents_ptr, layout::preview1_subscription);
}

asio::awaitable<errc> poll_oneoff_snapshot0(call c, uint32_t in, uint32_t out, uint32_t nsubscriptions,
                                            uint32_t nevents_ptr) {
  return poll_with(c, in, out, nsubscriptions, nevents_ptr, layout::snapshot0_subscription);
}

// proc_exit: terminate the guest with `code`. Does not return to the guest.
void proc_exit(call c, uint32_t code) { c.g->request_exit(code); }

// proc_raise: deprecated in preview1 and never delivered to the host process; like wasmtime,
// wasio does not support it.
errc proc_raise(call, uint32_t) { return errc::notsup; }

asio::awaitable<errc> sched_yield(call) { co_return status(co_await wasi::sched_yield()); }

constexpr import_row rows[] = {
    row<"poll_oneoff", &poll_oneoff>(),
    row<"proc_exit", &proc_exit>(),
    row<"proc_raise", &proc_raise>(),
    row<"sched_yield", &sched_yield>(),
    // wasi_unstable's variants, whose ABI differs.
    row<"poll_oneoff", &poll_oneoff_snapshot0, wasi::unstable>(),
};

}  // namespace

std::span<const import_row> poll_proc_sched_rows() { return rows; }

}  // namespace wasio::engine
