// host_stream: a host fd that guests read and write without ever blocking their worker thread.
//
// Pipes, FIFOs and terminals are reopened through /proc/self/fd on a *private* open file
// description set to O_NONBLOCK: the embedder's own descriptor (often the shell's terminal or
// pipe) keeps its flags, so nothing outside wasio ever sees EAGAIN. Sockets use MSG_DONTWAIT per
// call for the same reason. A would-block read or write waits for readiness on the worker's
// reactor (epoll), suspending only the coroutine. Regular files are always ready, as poll(2) says;
// their transfers go through file_io.hpp, which keeps a slow disk off the worker thread.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "async/unique_fd.hpp"

namespace wasio::async {

// Bytes transferred, or the host errno of a failure (never both).
struct io_result {
  size_t bytes = 0;
  int error = 0;  // host errno; EAGAIN only from the try_ functions
};

// What poll(2) says about one direction of a stream right now.
struct readiness {
  bool ready = false;
  bool hangup = false;  // the peer closed: reads return EOF, writes EPIPE
  uint64_t nbytes = 0;  // bytes readable (FIONREAD) where the host knows, else 0
  int error = 0;        // host errno of the poll itself
};

// The bytes `iov` holds in all.
inline size_t iov_total(std::span<const ::iovec> iov) {
  size_t n = 0;
  for (const auto& v : iov) n += v.iov_len;
  return n;
}

class host_stream {
 public:
  enum class kind { regular_file, directory, pipe, character_device, block_device, socket_stream,
                    socket_dgram, unknown };

  // Wraps host fd `host_fd`, which stays the caller's (it is duplicated or reopened). Returns null
  // and sets *error to the host errno when the fd is not open.
  static std::shared_ptr<host_stream> open(const asio::any_io_executor& ex, int host_fd,
                                           int* error);
  // Takes `fd`, a socket wasio owns (made non-blocking here). Null with *error on failure.
  static std::shared_ptr<host_stream> adopt_socket(const asio::any_io_executor& ex, unique_fd fd, int* error);
  ~host_stream();

  kind type() const noexcept { return kind_; }
  int native_handle() const noexcept { return fd_.get(); }
  // The executor whose reactor the stream waits on.
  const asio::any_io_executor& executor() const noexcept { return ex_; }
  bool is_append() const noexcept { return append_; }
  // True when the stream can make a reader or writer wait (pipes, terminals, sockets).
  bool can_block() const noexcept { return desc_ != nullptr; }
  // Regular files and block devices: transfers go through file_io (they never wait for a peer,
  // but a read can still block in the kernel).
  bool is_file() const noexcept { return kind_ == kind::regular_file || kind_ == kind::block_device; }

  // One non-blocking attempt. error == EAGAIN when nothing could be transferred without waiting.
  io_result try_readv(std::span<const ::iovec> iov);
  io_result try_writev(std::span<const ::iovec> iov);

  // Read/write at least one byte (or EOF / an error), waiting on the reactor as long as needed.
  asio::awaitable<io_result> async_readv(std::span<const ::iovec> iov);
  asio::awaitable<io_result> async_writev(std::span<const ::iovec> iov);

  // Wait until a read or write would not block (error or hangup count as ready).
  asio::awaitable<int> wait_readable();
  asio::awaitable<int> wait_writable();

  readiness poll_readable() const;
  readiness poll_writable() const;

  // Cancels pending waits and leaves the reactor. Called before the io_context that the stream
  // waits on is destroyed, when the stream may outlive it; it then works as a never-waiting one.
  void leave_reactor();

 private:
  host_stream() = default;
  void join_reactor(const asio::any_io_executor& ex);
  io_result try_transfer(std::span<const ::iovec> iov, bool write);
  unique_fd fd_;
  asio::any_io_executor ex_;
  kind kind_ = kind::unknown;
  bool append_ = false;
  bool use_msg_dontwait_ = false;     // sockets: per-call non-blocking
  std::optional<int> restore_flags_;  // fallback when no private description could be made
  std::unique_ptr<asio::posix::stream_descriptor> desc_;
};

}  // namespace wasio::async
