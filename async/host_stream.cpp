#include "async/host_stream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <string>

#include "async/idle.hpp"
#include "wasio/as_tuple.hpp"

namespace wasio::async {
namespace {

host_stream::kind kind_of(const struct stat& st, int fd) {
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: return host_stream::kind::regular_file;
    case S_IFDIR: return host_stream::kind::directory;
    case S_IFIFO: return host_stream::kind::pipe;
    case S_IFCHR: return host_stream::kind::character_device;
    case S_IFBLK: return host_stream::kind::block_device;
    case S_IFSOCK: {
      int type = 0;
      socklen_t len = sizeof type;
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
      return type == SOCK_DGRAM ? host_stream::kind::socket_dgram : host_stream::kind::socket_stream;
    }
    default: return host_stream::kind::unknown;
  }
}

readiness poll_one(int fd, short events) {
  readiness r;
  ::pollfd p{fd, events, 0};
  int n = ::poll(&p, 1, 0);
  if (n < 0) {
    r.error = errno;
    r.ready = true;
    return r;
  }
  if (n == 0) return r;
  r.ready = true;
  r.hangup = (p.revents & POLLHUP) != 0;
  if (p.revents & POLLNVAL) r.error = EBADF;
  else if (p.revents & POLLERR && !(p.revents & events)) r.error = EIO;
  return r;
}

}  // namespace

std::shared_ptr<host_stream> host_stream::open(const asio::any_io_executor& ex, int host_fd,
                                               int* error) {
  struct stat st {};
  if (::fstat(host_fd, &st) != 0) {
    *error = errno;
    return nullptr;
  }
  int fl = ::fcntl(host_fd, F_GETFL);
  if (fl < 0) {
    *error = errno;
    return nullptr;
  }
  std::shared_ptr<host_stream> s(new host_stream);
  s->ex_ = ex;
  s->kind_ = kind_of(st, host_fd);
  s->append_ = (fl & O_APPEND) != 0;

  switch (s->kind_) {
    case kind::pipe:
    case kind::character_device: {
      // A private open file description: O_NONBLOCK on it is invisible to everyone else.
      std::string path = "/proc/self/fd/" + std::to_string(host_fd);
      int fd = ::open(path.c_str(), (fl & (O_ACCMODE | O_APPEND)) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0) {
        s->fd_.reset(fd);
      } else {
        // No /proc (or the FIFO refused a reopen): share the description, restore its flags later.
        s->fd_.reset(::fcntl(host_fd, F_DUPFD_CLOEXEC, 3));
        if (!s->fd_) {
          *error = errno;
          return nullptr;
        }
        if (!(fl & O_NONBLOCK)) {
          s->restore_flags_ = fl;
          ::fcntl(s->fd_.get(), F_SETFL, fl | O_NONBLOCK);
        }
      }
      break;
    }
    default:
      s->fd_.reset(::fcntl(host_fd, F_DUPFD_CLOEXEC, 3));
      if (!s->fd_) {
        *error = errno;
        return nullptr;
      }
      s->use_msg_dontwait_ = s->kind_ == kind::socket_stream || s->kind_ == kind::socket_dgram;
  }
  if (s->kind_ == kind::pipe || s->kind_ == kind::character_device || s->use_msg_dontwait_) s->join_reactor(ex);
  return s;
}

std::shared_ptr<host_stream> host_stream::adopt_socket(const asio::any_io_executor& ex, unique_fd fd, int* error) {
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || (!(fl & O_NONBLOCK) && ::fcntl(fd.get(), F_SETFL, fl | O_NONBLOCK) != 0)) {
    *error = errno;
    return nullptr;
  }
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    *error = errno;
    return nullptr;
  }
  std::shared_ptr<host_stream> s(new host_stream);
  s->ex_ = ex;
  s->kind_ = type == SOCK_DGRAM ? kind::socket_dgram : kind::socket_stream;
  s->fd_ = std::move(fd);
  s->use_msg_dontwait_ = true;
  s->join_reactor(ex);
  return s;
}

void host_stream::join_reactor(const asio::any_io_executor& ex) {
  // epoll refuses some character devices (/dev/null, EPERM): those never block anyway.
  asio::error_code ec;
  auto d = std::make_unique<asio::posix::stream_descriptor>(ex);
  d->assign(fd_.get(), ec);
  if (!ec) desc_ = std::move(d);
}

host_stream::~host_stream() {
  leave_reactor();
  if (restore_flags_) ::fcntl(fd_.get(), F_SETFL, *restore_flags_);
}

void host_stream::leave_reactor() {
  if (!desc_) return;
  asio::error_code ec;
  desc_->cancel(ec);
  desc_->release();  // fd_ owns the descriptor
  desc_.reset();
}

io_result host_stream::try_transfer(std::span<const ::iovec> iov, bool write) {
  if (iov_total(iov) == 0) return {};
  ssize_t n;
  do {
    if (use_msg_dontwait_) {
      ::msghdr m{};
      m.msg_iov = const_cast<::iovec*>(iov.data());
      m.msg_iovlen = iov.size();
      n = write ? ::sendmsg(fd_.get(), &m, MSG_DONTWAIT | MSG_NOSIGNAL) : ::recvmsg(fd_.get(), &m, MSG_DONTWAIT);
    } else {
      int count = static_cast<int>(iov.size());
      n = write ? ::writev(fd_.get(), iov.data(), count) : ::readv(fd_.get(), iov.data(), count);
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0) return {0, errno == EWOULDBLOCK ? EAGAIN : errno};
  return {static_cast<size_t>(n), 0};
}

io_result host_stream::try_readv(std::span<const ::iovec> iov) { return try_transfer(iov, false); }
io_result host_stream::try_writev(std::span<const ::iovec> iov) { return try_transfer(iov, true); }

asio::awaitable<int> host_stream::wait_readable() {
  if (!desc_) co_return 0;
  idle_wait idle;
  auto [ec] = co_await desc_->async_wait(asio::posix::descriptor_base::wait_read,
                                         wasio::as_tuple(asio::use_awaitable));
  idle.end();
  co_return ec == asio::error::operation_aborted ? ECANCELED : ec.value();
}

asio::awaitable<int> host_stream::wait_writable() {
  if (!desc_) co_return 0;
  idle_wait idle;
  auto [ec] = co_await desc_->async_wait(asio::posix::descriptor_base::wait_write,
                                         wasio::as_tuple(asio::use_awaitable));
  idle.end();
  co_return ec == asio::error::operation_aborted ? ECANCELED : ec.value();
}

asio::awaitable<io_result> host_stream::async_readv(std::span<const ::iovec> iov) {
  for (;;) {
    io_result r = try_readv(iov);
    if (r.error != EAGAIN || !desc_) co_return r;
    if (int e = co_await wait_readable()) co_return io_result{0, e};
  }
}

asio::awaitable<io_result> host_stream::async_writev(std::span<const ::iovec> iov) {
  for (;;) {
    io_result r = try_writev(iov);
    if (r.error != EAGAIN || !desc_) co_return r;
    if (int e = co_await wait_writable()) co_return io_result{0, e};
  }
}

readiness host_stream::poll_readable() const {
  readiness r = poll_one(fd_.get(), POLLIN);
  if (r.ready && !r.error) {
    int avail = 0;
    if (kind_ == kind::regular_file) {
      struct stat st {};
      off_t pos = ::lseek(fd_.get(), 0, SEEK_CUR);
      if (::fstat(fd_.get(), &st) == 0 && pos >= 0 && st.st_size > pos) r.nbytes = st.st_size - pos;
    } else if (::ioctl(fd_.get(), FIONREAD, &avail) == 0 && avail > 0) {
      r.nbytes = static_cast<uint64_t>(avail);
    }
  }
  return r;
}

readiness host_stream::poll_writable() const { return poll_one(fd_.get(), POLLOUT); }

}  // namespace wasio::async
