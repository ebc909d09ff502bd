#include "engine/hibernation.hpp"

#include <lz4.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/resident_runs.hpp"

namespace wasio::engine {
namespace {

// The OS page: mincore's unit, and what is saved or dropped at once.
const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
// A guest with more resident memory than this is left as it is: packing is for the many small
// guests that wait, and a worker must not spend milliseconds compressing one big guest (nor
// let a guest that waits 100 ms at a time, again and again, keep it busy packing).
constexpr size_t kMaxPacked = size_t{256} << 10;
// Nor is a memory bigger than this looked at: a guest that grew it so far has more resident, and
// the scan (8 bytes of page flags per page) must stay small.
constexpr size_t kMaxScanned = size_t{64} << 20;

// WASIO_HIBERNATION_CHECK=1 (the test suite): a packed memory is also made inaccessible, so that
// anything touching it before it is put back crashes the test instead of reading zeroes. Each
// such memory then costs kernel mappings: not for production.
bool checking() {
  static const bool on = [] {
    const char* v = std::getenv("WASIO_HIBERNATION_CHECK");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

bool all_zero(const uint8_t* p) {
  uint64_t acc = 0;
  for (size_t i = 0; i < kPage; i += sizeof(uint64_t)) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    acc |= w;
  }
  return acc == 0;
}

// The kernel's flags of `pages` pages from `base` (/proc/self/pagemap, a u64 per page: bit 63
// present, bit 62 swapped out; a process may read its own). False if it cannot be read.
bool page_flags(const uint8_t* base, size_t pages, std::vector<uint64_t>& out) {
  static const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.resize(pages);
  auto want = static_cast<ssize_t>(pages * sizeof(uint64_t));
  auto at = static_cast<off_t>(reinterpret_cast<uintptr_t>(base) / kPage * sizeof(uint64_t));
  return ::pread(fd, out.data(), static_cast<size_t>(want), at) == want;
}

// A packed memory: the number of pages saved, then for each its number and the length of its
// LZ4 data, then the data. Each page is compressed alone, so that it decompresses straight
// into its place: putting a memory back allocates nothing and cannot fail.
struct page_entry {
  uint32_t page;
  uint32_t compressed;
};

}  // namespace

hibernation_queue::hibernation_queue(asio::io_context& io, std::chrono::milliseconds after)
    : timer_(std::in_place, io), after_(after) {}

void hibernation_queue::stop() {
  for (auto* head : head_) {
    while (head) {
      memory_pack* next = head->next_;
      unlink(*head);
      head = next;
    }
  }
  timer_.reset();
}

void hibernation_queue::link(memory_pack& p) {
  unsigned level = p.level_;
  p.since_ = std::chrono::steady_clock::now();
  p.due_ = p.since_ + threshold(level);
  p.prev_ = tail_[level];
  p.next_ = nullptr;
  (tail_[level] ? tail_[level]->next_ : head_[level]) = &p;
  tail_[level] = &p;
  p.eligible_ = true;
  ++linked_;
  // A timer armed for later than this one is due (a higher level's) is brought forward.
  if (armed_ && timer_ && p.due_ < armed_for_) timer_->cancel();
  arm();
}

void hibernation_queue::unlink(memory_pack& p) {
  if (!p.eligible_) return;
  unsigned level = p.level_;
  (p.prev_ ? p.prev_->next_ : head_[level]) = p.next_;
  (p.next_ ? p.next_->prev_ : tail_[level]) = p.prev_;
  p.prev_ = p.next_ = nullptr;
  p.eligible_ = false;
  // An armed timer with nothing to pack would hold an embedder's io_context::run() until it
  // expires.
  if (--linked_ == 0 && armed_ && timer_) timer_->cancel();
}

void hibernation_queue::arm() {
  if (armed_ || linked_ == 0 || !timer_) return;
  auto due = std::chrono::steady_clock::time_point::max();
  for (auto* head : head_) {
    if (head && head->due_ < due) due = head->due_;
  }
  armed_ = true;
  armed_for_ = due;
  timer_->expires_at(due);
  // A wait cancelled (the queue emptied, or a sooner one came) re-arms for what is left.
  timer_->async_wait([q = weak_from_this()](asio::error_code ec) {
    auto self = q.lock();
    if (!self) return;
    self->armed_ = false;
    if (ec) {
      self->arm();
      return;
    }
    self->sweep();
  });
}

void hibernation_queue::sweep() {
  auto now = std::chrono::steady_clock::now();
  for (auto*& head : head_) {
    while (head && head->due_ <= now) {
      memory_pack* p = head;
      unlink(*p);
      p->pack();
    }
  }
  arm();
}

memory_pack::~memory_pack() { detach(); }

void memory_pack::begin() noexcept {
  if (!owner_ || !q_->timer_) return;
  if (depth_++ == 0) {
    mem_ = memory_(owner_);
    q_->link(*this);
  }
}

void memory_pack::end() noexcept {
  if (depth_ == 0) return;
  --depth_;
  // Any wait's end puts the memory back: whatever the operation does next may touch it. It is
  // not packed again in the same operation (its other waits are the end's siblings, about to end).
  q_->unlink(*this);
  unpack();
}

void memory_pack::detach() noexcept {
  q_->unlink(*this);
  if (protected_) ::mprotect(mem_.base, mem_.size, PROT_READ | PROT_WRITE);
  protected_ = false;
  packed_.reset();
  owner_ = nullptr;
}

void memory_pack::pack() noexcept {
  if (!owner_ || packed_ || mem_.size == 0 || mem_.size % kPage || mem_.size > kMaxScanned) return;
  size_t pages = mem_.size / kPage;
  // Which pages are resident: only those are saved and dropped. One that is not (swapped out, or
  // never touched) is left alone, so nothing is lost whatever the kernel says.
  thread_local std::vector<unsigned char> resident;
  thread_local std::vector<uint64_t> flags;
  thread_local std::vector<page_entry> saved;
  thread_local std::vector<char> squeezed;
  try {
    resident.resize(pages);
    bool swap_known = page_flags(mem_.base, pages, flags);
    if (swap_known) {
      for (size_t i = 0; i < pages; ++i) resident[i] = static_cast<unsigned char>(flags[i] >> 63);
    } else if (::mincore(mem_.base, mem_.size, resident.data()) != 0) {
      return;
    }
    // A guest with much resident is left before any is compressed (zero pages are not saved,
    // so up to twice the limit may still fit).
    auto in_ram = static_cast<size_t>(std::count_if(resident.begin(), resident.end(), [](unsigned char c) { return c & 1; }));
    if (in_ram == 0 || in_ram > 2 * kMaxPacked / kPage) return;
    saved.clear();
    squeezed.clear();
    for (size_t i = 0; i < pages; ++i) {
      if (!(resident[i] & 1)) continue;
      const uint8_t* page = mem_.base + i * kPage;
      if (all_zero(page)) continue;  // reads back as zeroes once dropped
      if ((saved.size() + 1) * kPage > kMaxPacked) return;
      size_t at = squeezed.size();
      squeezed.resize(at + static_cast<size_t>(LZ4_compressBound(static_cast<int>(kPage))));
      int n = LZ4_compress_default(reinterpret_cast<const char*>(page), squeezed.data() + at, static_cast<int>(kPage),
                                   static_cast<int>(squeezed.size() - at));
      if (n <= 0) return;
      squeezed.resize(at + static_cast<size_t>(n));
      saved.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(n)});
    }
    uint32_t count = static_cast<uint32_t>(saved.size());
    size_t index_bytes = saved.size() * sizeof(page_entry);
    auto blob = std::make_unique<std::byte[]>(sizeof count + index_bytes + squeezed.size());
    std::memcpy(blob.get(), &count, sizeof count);
    if (index_bytes) std::memcpy(blob.get() + sizeof count, saved.data(), index_bytes);
    if (!squeezed.empty()) std::memcpy(blob.get() + sizeof count + index_bytes, squeezed.data(), squeezed.size());
    // Now that every page is safe: drop the resident ones. Each madvise costs a TLB shoot-down
    // across the process's threads (most of packing's cost), so where no page between the first
    // and the last resident one is swapped out, the holes (never touched, or dropped already)
    // go in one call with them; else each run of resident pages goes alone.
    size_t lo = pages, hi = 0;
    for_each_resident_run(resident, [&](size_t first, size_t count) {
      lo = std::min(lo, first);
      hi = first + count;
    });
    bool one_call = swap_known && std::none_of(flags.begin() + static_cast<ptrdiff_t>(lo), flags.begin() + static_cast<ptrdiff_t>(hi),
                                               [](uint64_t f) { return (f >> 62) & 1; });
    if (one_call) {
      ::madvise(mem_.base + lo * kPage, (hi - lo) * kPage, MADV_DONTNEED);
    } else {
      for_each_resident_run(resident, [&](size_t first, size_t count) {
        ::madvise(mem_.base + first * kPage, count * kPage, MADV_DONTNEED);
      });
    }
    packed_ = std::move(blob);
    if (checking()) protected_ = ::mprotect(mem_.base, mem_.size, PROT_NONE) == 0;
  } catch (...) {
    // Out of host memory: the guest stays as it is.
  }
}

void memory_pack::unpack() noexcept {
  if (!packed_) return;
  // Neither can fail unless the host's own memory is corrupt: nothing sensible is left to do.
  if (protected_ && ::mprotect(mem_.base, mem_.size, PROT_READ | PROT_WRITE) != 0) std::abort();
  protected_ = false;
  uint32_t count;
  std::memcpy(&count, packed_.get(), sizeof count);
  const std::byte* index = packed_.get() + sizeof count;
  const char* data = reinterpret_cast<const char*>(index + size_t{count} * sizeof(page_entry));
  for (uint32_t k = 0; k < count; ++k) {
    page_entry e;
    std::memcpy(&e, index + k * sizeof(page_entry), sizeof e);
    char* place = reinterpret_cast<char*>(mem_.base) + size_t{e.page} * kPage;
    if (LZ4_decompress_safe(data, place, static_cast<int>(e.compressed), static_cast<int>(kPage)) != static_cast<int>(kPage)) {
      std::abort();
    }
    data += e.compressed;
  }
  packed_.reset();
  // A wait not much longer than the threshold barely paid for its pack: the guest's next waits
  // must last twice as long to be packed (a guest woken every 150 ms stops being packed after a
  // wait or two). One that lasted far longer brings the threshold back down.
  auto waited = std::chrono::steady_clock::now() - since_;
  auto threshold = q_->threshold(level_);
  if (waited < 4 * threshold) {
    if (level_ + 1u < hibernation_queue::kLevels) ++level_;
  } else if (waited > 32 * threshold && level_ > 0) {
    --level_;
  }
}

}  // namespace wasio::engine
