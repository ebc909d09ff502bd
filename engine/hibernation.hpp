// Hibernation: the memory of a guest that has waited long is packed away until its wait ends
// (docs/why-hibernation.md).
//
// A guest blocked on an idle pipe or a sleep keeps its touched pages resident: for a small C
// program three, 12 KiB of the ~25 KiB a blocked guest costs, and mostly zeroes. A guest whose
// operation has been in an idle wait (async/idle.hpp) for `after` gets its resident pages
// compressed (LZ4) into the host heap and dropped (MADV_DONTNEED); they are put back in the
// wait's end(), before the operation goes on. Nothing else touches a waiting guest's memory:
// its wasm is suspended, transfers off the worker thread go through buffers of their own
// (async/file_io.cpp), and an idle wait is begun only inline from the start of a WASI call's
// operation (not an embedder's host function, whose code may do anything meanwhile).
#pragma once
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "async/idle.hpp"

namespace wasio::engine {

class memory_pack;

// A worker's guests in an idle wait; packs each that has waited for its threshold: `after`, or
// `after` doubled for each level a guest has backed off (memory_pack::unpack). One list per
// level, each in the order its waits began, so each is due in order. On the worker's thread
// only. Shared by the worker and its guests' packs, which may outlive the worker's io_context
// (in a coroutine frame it destroys).
class hibernation_queue : public std::enable_shared_from_this<hibernation_queue> {
 public:
  hibernation_queue(asio::io_context& io, std::chrono::milliseconds after);
  hibernation_queue(const hibernation_queue&) = delete;
  hibernation_queue& operator=(const hibernation_queue&) = delete;
  // Before the io_context goes: nothing is packed any more, and the timer goes.
  void stop();

 private:
  friend class memory_pack;
  void link(memory_pack& p);
  void unlink(memory_pack& p);
  void arm();
  void sweep();

  static constexpr unsigned kLevels = 8;  // thresholds up to 128x `after`
  std::chrono::nanoseconds threshold(unsigned level) const { return after_ * (1 << level); }

  std::optional<asio::steady_timer> timer_;  // until stop()
  std::chrono::milliseconds after_;
  bool armed_ = false;
  std::chrono::steady_clock::time_point armed_for_;
  memory_pack* head_[kLevels] = {};
  memory_pack* tail_[kLevels] = {};
  size_t linked_ = 0;
};

// A guest's: the hook its WASI operations start with, and its memory while packed away.
class memory_pack final : public async::idle_hook {
 public:
  // `memory` gives the guest's memory as its thunks see it (base and size), when a wait begins.
  struct memory_view {
    uint8_t* base;
    size_t size;
  };
  using memory_fn = memory_view (*)(const void* owner);
  memory_pack(std::shared_ptr<hibernation_queue> q, const void* owner, memory_fn memory) noexcept
      : q_(std::move(q)), owner_(owner), memory_(memory) {}
  ~memory_pack();

  void begin() noexcept override;
  void end() noexcept override;
  // The guest goes: its memory is no longer touched (and is the pool's again, readable and
  // writable); nothing is put back.
  void detach() noexcept;

 private:
  friend class hibernation_queue;
  void pack() noexcept;
  void unpack() noexcept;

  std::shared_ptr<hibernation_queue> q_;
  const void* owner_;  // null once detached
  memory_fn memory_;
  memory_view mem_{};  // as the wait began
  unsigned depth_ = 0;       // idle waits open
  bool eligible_ = false;    // linked in q_, to be packed if the waits last
  uint8_t level_ = 0;        // of back-off: its threshold is the queue's `after` << level_
  memory_pack *prev_ = nullptr, *next_ = nullptr;
  std::chrono::steady_clock::time_point since_;  // the wait began
  std::chrono::steady_clock::time_point due_;    // to be packed
  // While packed: the page numbers, then the pages, LZ4-compressed; null otherwise.
  std::unique_ptr<std::byte[]> packed_;
  bool protected_ = false;  // WASIO_HIBERNATION_CHECK: the memory is inaccessible while packed
};

}  // namespace wasio::engine
