// An embedder's stream (wasio::guest_stream) as a resource: no host fd, waits on the stream's
// completions. See include/wasio/stream.hpp for what the guest sees.
//
// The stream completes on any thread. Its completion handlers hold only the buffer they fill
// (shared with this resource) and a weak reference to the resource; they post the result to the
// guest's worker, where everything else happens. Once the resource is gone (its guest ended),
// a late completion is dropped without touching the worker, which may be gone too.
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "src/wasi/resource.hpp"
#include "async/idle.hpp"
#include "wasio/as_tuple.hpp"

namespace wasio::wasi {
namespace {

using async::iov_total;

constexpr size_t kMinRead = 4096, kMaxTransfer = 64 * 1024;

// What the stream's completion handlers share with the resource.
struct io_buffers {
  std::mutex mu;
  bool orphaned = false;  // the resource is gone: drop completions
  asio::any_io_executor worker;
  std::vector<std::byte> read, write;
};

errc write_error(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::broken_pipe || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::error::shut_down) {
    return errc::pipe;
  }
  if (ec.category() == std::system_category()) return from_host_errno(ec.value());
  return errc::io;
}

class stream_resource final : public resource, public std::enable_shared_from_this<stream_resource> {
 public:
  stream_resource(std::shared_ptr<guest_stream> s, asio::any_io_executor worker)
      : s_(std::move(s)), buffers_(std::make_shared<io_buffers>()), signal_(worker) {
    buffers_->worker = worker;
    signal_.expires_at(asio::steady_timer::time_point::max());
  }
  ~stream_resource() override {
    std::lock_guard lock(buffers_->mu);
    buffers_->orphaned = true;
  }

  filetype type() const override { return filetype::unknown; }
  uint64_t rights() const override {
    uint64_t r = rights::stream | rights::fd_seek | rights::fd_tell;  // seek answers spipe, as a pipe
    if (!s_->can_read()) r &= ~rights::fd_read;
    if (!s_->can_write()) r &= ~rights::fd_write;
    return r;
  }

  asio::awaitable<result<size>> read(std::span<const ::iovec> iov, uint16_t) override {
    auto self = shared_from_this();  // the guest may close the fd while it waits
    for (;;) {
      if (auto r = take(iov)) co_return *r;
      start_read(iov_total(iov));
      if (!co_await wait_signal()) co_return errc::canceled;
    }
  }
  result<size> try_read(std::span<const ::iovec> iov) override {
    if (auto r = take(iov)) return *r;
    start_read(iov_total(iov));
    return errc::again;
  }

  asio::awaitable<result<size>> write(std::span<const ::iovec> iov, uint16_t) override {
    auto self = shared_from_this();
    while (writing_) {  // a NONBLOCK write still in flight: in order, after it
      if (!co_await wait_signal()) co_return errc::canceled;
    }
    if (write_error_) co_return *std::exchange(write_error_, std::nullopt);
    size_t n = start_write(iov);
    while (writing_) {
      if (!co_await wait_signal()) co_return errc::canceled;  // the write goes on, from wasio's copy
    }
    if (write_error_) co_return *std::exchange(write_error_, std::nullopt);
    co_return static_cast<size>(std::min(n, written_));
  }
  result<size> try_write(std::span<const ::iovec> iov) override {
    if (writing_) return errc::again;
    if (write_error_) return *std::exchange(write_error_, std::nullopt);
    // Taken whole into wasio's buffer, as into a pipe's: the guest learns of a failure at its
    // next write.
    return static_cast<size>(start_write(iov));
  }

  result<filestat> stat() override {
    filestat fs{};
    fs.type = filetype::unknown;
    fs.nlink = 1;
    return fs;
  }

  async::readiness poll(bool write) override {
    if (write) return async::readiness{!writing_, false, 0, 0};
    if (available() > 0 || eof_ || read_error_) return async::readiness{true, eof_, available(), 0};
    start_read(kMinRead);  // so that readiness can arrive
    return async::readiness{};
  }
  asio::awaitable<void> wait(bool write) override {
    auto self = shared_from_this();
    while (!poll(write).ready) {
      if (!co_await wait_signal()) co_return;
    }
  }

 private:
  size_t available() const { return end_ - begin_; }

  // What a read returns now, if anything: buffered data, EOF, a failure.
  std::optional<result<size>> take(std::span<const ::iovec> iov) {
    if (available() > 0) {
      size_t n = 0;
      for (const auto& v : iov) {
        size_t k = std::min(v.iov_len, available());
        std::memcpy(v.iov_base, buffers_->read.data() + begin_, k);
        begin_ += k;
        n += k;
        if (available() == 0) break;
      }
      return static_cast<size>(n);
    }
    if (iov_total(iov) == 0) return size{0};
    if (eof_) return size{0};
    if (read_error_) return result<size>(*read_error_);
    return std::nullopt;
  }

  void start_read(size_t wanted) {
    if (reading_ || eof_ || read_error_) return;
    reading_ = true;
    buffers_->read.resize(std::clamp(wanted, kMinRead, kMaxTransfer));
    std::weak_ptr<stream_resource> me = weak_from_this();
    s_->async_read_some(buffers_->read, [b = buffers_, me](std::error_code ec, size_t n) {
      std::lock_guard lock(b->mu);
      if (b->orphaned) return;
      asio::post(b->worker, [me, ec, n] {
        if (auto r = me.lock()) r->read_done(ec, n);
      });
    });
  }
  void read_done(std::error_code ec, size_t n) {
    reading_ = false;
    begin_ = 0;
    end_ = ec ? 0 : n;
    // The embedder closing the stream under a pending read is its end, as EOF.
    if (ec == asio::error::eof || ec == asio::error::operation_aborted || (!ec && n == 0)) {
      eof_ = true;
    } else if (ec) {
      read_error_ = ec == asio::error::connection_reset ? errc::connreset
                    : ec.category() == std::system_category() ? from_host_errno(ec.value())
                                                              : errc::io;
    }
    signal_.cancel();
  }

  // Copies `iov` (up to kMaxTransfer bytes) and starts writing it; returns the bytes taken.
  size_t start_write(std::span<const ::iovec> iov) {
    auto& buf = buffers_->write;
    buf.clear();
    for (const auto& v : iov) {
      size_t k = std::min(v.iov_len, kMaxTransfer - buf.size());
      auto* p = static_cast<const std::byte*>(v.iov_base);
      buf.insert(buf.end(), p, p + k);
      if (buf.size() == kMaxTransfer) break;
    }
    if (buf.empty()) return 0;
    writing_ = true;
    written_ = 0;
    write_from(0);
    return buf.size();
  }
  // Writes the buffer from `at` to its end, as one write or several.
  void write_from(size_t at) {
    std::weak_ptr<stream_resource> me = weak_from_this();
    auto rest = std::span<const std::byte>(buffers_->write).subspan(at);
    s_->async_write_some(rest, [b = buffers_, me, at](std::error_code ec, size_t n) {
      std::lock_guard lock(b->mu);
      if (b->orphaned) return;
      asio::post(b->worker, [me, ec, n, at] {
        if (auto r = me.lock()) r->write_done(ec, at, n);
      });
    });
  }
  void write_done(std::error_code ec, size_t at, size_t n) {
    written_ = at + n;
    if (!ec && n > 0 && written_ < buffers_->write.size()) {
      // A short write: finish it, so that a NONBLOCK guest's bytes (all taken) all go out. (A
      // stream that takes nothing ends the write instead of spinning.)
      write_from(written_);
      return;
    }
    writing_ = false;
    if (ec) write_error_ = write_error(ec);
    signal_.cancel();
  }

  // Waits until something completes; false when the wait was cancelled (the guest is stopped).
  asio::awaitable<bool> wait_signal() {
    {
      async::idle_wait idle;  // the stream's transfers go through buffers_, never the caller's
      co_await signal_.async_wait(wasio::as_tuple(asio::use_awaitable));
    }
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() == asio::cancellation_type::none;
  }

  std::shared_ptr<guest_stream> s_;
  std::shared_ptr<io_buffers> buffers_;
  asio::steady_timer signal_;  // never expires: cancelled to wake every waiter
  size_t begin_ = 0, end_ = 0;  // unread bytes of buffers_->read
  bool reading_ = false, eof_ = false;
  std::optional<errc> read_error_;
  bool writing_ = false;
  size_t written_ = 0;
  std::optional<errc> write_error_;
};

}  // namespace

std::shared_ptr<resource> stream_resource_of(std::shared_ptr<guest_stream> s, const asio::any_io_executor& worker) {
  return std::make_shared<stream_resource>(std::move(s), worker);
}

}  // namespace wasio::wasi
