// guest_stream: a byte stream of the embedder's that a guest uses as one of its fds (stdin,
// stdout, stderr, or one more fd): any Asio AsyncReadStream and/or AsyncWriteStream (a TCP or
// SSL stream, a pipe end, a stream of your own), behind one small virtual interface. No kernel fd
// is involved.
//
// What the guest sees: a stream of type `unknown` (as a pipe), not seekable (spipe).
//  - fd_read waits for the stream's async_read_some; EOF (asio::error::eof, or the stream closed
//    while a read was pending) is EOF for the guest;
//  - fd_write waits until async_write_some has completed (backpressure: a guest writing faster
//    than the stream takes it is suspended); it may be a short write, as on a pipe;
//  - poll_oneoff reports it readable once a read has data or EOF, writable when no write is
//    still in flight; with NONBLOCK, reads and writes answer `again` instead of waiting.
// A read the guest stops waiting for (it was stopped) completes into wasio's buffer and is kept
// for the guest's next read; a stream whose guest has ended is released when its last pending
// operation completes.
#pragma once
#include <asio/buffer.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <system_error>
#include <utility>

namespace wasio {

class guest_stream : public std::enable_shared_from_this<guest_stream> {
 public:
  using handler = std::function<void(std::error_code, std::size_t)>;
  virtual ~guest_stream() = default;

  // What wasio calls, from the guest's worker thread: start one read into `buf` (or one write
  // of `buf`), and call `done` once, from any thread, when it has completed. At most one read
  // and one write are in flight at a time; `buf` stays valid until `done`.
  virtual void async_read_some(std::span<std::byte> buf, handler done) = 0;
  virtual void async_write_some(std::span<const std::byte> buf, handler done) = 0;
  virtual bool can_read() const noexcept = 0;
  virtual bool can_write() const noexcept = 0;

  // Wraps an Asio stream, moved in (it is closed when the guest no longer uses it: its peer
  // sees EOF then) or shared (std::shared_ptr<Stream>: the embedder keeps using it). Each
  // operation is started on the stream's own executor (asio::dispatch), so a stream that lives
  // on the embedder's io_context is only ever touched from there.
  template <class Stream>
  static std::shared_ptr<guest_stream> make(Stream s);
  template <class Stream>
  static std::shared_ptr<guest_stream> make(std::shared_ptr<Stream> s);
};

namespace detail {

template <class S>
concept async_read_stream = requires(S& s, asio::mutable_buffer b) {
  s.get_executor();
  s.async_read_some(b, [](std::error_code, std::size_t) {});
};
template <class S>
concept async_write_stream = requires(S& s, asio::const_buffer b) {
  s.get_executor();
  s.async_write_some(b, [](std::error_code, std::size_t) {});
};

template <class Stream>
class asio_guest_stream final : public guest_stream {
  static_assert(async_read_stream<Stream> || async_write_stream<Stream>,
                "guest_stream::make needs an Asio AsyncReadStream or AsyncWriteStream");

 public:
  explicit asio_guest_stream(std::shared_ptr<Stream> s) : s_(std::move(s)) {}

  void async_read_some(std::span<std::byte> buf, handler done) override {
    if constexpr (async_read_stream<Stream>) {
      auto self = std::static_pointer_cast<asio_guest_stream>(shared_from_this());
      asio::dispatch(s_->get_executor(), [self, buf, done = std::move(done)]() mutable {
        // `self` rides along with the operation: the stream outlives it.
        self->s_->async_read_some(asio::buffer(buf.data(), buf.size()),
                                  [self, done = std::move(done)](std::error_code ec, std::size_t n) { done(ec, n); });
      });
    } else {
      done(asio::error::operation_not_supported, 0);
    }
  }
  void async_write_some(std::span<const std::byte> buf, handler done) override {
    if constexpr (async_write_stream<Stream>) {
      auto self = std::static_pointer_cast<asio_guest_stream>(shared_from_this());
      asio::dispatch(s_->get_executor(), [self, buf, done = std::move(done)]() mutable {
        self->s_->async_write_some(asio::buffer(buf.data(), buf.size()),
                                   [self, done = std::move(done)](std::error_code ec, std::size_t n) { done(ec, n); });
      });
    } else {
      done(asio::error::operation_not_supported, 0);
    }
  }
  bool can_read() const noexcept override { return async_read_stream<Stream>; }
  bool can_write() const noexcept override { return async_write_stream<Stream>; }

 private:
  std::shared_ptr<Stream> s_;
};

}  // namespace detail

template <class Stream>
std::shared_ptr<guest_stream> guest_stream::make(Stream s) {
  return make(std::make_shared<Stream>(std::move(s)));
}

template <class Stream>
std::shared_ptr<guest_stream> guest_stream::make(std::shared_ptr<Stream> s) {
  return std::make_shared<detail::asio_guest_stream<Stream>>(std::move(s));
}

}  // namespace wasio
