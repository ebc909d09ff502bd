#include "engine/memory_arena.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

namespace wasio::engine {
namespace {

thread_local size_t expected_reservation = 0;

constexpr size_t kWasmPage = 65536;
constexpr uint64_t kMaxPages = 65536;  // V8's limit for a wasm32 memory (wasm::max_mem_pages)

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

void drop_pages(void* p, size_t n) {
  // Private anonymous memory reads back as zeroes after this, as a fresh reservation would.
  ::madvise(p, n, MADV_DONTNEED);
}

}  // namespace

memory_arena::memory_arena(v8::PageAllocator* platform, size_t chunk_bytes)
    : platform_(platform), chunk_bytes_(chunk_bytes) {}

memory_arena::~memory_arena() {
  for (auto& c : chunks_) ::munmap(c.base, c.size);
}

memory_arena::expect_memory_reservation::expect_memory_reservation(size_t bytes) { expected_reservation = bytes; }
memory_arena::expect_memory_reservation::~expect_memory_reservation() { expected_reservation = 0; }

size_t memory_arena::reservation_of(const memory_limits& l) {
  return static_cast<size_t>(std::min<uint64_t>(l.maximum.value_or(kMaxPages), kMaxPages)) * kWasmPage;
}

bool memory_arena::owns(const void* p, size_t length) const {
  auto a = reinterpret_cast<uintptr_t>(p);
  for (const auto& c : chunks_) {
    auto b = reinterpret_cast<uintptr_t>(c.base);
    if (a >= b && a - b < c.size) return length <= c.size - (a - b);
  }
  return false;
}

void* memory_arena::take(size_t length, size_t alignment) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    char* start = it->first;
    size_t size = it->second;
    char* aligned = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(start), alignment));
    size_t lead = static_cast<size_t>(aligned - start);
    if (size < lead || size - lead < length) continue;
    free_.erase(it);
    if (lead) free_.emplace(start, lead);
    if (size - lead > length) free_.emplace(aligned + length, size - lead - length);
    return aligned;
  }
  return nullptr;
}

void memory_arena::give(char* p, size_t length) {
  auto next = free_.lower_bound(p);
  if (next != free_.end() && p + length == next->first) {  // merge with the range after
    length += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == p) {  // and with the one before
      prev->second += length;
      return;
    }
  }
  free_.emplace(p, length);
}

void* memory_arena::AllocatePages(void* address, size_t length, size_t alignment, Permission access) {
  if (expected_reservation == 0 || length != expected_reservation || access != kNoAccess) {
    return platform_->AllocatePages(address, length, alignment, access);
  }
  expected_reservation = 0;  // one per memory
  alignment = std::max(alignment, kWasmPage);
  std::lock_guard lock(mu_);
  if (void* p = take(length, alignment)) return p;
  // A new chunk: read-write from the start (the guest's own bounds checks keep it in its part),
  // without reserving swap for it (untouched pages cost nothing).
  // Smaller chunks when the address space has no hole that big any more.
  size_t need = round_up(length, kWasmPage), size = std::max(chunk_bytes_, need);
  void* base = MAP_FAILED;
  for (;; size = std::max(size / 2, need)) {
    base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base != MAP_FAILED || size == need) break;
  }
  if (base == MAP_FAILED) {
    // No room for a chunk (address space, or strict overcommit): V8's own reservation.
    return platform_->AllocatePages(address, length, alignment, access);
  }
  chunks_.push_back({static_cast<char*>(base), size});
  free_.emplace(static_cast<char*>(base), size);
  return take(length, alignment);
}

bool memory_arena::FreePages(void* address, size_t length) {
  {
    std::lock_guard lock(mu_);
    if (owns(address, length)) {
      drop_pages(address, length);
      give(static_cast<char*>(address), length);
      return true;
    }
  }
  return platform_->FreePages(address, length);
}

bool memory_arena::ReleasePages(void* address, size_t length, size_t new_length) {
  {
    std::lock_guard lock(mu_);
    if (owns(address, length)) {
      char* tail = static_cast<char*>(address) + new_length;
      drop_pages(tail, length - new_length);
      give(tail, length - new_length);
      return true;
    }
  }
  return platform_->ReleasePages(address, length, new_length);
}

bool memory_arena::SetPermissions(void* address, size_t length, Permission access) {
  {
    std::lock_guard lock(mu_);
    if (owns(address, length)) {
      // Already read-write: growing a memory in place needs nothing. Made inaccessible, the
      // range only loses its pages (the memory's bounds checks keep wasm out of it).
      if (access == kNoAccess) drop_pages(address, length);
      return access == kNoAccess || access == kReadWrite;
    }
  }
  return platform_->SetPermissions(address, length, access);
}

bool memory_arena::drop_if_owned(void* p, size_t length) {
  std::lock_guard lock(mu_);
  if (!owns(p, length)) return false;
  drop_pages(p, length);
  return true;
}

bool memory_arena::DiscardSystemPages(void* address, size_t size) {
  return drop_if_owned(address, size) || platform_->DiscardSystemPages(address, size);
}

bool memory_arena::DecommitPages(void* address, size_t size) {
  return drop_if_owned(address, size) || platform_->DecommitPages(address, size);
}

}  // namespace wasio::engine
