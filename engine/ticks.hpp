// Ticks: how a guest that computes without any WASI call still yields at the end of its time
// slice, and how its fuel is counted (limits::fuel).
//
// With runtime_options::count_ticks, the asyncify rewrite (rewrite_helper.cpp, add_ticks) makes
// a module count ticks: one at each function entry, return and loop iteration, in a global of its
// own. When the count it was granted has run out, the module calls the import wasio.tick, which
//  - suspends the guest if its time slice is over (with time slices on, the import is listed to
//    asyncify, so the guest unwinds from it as from any WASI call), and
//  - charges the grant to the guest's fuel, ends the guest when its fuel is spent, and returns
//    the next grant.
// A grant of kTickGrant ticks costs one call into the host per 10,000 loop iterations or so;
// each tick costs the guest a load, a test and a store of that global (docs/why-ticks.md).
#pragma once
#include <v8.h>

#include <cstdint>

#include "wasio/wasio.hpp"

namespace wasio::engine {

// Ticks granted per call of wasio.tick (fewer when less fuel is left).
inline constexpr uint32_t kTickGrant = 10'000;

// A guest's fuel: ticks left, and how many of them the module was last granted. `left` counts a
// grant as spent only when the next is asked for (regrant) or the rest of it is read back from
// the module (settle, between an instance's calls).
struct fuel_tank {
  static constexpr uint64_t unlimited = wasio::unlimited_fuel;
  uint64_t left = unlimited;
  uint32_t granted = 0;  // the module's global starts at 0, so its first tick asks for a grant

  // Charges the last grant; the next one (0 when the fuel is spent).
  uint32_t regrant() {
    if (left != unlimited) left -= granted;
    granted = left < kTickGrant ? static_cast<uint32_t>(left) : kTickGrant;
    return granted;
  }
  // Charges what the module counted of its grant, `still` (at most `granted`) being what its
  // global holds: the rest stays granted.
  void settle(uint32_t still) {
    if (left != unlimited) left -= granted - still;
    granted = still;
  }
};

// The V8 callback of wasio.tick: () -> i32, the ticks the module may count before it calls
// again (the tick that called is the grant's first).
void tick(const v8::FunctionCallbackInfo<v8::Value>& info);

}  // namespace wasio::engine
