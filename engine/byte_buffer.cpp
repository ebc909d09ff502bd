#include "engine/byte_buffer.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "async/unique_fd.hpp"

namespace wasio::engine {

byte_buffer::byte_buffer(size_t size, size_t room) {
  capacity_ = room + size;
  if (capacity_ == 0) return;
  void* p = ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<uint8_t*>(p);
  // Not for less than a huge page: a small module keeps small pages. (The kernel uses huge
  // pages only for the 2 MiB-aligned parts of the range.) An advice: with THP off, nothing
  // changes.
  if (capacity_ >= (2u << 20)) ::madvise(p, capacity_, MADV_HUGEPAGE);
  begin_ = room;
  size_ = size;
}

byte_buffer::~byte_buffer() {
  if (base_) ::munmap(base_, capacity_);
}

void byte_buffer::swap(byte_buffer& o) noexcept {
  std::swap(base_, o.base_);
  std::swap(capacity_, o.capacity_);
  std::swap(begin_, o.begin_);
  std::swap(size_, o.size_);
}

byte_buffer byte_buffer::copy_of(std::span<const uint8_t> bytes, size_t room) {
  byte_buffer b(bytes.size(), room);
  if (!bytes.empty()) std::memcpy(b.bytes().data(), bytes.data(), bytes.size());
  return b;
}

std::optional<byte_buffer> byte_buffer::read_file(int fd, size_t room) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  byte_buffer b(static_cast<size_t>(st.st_size), room);
  // Read, not mapped: a file truncated meanwhile would raise SIGBUS in a mapping. A file that
  // shrank since fstat gives what is there.
  ssize_t got = async::read_full(fd, b.bytes().data(), b.size_);
  if (got < 0) return std::nullopt;
  b.size_ = static_cast<size_t>(got);
  return b;
}

bool byte_buffer::replace_front(size_t n, std::span<const uint8_t> with) {
  if (n > size_ || with.size() > begin_ + n) return false;
  size_t start = begin_ + n - with.size();
  if (!with.empty()) std::memmove(base_ + start, with.data(), with.size());
  size_ = size_ - n + with.size();
  begin_ = start;
  return true;
}

}  // namespace wasio::engine
