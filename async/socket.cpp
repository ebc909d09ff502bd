#include "async/socket.hpp"

#include <netinet/in.h>

#include <cerrno>
#include <vector>

namespace wasio::async {
namespace {

int last_error() { return errno == EWOULDBLOCK ? EAGAIN : errno; }

// The part of `iov` after its first `skip` bytes.
std::vector<::iovec> after(std::span<const ::iovec> iov, size_t skip) {
  std::vector<::iovec> rest;
  for (const auto& v : iov) {
    if (skip >= v.iov_len) {
      skip -= v.iov_len;
      continue;
    }
    rest.push_back({static_cast<char*>(v.iov_base) + skip, v.iov_len - skip});
    skip = 0;
  }
  return rest;
}

received recv_once(host_stream& s, std::span<const ::iovec> iov, int flags, socket_address* from) {
  ::msghdr m{};
  m.msg_iov = const_cast<::iovec*>(iov.data());
  m.msg_iovlen = iov.size();
  if (from) {
    m.msg_name = &from->storage;
    m.msg_namelen = sizeof from->storage;
  }
  ssize_t n;
  do {
    n = ::recvmsg(s.native_handle(), &m, flags | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return {0, last_error(), false};
  if (from) from->len = m.msg_namelen;
  return {static_cast<size_t>(n), 0, (m.msg_flags & MSG_TRUNC) != 0};
}

}  // namespace

std::shared_ptr<host_stream> open_socket(const asio::any_io_executor& ex, int family, int type, int* error) {
  unique_fd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *error = errno;
    return nullptr;
  }
  return host_stream::adopt_socket(ex, std::move(fd), error);
}

asio::awaitable<accepted> accept(host_stream& s, bool wait) {
  for (;;) {
    int fd = ::accept4(s.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accepted a;
      a.stream = host_stream::adopt_socket(s.executor(), unique_fd(fd), &a.error);
      co_return a;
    }
    int e = last_error();
    // A connection reset while it waited in the backlog: Linux reports it here; take the next.
    if (e == EINTR || e == ECONNABORTED) continue;
    if (e != EAGAIN || !wait) co_return accepted{nullptr, e};
    if (int w = co_await s.wait_readable()) co_return accepted{nullptr, w};
  }
}

asio::awaitable<int> connect(host_stream& s, const socket_address& to, bool wait) {
  if (::connect(s.native_handle(), to.get(), to.len) == 0) co_return 0;
  int e = errno;
  if (e == EINTR) e = EINPROGRESS;  // the connection goes on in the background
  if (e != EINPROGRESS || !wait) co_return e;
  if (int w = co_await s.wait_writable()) co_return w;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) co_return errno;
  co_return err;
}

asio::awaitable<received> recv(host_stream& s, std::span<const ::iovec> iov, int flags, socket_address* from,
                               bool wait) {
  const bool all = flags & MSG_WAITALL;
  const bool peek = flags & MSG_PEEK;
  flags &= ~MSG_WAITALL;  // done here: the kernel's would block the thread
  const size_t want = iov_total(iov);
  received got;
  for (;;) {
    // A peek sees the same bytes from the start every time; a read continues after them.
    std::vector<::iovec> rest;
    if (got.bytes > 0 && !peek) rest = after(iov, got.bytes);
    received r = recv_once(s, rest.empty() ? iov : std::span<const ::iovec>(rest), flags, from);
    if (r.error == 0) {
      got.bytes = peek ? r.bytes : got.bytes + r.bytes;
      got.truncated = r.truncated;
      // Done unless WAITALL on a stream that has more to come (a datagram is always whole).
      if (!all || r.bytes == 0 || got.bytes >= want || s.type() != host_stream::kind::socket_stream) co_return got;
    } else if (r.error != EAGAIN || !wait) {
      if (got.bytes > 0 && !peek) co_return got;  // what arrived before the error
      co_return r;
    }
    if (int e = co_await s.wait_readable()) {
      if (got.bytes > 0 && !peek) co_return got;
      co_return received{0, e, false};
    }
  }
}

asio::awaitable<io_result> send(host_stream& s, std::span<const ::iovec> iov, const socket_address* to, bool wait) {
  ::msghdr m{};
  m.msg_iov = const_cast<::iovec*>(iov.data());
  m.msg_iovlen = iov.size();
  if (to) {
    m.msg_name = const_cast<::sockaddr*>(to->get());
    m.msg_namelen = to->len;
  }
  for (;;) {
    ssize_t n = ::sendmsg(s.native_handle(), &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) co_return io_result{static_cast<size_t>(n), 0};
    int e = last_error();
    if (e == EINTR) continue;
    if (e != EAGAIN || !wait) co_return io_result{0, e};
    if (int w = co_await s.wait_writable()) co_return io_result{0, w};
  }
}

}  // namespace wasio::async
