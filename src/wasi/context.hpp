// The WASI state of one guest in host types: arguments, environment, and the fd table.
// Nothing here knows about V8 or guest memory.
#pragma once
#include <sys/uio.h>
#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <span>

#include "async/unique_fd.hpp"
#include "src/wasi/abi.hpp"
#include "src/wasi/resource.hpp"
#include "wasio/network.hpp"
#include "wasio/result.hpp"

namespace wasio::wasi {

struct fd_entry {
  fdstat stat;                  // type, the flags the guest set, rights
  std::shared_ptr<resource> res;  // what the fd refers to (shared: a dup, a call still waiting on it)
  std::string preopen_name;     // its guest path (prestat)
  bool is_preopen = false;
};

class fd_table {
 public:
  // The entry behind `fd` if it exists (else badf) and holds every right in `needed` (else
  // notcapable).
  result<fd_entry*> get(fd_t fd, uint64_t needed = 0);
  // Places `e` at the lowest free number, as POSIX open does; `mfile` at the limit.
  result<fd_t> insert(fd_entry e);
  // Places `e` at exactly `fd` (stdio), replacing nothing.
  void insert_at(fd_t fd, fd_entry e);
  // Places `e` after every fd so far and after stdio: the embedder's preopens, listeners and
  // streams take 3, 4, ... in the order it gave them.
  void append(fd_entry e) { insert_at(static_cast<fd_t>(std::max<size_t>(entries_.size(), 3)), std::move(e)); }
  result<void> close(fd_t fd);
  // Moves `from` to the number `to`, closing what was there; `to` need not be open, but must be
  // below the limit and kSparseNumbers, so that a guest cannot make the table a sparse giant.
  result<void> renumber(fd_t from, fd_t to);
  size_t size() const { return entries_.size(); }
  static constexpr size_t kSparseNumbers = 4096;
  // At most `n` open fds (stdio and preopens count), as RLIMIT_NOFILE does for a process.
  void set_limit(size_t n) { limit_ = n; }

 private:
  std::vector<std::optional<fd_entry>> entries_;
  size_t open_ = 0;
  size_t limit_ = SIZE_MAX;
};

struct context {
  asio::any_io_executor executor;  // the worker's: files the guest opens wait on its reactor
  std::vector<std::string> args;
  std::vector<std::string> env;
  fd_table fds;
  network net;  // what sockets the guest may open, bind and connect (network.hpp)
};

// For fd.cpp and sock.cpp: Linux's readv/writev/sendmsg/recvmsg take at most IOV_MAX vectors;
// a short transfer is a valid WASI answer.
inline std::span<const ::iovec> clamp_iov(std::span<const ::iovec> iov) {
  return iov.size() > IOV_MAX ? iov.first(IOV_MAX) : iov;
}

// The fd entry for `r` with every right its kind allows (narrowed by the caller as needed),
// its type, and APPEND if its host description has it.
fd_entry entry_for(std::shared_ptr<resource> r);

// Opens host directory `host_path` as a preopen named `guest_path`, or an overlay of it
// (memory_fs.hpp). Returns the host errno on failure, for the embedder's message.
struct preopen_error { int host_errno; };
outcome::result<fd_entry, preopen_error, outcome::policy::terminate> open_preopen(
    const std::string& host_path, std::string guest_path, bool read_only, bool overlay = false);
// Any directory resource as a preopen named `guest_path` (an in-memory tree's root, say).
fd_entry preopen_entry(std::shared_ptr<resource> dir, std::string guest_path, bool read_only);

}  // namespace wasio::wasi
