// The memory arena: where guests' linear memories live, so that they cost the kernel no mapping
// of their own (docs/why-memory-arena.md).
//
// V8 10.2 reserves each wasm memory as its own mapping, inaccessible, of its maximum size (4 GiB
// when the module declares none), and makes the used part read-write: two kernel mappings per
// guest, and vm.max_map_count (65,530 by default) ended a process at about 29,000 guests. wasio
// runs V8 without its trap handler, so wasm code checks every access against the memory's
// current size and never relies on the inaccessible part. So the reservations of guest memories
// are served instead from large read-write chunks (MAP_NORESERVE: untouched pages cost nothing),
// where neighbours merge into one mapping; a freed memory's pages are dropped (zeroed) and its
// range reused.
//
// The arena is V8's page allocator for the whole process (ensure_v8 installs it), and forwards
// everything except those reservations to the platform's own: a reservation is a guest memory's
// only when it is the exact one expected by the thread that is making that memory
// (expect_memory_reservation), so no other allocation of V8 lands there.
#pragma once
#include <v8-platform.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "engine/wasm_summary.hpp"

namespace wasio::engine {

class memory_arena final : public v8::PageAllocator {
 public:
  // Chunks are mapped `chunk_bytes` at a time (or bigger, for one memory bigger than that).
  explicit memory_arena(v8::PageAllocator* platform, size_t chunk_bytes = size_t{1} << 40);
  ~memory_arena() override;

  // While alive, on this thread, the next reservation of exactly `bytes` with no access is a guest
  // memory's, served from the arena.
  class expect_memory_reservation {
   public:
    explicit expect_memory_reservation(size_t bytes);
    ~expect_memory_reservation();
    expect_memory_reservation(const expect_memory_reservation&) = delete;
    expect_memory_reservation& operator=(const expect_memory_reservation&) = delete;
  };
  // The reservation V8 makes for a memory of these limits: its maximum (none: 4 GiB).
  static size_t reservation_of(const memory_limits& l);

  // v8::PageAllocator
  size_t AllocatePageSize() override { return platform_->AllocatePageSize(); }
  size_t CommitPageSize() override { return platform_->CommitPageSize(); }
  void SetRandomMmapSeed(int64_t seed) override { platform_->SetRandomMmapSeed(seed); }
  void* GetRandomMmapAddr() override { return platform_->GetRandomMmapAddr(); }
  void* AllocatePages(void* address, size_t length, size_t alignment, Permission access) override;
  bool FreePages(void* address, size_t length) override;
  bool ReleasePages(void* address, size_t length, size_t new_length) override;
  bool SetPermissions(void* address, size_t length, Permission access) override;
  bool DiscardSystemPages(void* address, size_t size) override;
  bool DecommitPages(void* address, size_t size) override;

 private:
  struct chunk {
    char* base;
    size_t size;
  };
  bool owns(const void* p, size_t length) const;  // mu_ held
  // Drops the pages of [p, p+length) if the arena owns them (DiscardSystemPages, DecommitPages).
  bool drop_if_owned(void* p, size_t length);
  void* take(size_t length, size_t alignment);     // mu_ held
  void give(char* p, size_t length);               // mu_ held

  v8::PageAllocator* platform_;
  size_t chunk_bytes_;
  mutable std::mutex mu_;
  std::vector<chunk> chunks_;
  std::map<char*, size_t> free_;  // by address: free ranges, coalesced
};

}  // namespace wasio::engine
