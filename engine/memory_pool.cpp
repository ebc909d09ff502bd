#include "engine/memory_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "engine/memory_arena.hpp"
#include "engine/resident_runs.hpp"

namespace wasio::engine {
namespace {

constexpr size_t kPage = 65536;  // wasm page

// Zeroes the pages of [base, base+len) that are resident and leaves the others alone, so a
// recycled memory costs no more RAM than the pages its guests really touched.
void zero_resident(uint8_t* base, size_t len) {
  static const size_t os_page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t pages = (len + os_page - 1) / os_page;
  std::vector<unsigned char> resident(pages);
  if (::mincore(base, len, resident.data()) != 0) {
    std::memset(base, 0, len);
    return;
  }
  for_each_resident_run(resident, [&](size_t first, size_t count) {
    std::memset(base + first * os_page, 0, std::min(len, (first + count) * os_page) - first * os_page);
  });
}

}  // namespace

v8::MaybeLocal<v8::WasmMemoryObject> memory_pool::take(v8::Local<v8::Context> ctx, v8::Local<v8::Function> ctor,
                                                       const memory_limits& l) {
  v8::Isolate* iso = ctx->GetIsolate();
  auto it = free_.find(key_of(l));
  if (it != free_.end() && !it->second.empty()) {
    auto m = it->second.back().Get(iso);
    it->second.pop_back();
    bytes_ -= size_t{l.initial} * kPage;
    return m;
  }
  v8::Local<v8::WasmMemoryObject> m;
  if (!make(ctx, ctor, l).ToLocal(&m)) return {};
  // V8 counts an ArrayBuffer's bytes as external memory of its isolate and, every 64 MB more,
  // starts a full GC, to free the buffers that JS no longer holds. A guest's memory is held by
  // its guest until wasio lets it go, so those GCs free nothing, and with thousands of guests on
  // one isolate they come ever more often over an ever bigger heap (100,000 guests: 256 full
  // GCs while they started and ended, now 8). So a memory's bytes are taken off the count as it is
  // made. When wasio lets a memory go, V8 takes its bytes off again once it has swept it: that
  // is repaid here, by counting as many bytes of the next memories made, not at once, which
  // would start a GC every 64 MB of guests ending (give_back).
  const int64_t bytes = static_cast<int64_t>(size_t{l.initial} * kPage);
  const int64_t repaid = std::min(owed_, bytes);
  owed_ -= repaid;
  if (bytes > repaid) iso->AdjustAmountOfExternalAllocatedMemory(repaid - bytes);
  return m;
}

v8::MaybeLocal<v8::WasmMemoryObject> memory_pool::make(v8::Local<v8::Context> ctx, v8::Local<v8::Function> ctor,
                                                       const memory_limits& l) {
  v8::Isolate* iso = ctx->GetIsolate();
  // new WebAssembly.Memory({initial, maximum})
  auto desc = v8::Object::New(iso);
  desc->Set(ctx, v8::String::NewFromUtf8Literal(iso, "initial"), v8::Integer::NewFromUnsigned(iso, l.initial)).Check();
  if (l.maximum) {
    desc->Set(ctx, v8::String::NewFromUtf8Literal(iso, "maximum"), v8::Integer::NewFromUnsigned(iso, *l.maximum)).Check();
  }
  v8::Local<v8::Value> arg = desc;
  v8::Local<v8::Object> m;
  // Its reservation comes from the memory arena: no kernel mapping of its own.
  memory_arena::expect_memory_reservation from_arena(memory_arena::reservation_of(l));
  if (!ctor->NewInstance(ctx, 1, &arg).ToLocal(&m) || !m->IsWasmMemoryObject()) return {};
  return m.As<v8::WasmMemoryObject>();
}

void memory_pool::prefer_huge_pages(v8::Local<v8::WasmMemoryObject> m, uint64_t bytes) {
  constexpr uint64_t huge = 2u << 20;
  if (bytes < huge) return;
  auto buf = m->Buffer();
  // An advice: without THP, or on a failure, the pages are only smaller.
  ::madvise(buf->Data(), std::min<uint64_t>(buf->ByteLength(), (bytes + huge - 1) / huge * huge), MADV_HUGEPAGE);
}

void memory_pool::give_back(v8::Isolate* iso, v8::Local<v8::WasmMemoryObject> m, const memory_limits& l) {
  auto buf = m->Buffer();
  size_t size = buf->ByteLength();
  if (size != size_t{l.initial} * kPage || size > max_each_ || bytes_ + size > budget_) {
    owed_ += static_cast<int64_t>(size_t{l.initial} * kPage);  // take() took it off V8's count
    return;
  }
  zero_resident(static_cast<uint8_t*>(buf->Data()), size);
  free_[key_of(l)].emplace_back(iso, m);
  bytes_ += size;
}

}  // namespace wasio::engine
