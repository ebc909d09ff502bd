// Socket operations on a host_stream, awaited on the worker's reactor: accept, connect,
// recvmsg and sendmsg. Each is tried once without blocking; when the kernel would block and
// the caller may wait, the coroutine (and so the guest) waits for readiness on the reactor, and
// the worker thread goes on with other guests.
//
// Sockets wasio creates or accepts are its own: they are O_NONBLOCK themselves (accept and
// connect have no per-call MSG_DONTWAIT). Sockets an embedder hands in keep MSG_DONTWAIT.
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <memory>
#include <span>

#include "async/host_stream.hpp"
#include "async/unique_fd.hpp"

namespace wasio::async {

// A socket address, as the kernel takes it.
struct socket_address {
  ::sockaddr_storage storage{};
  ::socklen_t len = 0;
  const ::sockaddr* get() const { return reinterpret_cast<const ::sockaddr*>(&storage); }
  ::sockaddr* get() { return reinterpret_cast<::sockaddr*>(&storage); }
};

// A new socket of `family`/`type` (SOCK_STREAM, SOCK_DGRAM) as a stream owned by wasio.
// Returns null with *error set to the host errno on failure.
std::shared_ptr<host_stream> open_socket(const asio::any_io_executor& ex, int family, int type, int* error);

struct accepted {
  std::shared_ptr<host_stream> stream;  // null on failure
  int error = 0;                        // host errno
};
// Accepts one connection on listening socket `s`; with `wait`, waits for one to arrive.
asio::awaitable<accepted> accept(host_stream& s, bool wait);

// Connects `s` to `to`. Without `wait`, a connection that is not established at once gives
// EINPROGRESS (it completes in the background, as for a non-blocking socket).
asio::awaitable<int> connect(host_stream& s, const socket_address& to, bool wait);

struct received {
  size_t bytes = 0;
  int error = 0;           // host errno (EAGAIN only without wait)
  bool truncated = false;  // a datagram was longer than the buffers (MSG_TRUNC)
};
// Receives into `iov`. `flags` may hold MSG_PEEK and MSG_WAITALL; with MSG_WAITALL the call
// goes on until `iov` is full, the peer shuts down, or an error comes after some data. `from`
// (may be null) gets the sender's address.
asio::awaitable<received> recv(host_stream& s, std::span<const ::iovec> iov, int flags, socket_address* from,
                               bool wait);

// Sends `iov`, to `to` if given (an unconnected datagram socket). Waits while the send buffer
// is full unless `wait` is false. Never raises SIGPIPE (EPIPE instead).
asio::awaitable<io_result> send(host_stream& s, std::span<const ::iovec> iov, const socket_address* to, bool wait);

}  // namespace wasio::async
