// guest_memory: bounds-checked access to a guest's linear memory. Every pointer a guest hands to
// an import (a WASI call's, or an embedder's host function's) goes through here; one out of
// range gives `fault`, never a host access. Pointers
// are taken as 64-bit so that a field's address (`uint64_t{ptr} + 4`) cannot wrap past the end
// of a 4 GiB memory back to its start: compute them in 64 bits, never as uint32_t sums.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "wasio/result.hpp"

namespace wasio {

static_assert(std::endian::native == std::endian::little, "wasm memory is little-endian");

namespace detail {
// Where a guest_memory learns the memory's current extent when a check fails against the one it
// has: the guest may have run memory.grow since.
class memory_source {
 public:
  virtual void refresh(uint8_t** base, size_t* size) const = 0;

 protected:
  ~memory_source() = default;
};
}  // namespace detail

class guest_memory {
 public:
  guest_memory() = default;
  guest_memory(uint8_t* base, size_t size, const detail::memory_source* src = nullptr)
      : base_(base), size_(size), src_(src) {}

  size_t size() const noexcept { return size_; }
  bool contains(uint64_t ptr, uint64_t len) const noexcept {
    if (ptr <= size_ && len <= size_ - ptr) return true;
    if (!src_) return false;
    src_->refresh(&base_, &size_);  // rare: only after the guest grew its memory
    return ptr <= size_ && len <= size_ - ptr;
  }

  result<std::span<std::byte>> bytes(uint64_t ptr, uint64_t len) const {
    if (!contains(ptr, len)) return errc::fault;
    return std::span<std::byte>(reinterpret_cast<std::byte*>(base_) + ptr, len);
  }
  // The guest's bytes [ptr, ptr + len) as text (not checked for UTF-8).
  result<std::string_view> string(uint64_t ptr, uint64_t len) const {
    if (!contains(ptr, len)) return errc::fault;
    return std::string_view(reinterpret_cast<const char*>(base_) + ptr, len);
  }
  // Unaligned loads and stores: the spec gives alignments, but no host rejects misaligned
  // pointers that are in bounds, and C compilers may produce them for packed data.
  template <class T>
  result<T> load(uint64_t ptr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!contains(ptr, sizeof(T))) return errc::fault;
    T v;
    std::memcpy(&v, base_ + ptr, sizeof v);
    return v;
  }
  template <class T>
  result<void> store(uint64_t ptr, T v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!contains(ptr, sizeof(T))) return errc::fault;
    std::memcpy(base_ + ptr, &v, sizeof v);
    return ok();
  }
  // A typed slot checked now and written later (after an operation that may suspend).
  template <class T>
  struct slot {
    uint8_t* p;
    void set(T v) const { std::memcpy(p, &v, sizeof v); }
  };
  template <class T>
  result<slot<T>> out(uint64_t ptr) const {
    if (!contains(ptr, sizeof(T))) return errc::fault;
    return slot<T>{base_ + ptr};
  }

 private:
  mutable uint8_t* base_ = nullptr;
  mutable size_t size_ = 0;
  const detail::memory_source* src_ = nullptr;
};

}  // namespace wasio
