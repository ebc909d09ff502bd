// Recycles guest memories (see docs/why-memory-pool.md). A finished guest's memory, its
// resident pages zeroed, serves the next guest of a module with the same limits: a short-lived
// guest then costs no mmap, no munmap (with its TLB shoot-down across cores) and few page faults.
#pragma once
#include <v8.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "engine/wasm_summary.hpp"

namespace wasio::engine {

class memory_pool {
 public:
  // Keeps at most `budget` bytes of memories, each at most `max_each` bytes.
  memory_pool(size_t budget, size_t max_each) : budget_(budget), max_each_(max_each) {}

  // A memory with limits `l`, recycled or new. Empty with an exception pending on failure.
  // `ctor` is WebAssembly.Memory.
  v8::MaybeLocal<v8::WasmMemoryObject> take(v8::Local<v8::Context> ctx, v8::Local<v8::Function> ctor,
                                            const memory_limits& l);
  // Takes back the memory of a guest that is gone. It is kept, zeroed, when it still has its
  // initial size (it was not grown) and fits the budget; otherwise V8 frees it.
  void give_back(v8::Isolate* iso, v8::Local<v8::WasmMemoryObject> m, const memory_limits& l);
  void clear() { free_.clear(); bytes_ = 0; }
  // Asks for transparent huge pages for the first `bytes` of `m` (rounded up to a huge page)
  // when that is at least one: the part where instantiation is about to write the data
  // segments, where 4 KiB pages would cost a fault each. Not beyond: a guest that touches
  // little of a big memory keeps small pages.
  static void prefer_huge_pages(v8::Local<v8::WasmMemoryObject> m, uint64_t bytes);
  // JSPI's stacks, which V8 11.3 counts as external memory of their isolate too, each its whole
  // reservation (--wasm-stack-switching-stack-size), from the promising call that makes one until
  // a GC frees it (src/wasm/wasm-objects.cc: WasmContinuationObject::New, a Managed<StackMemory>
  // of the stack's owned size). At 16 MiB a stack, every fourth call started a full GC, each
  // walking every suspended stack. So each is taken off the count as it is made (after each
  // call of a promising export), and never put back: V8 takes it off again when a GC frees it,
  // which wasio cannot see, and a stack is freed only by a GC, so a count that drifts down
  // starts no GC (and the only other external memory of wasio's isolates, guest memories, is
  // off the count already).
  static void stack_made(v8::Isolate* iso, int64_t bytes) { iso->AdjustAmountOfExternalAllocatedMemory(-bytes); }
  // A new memory, not from the pool (for an isolate other than the pool's).
  static v8::MaybeLocal<v8::WasmMemoryObject> make(v8::Local<v8::Context> ctx, v8::Local<v8::Function> ctor,
                                                   const memory_limits& l);

 private:
  using key = std::pair<uint32_t, uint64_t>;  // initial pages, maximum pages (2^32 = none)
  static key key_of(const memory_limits& l) { return {l.initial, l.maximum ? *l.maximum : (1ull << 32)}; }
  size_t budget_, max_each_, bytes_ = 0;
  // Bytes of memories let go that take() took off V8's external-memory count, which V8 takes
  // off again when it sweeps them: counted back as the next memories are made.
  int64_t owed_ = 0;
  std::map<key, std::vector<v8::Global<v8::WasmMemoryObject>>> free_;
};

}  // namespace wasio::engine
