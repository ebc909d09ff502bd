// The fiber suspension mode (see suspension.hpp): the guest's module runs unmodified, on a
// native stack of its own (Boost.Context) and with a V8 isolate of its own. A blocking import
// switches from the guest's stack back to the worker's coroutine, which awaits the operation
// and switches back when it completes; the import then returns its result as if it had simply
// waited. No rewrite is needed, so big modules (whose asyncify rewrite takes minutes) start at
// once.
//
// Why an isolate per guest: fibers that share one isolate crash V8 unless resumed in strict LIFO
// order; one isolate per fiber runs in any order (ENGINE-FACTS.md). The isolate is exited
// before each switch away and entered again after, and its stack limit is the fiber's.
#pragma once
#include <functional>
#include <memory>

#include "engine/suspension.hpp"
#include "wasio/wasio.hpp"

namespace wasio::engine {

class guest;

class fiber_suspension : public suspension {
 public:
  // Runs `body` on a new fiber to its end, awaiting each operation it blocks on. `body` enters
  // the guest's isolate (made on the first fiber, so that V8 knows the stack it runs on), calls
  // into the guest, and exits the isolate again before it returns: each call into the guest
  // (instantiation, each export call) runs on a fiber of its own.
  virtual asio::awaitable<void> run_fiber(std::function<void()> body) = 0;
  // On the fiber, after the guest's isolate is entered: V8's stack limit for it.
  virtual void bind_isolate(v8::Isolate* iso) = 0;
};

std::unique_ptr<fiber_suspension> make_fiber_suspension(guest& g);

}  // namespace wasio::engine
