// Module bytes on their way to V8: a file read whole, a cached rewrite, a module edited in place.
//
// A big program is tens of MB, and on a VM a 4 KiB page fault costs microseconds: faulting in a
// fresh 70 MB buffer page by page took longer than copying into it (docs/why-disk-cache.md,
// "Loading"). So these bytes live in a mapping of their own, not from malloc: never zeroed by a
// pass of ours, with transparent huge pages asked for (512 times fewer faults), and unmapped
// as soon as V8 has compiled them.
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace wasio::engine {

class byte_buffer {
 public:
  byte_buffer() = default;
  // Room for `size` bytes, with `room` more in front of them for an edit that lengthens the
  // start (replace_front). The contents are unspecified. Throws std::bad_alloc.
  explicit byte_buffer(size_t size, size_t room = 0);
  // A copy of `bytes`.
  static byte_buffer copy_of(std::span<const uint8_t> bytes, size_t room = 0);
  // The file open on `fd`, read whole from its start; nullopt with errno set when a read fails.
  static std::optional<byte_buffer> read_file(int fd, size_t room = 0);

  byte_buffer(byte_buffer&& o) noexcept { swap(o); }
  byte_buffer& operator=(byte_buffer&& o) noexcept {
    byte_buffer(std::move(o)).swap(*this);
    return *this;
  }
  ~byte_buffer();

  std::span<uint8_t> bytes() const { return {base_ + begin_, size_}; }
  bool empty() const { return size_ == 0; }

  // The bytes are now `size` bytes from `offset` of the current ones.
  void narrow(size_t offset, size_t size) {
    assert(offset <= size_ && size <= size_ - offset);
    begin_ += offset;
    size_ = size;
  }
  // The first `n` bytes become `with`, moved into place without touching the rest: the start
  // moves back into the room in front (or forward) by the difference. False, and nothing
  // changed, when there is not enough room.
  bool replace_front(size_t n, std::span<const uint8_t> with);

 private:
  void swap(byte_buffer& o) noexcept;
  uint8_t* base_ = nullptr;  // the mapping
  size_t capacity_ = 0;
  size_t begin_ = 0;  // the bytes: [base_ + begin_, + size_)
  size_t size_ = 0;
};

}  // namespace wasio::engine
