#include "async/file_io.hpp"

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <asio/execution.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace wasio::async {

std::optional<file_io_mode> parse_file_io_mode(std::string_view name) {
  if (name == "nowait") return file_io_mode::nowait;
  if (name == "sync") return file_io_mode::sync;
  if (name == "uring") return file_io_mode::uring;
  if (name == "pool") return file_io_mode::pool;
  return std::nullopt;
}

namespace {

std::atomic<file_io_mode>& mode_setting() {
  static std::atomic<file_io_mode> mode = [] {
    const char* env = std::getenv("WASIO_FILE_IO");
    return env ? parse_file_io_mode(env).value_or(file_io_mode::nowait) : file_io_mode::nowait;
  }();
  return mode;
}

// One file operation, as the caller described it.
struct file_op {
  enum class kind { read, write, sync, datasync } what;
  int fd;
  std::span<const ::iovec> iov;     // read, write
  std::optional<uint64_t> offset;  // read, write: none = the file position
};

// Does `op` with a system call; `flags` (RWF_NOWAIT) for reads and writes. An offset of -1 is
// the file position, as in preadv2/pwritev2 themselves.
io_result do_now(const file_op& op, int flags) {
  int count = static_cast<int>(std::min<size_t>(op.iov.size(), IOV_MAX));
  off_t off = op.offset ? static_cast<off_t>(*op.offset) : -1;
  ssize_t n;
  do {
    switch (op.what) {
      case file_op::kind::read: n = ::preadv2(op.fd, op.iov.data(), count, off, flags); break;
      case file_op::kind::write: n = ::pwritev2(op.fd, op.iov.data(), count, off, flags); break;
      case file_op::kind::sync: n = ::fsync(op.fd); break;
      case file_op::kind::datasync: n = ::fdatasync(op.fd); break;
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0) return {0, errno == EWOULDBLOCK ? EAGAIN : errno};
  return {static_cast<size_t>(n), 0};
}

// A transfer in flight: completes (and deletes itself) on the io_context's thread, or is deleted
// without completing when the io_context shuts down, which destroys the waiting coroutine.
struct pending {
  virtual ~pending() = default;
  virtual void complete(io_result r) = 0;
};

template <class Handler>
struct pending_with final : pending {
  explicit pending_with(Handler&& h) : handler(std::move(h)) {}
  void complete(io_result r) override {
    Handler h = std::move(handler);
    delete this;
    std::move(h)(r);
  }
  Handler handler;
};

asio::thread_pool& blocking_pool() {
  // Bounded: a burst of slow reads queues here instead of spawning threads. Never destroyed, so
  // no static destructor races a job still finishing at process exit.
  static auto* pool = new asio::thread_pool(std::clamp(std::thread::hardware_concurrency(), 2u, 8u));
  return *pool;
}

// Per io_context: its io_uring (created on first use) and the count of pool jobs that will
// write into buffers owned by its suspended coroutines.
class file_io_service final : public asio::execution_context::service {
 public:
  using key_type = file_io_service;
  static inline asio::execution_context::id id;

  explicit file_io_service(asio::execution_context& ctx) : service(ctx) {}
  ~file_io_service() override {
    if (ring_ready_) ::io_uring_queue_exit(&ring_);
  }

  void start(const asio::any_io_executor& ex, std::unique_ptr<pending> p, const file_op& op, bool uring) {
    if (uring && submit(ex, p, op)) return;
    run_on_pool(ex, std::move(p), op);
  }

  // Waits for every transfer still writing into guest buffers, then destroys the coroutines
  // that wait for them (as Asio's own services abandon their operations).
  void shutdown() override {
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_done_.wait(lock, [&] { return jobs_ == 0; });
    }
    if (!ring_ready_) return;
    while (in_flight_ > 0) {
      ::io_uring_cqe* cqe = nullptr;
      int r = ::io_uring_wait_cqe(&ring_, &cqe);
      if (r == -EINTR || r == -EAGAIN) continue;  // a signal: the transfers are still running
      if (r != 0) break;
      auto* p = static_cast<pending*>(::io_uring_cqe_get_data(cqe));
      ::io_uring_cqe_seen(&ring_, cqe);
      if (!p) continue;  // a no-op left by a failed submit: not counted
      delete p;
      --in_flight_;
    }
    asio::error_code ignored;
    if (wakeup_) wakeup_->close(ignored);
  }

 private:
  bool ensure_ring(const asio::any_io_executor& ex) {
    if (ring_ready_) return true;
    if (ring_failed_) return false;
    // 256 entries: submissions are one at a time and completions are reaped every loop turn.
    int efd = -1;
    if (::io_uring_queue_init(256, &ring_, 0) == 0) {
      efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (efd >= 0 && ::io_uring_register_eventfd(&ring_, efd) == 0) {
        wakeup_.emplace(ex, efd);
        ring_ready_ = true;
        return true;
      }
      if (efd >= 0) ::close(efd);
      ::io_uring_queue_exit(&ring_);
    }
    ring_failed_ = true;
    return false;
  }

  bool submit(const asio::any_io_executor& ex, std::unique_ptr<pending>& p, const file_op& op) {
    if (!ensure_ring(ex)) return false;
    ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    if (!sqe) return false;  // 256 already queued: the pool takes this one
    unsigned count = static_cast<unsigned>(std::min<size_t>(op.iov.size(), IOV_MAX));
    // An offset of -1 makes io_uring use and advance the file position (Linux 5.6+).
    uint64_t off = op.offset ? *op.offset : static_cast<uint64_t>(-1);
    switch (op.what) {
      case file_op::kind::read: ::io_uring_prep_readv(sqe, op.fd, op.iov.data(), count, off); break;
      case file_op::kind::write: ::io_uring_prep_writev(sqe, op.fd, op.iov.data(), count, off); break;
      case file_op::kind::sync: ::io_uring_prep_fsync(sqe, op.fd, 0); break;
      case file_op::kind::datasync: ::io_uring_prep_fsync(sqe, op.fd, IORING_FSYNC_DATASYNC); break;
    }
    ::io_uring_sqe_set_data(sqe, p.get());
    if (::io_uring_submit(&ring_) < 0) {
      // Nothing was submitted: take the entry back by making it a no-op that completes unseen.
      ::io_uring_prep_nop(sqe);
      ::io_uring_sqe_set_data(sqe, nullptr);
      return false;
    }
    p.release();
    ++in_flight_;
    arm();
    return true;
  }

  void arm() {
    if (armed_) return;
    armed_ = true;
    wakeup_->async_wait(asio::posix::descriptor_base::wait_read, [this](asio::error_code ec) {
      armed_ = false;
      if (ec) return;
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wakeup_->native_handle(), &count, sizeof count);
      reap();
    });
  }

  // Completes every finished transfer; their coroutines resume here and may start new ones.
  void reap() {
    std::vector<std::pair<pending*, io_result>> done;
    ::io_uring_cqe* cqe = nullptr;
    while (::io_uring_peek_cqe(&ring_, &cqe) == 0) {
      auto* p = static_cast<pending*>(::io_uring_cqe_get_data(cqe));
      int res = cqe->res;
      ::io_uring_cqe_seen(&ring_, cqe);
      if (!p) continue;  // a no-op left by a failed submit
      --in_flight_;
      done.emplace_back(p, res < 0 ? io_result{0, -res} : io_result{static_cast<size_t>(res), 0});
    }
    for (auto& [p, r] : done) p->complete(r);
    if (in_flight_ > 0) arm();
  }

  void run_on_pool(const asio::any_io_executor& ex, std::unique_ptr<pending> p, const file_op& op) {
    {
      std::lock_guard lock(jobs_mutex_);
      ++jobs_;
    }
    // The tracked executor keeps the io_context running until the completion is posted.
    asio::post(blocking_pool(), [this, work = asio::prefer(ex, asio::execution::outstanding_work.tracked),
                                 p = std::move(p), op]() mutable {
      io_result r = do_now(op, 0);
      asio::post(work, [p = std::move(p), r]() mutable { p.release()->complete(r); });
      work = asio::any_io_executor{};
      // Last: once the count is zero, shutdown() may return and the service go.
      std::lock_guard lock(jobs_mutex_);
      if (--jobs_ == 0) jobs_done_.notify_all();
    });
  }

  ::io_uring ring_{};
  bool ring_ready_ = false;
  bool ring_failed_ = false;
  bool armed_ = false;
  size_t in_flight_ = 0;
  std::optional<asio::posix::stream_descriptor> wakeup_;  // the ring's completion eventfd

  std::mutex jobs_mutex_;
  std::condition_variable jobs_done_;
  size_t jobs_ = 0;
};

}  // namespace

file_io_mode get_file_io_mode() { return mode_setting().load(std::memory_order_relaxed); }
void set_file_io_mode(file_io_mode mode) { mode_setting().store(mode, std::memory_order_relaxed); }

namespace {

// Runs `op` off the calling thread (io_uring unless `uring` is false or it is unavailable).
asio::awaitable<io_result> offload(const asio::any_io_executor& ex, const file_op& op, bool uring) {
  auto& service = asio::use_service<file_io_service>(asio::query(ex, asio::execution::context));
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(io_result)>(
      [&](auto handler) {
        using H = decltype(handler);
        service.start(ex, std::make_unique<pending_with<H>>(std::move(handler)), op, uring);
      },
      asio::use_awaitable);
}

// A transfer done off the calling thread goes through a buffer of its own, copied from the
// caller's buffers before (a write) or into them on completion, on the calling thread (a read):
// the caller's buffers (guest memory) are only ever touched from the thread that owns them,
// which may lend parts of them to itself meanwhile (engine/asyncify.cpp). At most this much at
// a time: the transfer is then short, as reads and writes may be. The slow path only (a
// transfer that would block), where a copy costs nothing next to the wait.
constexpr size_t kMaxOffloaded = size_t{1} << 20;

asio::awaitable<io_result> offload_copied(const asio::any_io_executor& ex, file_op op, bool uring) {
  const std::span<const ::iovec> caller = op.iov;
  size_t total = 0;
  for (const auto& v : caller) total += v.iov_len;
  std::vector<std::byte> own(std::min(total, kMaxOffloaded));
  auto each = [&](auto&& f) {  // over the caller's buffers, as far as `own` goes
    size_t at = 0;
    for (const auto& v : caller) {
      size_t n = std::min(v.iov_len, own.size() - at);
      f(static_cast<std::byte*>(v.iov_base), own.data() + at, n);
      if ((at += n) == own.size()) break;
    }
  };
  bool write = op.what == file_op::kind::write;
  if (write) each([](std::byte* theirs, std::byte* mine, size_t n) { std::copy_n(theirs, n, mine); });
  ::iovec one{own.data(), own.size()};
  op.iov = std::span<const ::iovec>(&one, 1);
  io_result r = co_await offload(ex, op, uring);
  if (!write && r.error == 0) {
    own.resize(std::min(own.size(), r.bytes));
    each([](std::byte* theirs, std::byte* mine, size_t n) { std::copy_n(mine, n, theirs); });
  }
  co_return r;
}

}  // namespace

asio::awaitable<io_result> file_transfer(const asio::any_io_executor& ex, int fd,
                                         std::span<const ::iovec> iov,
                                         std::optional<uint64_t> offset, bool write,
                                         bool synced) {
  file_op op{write ? file_op::kind::write : file_op::kind::read, fd, iov, offset};
  file_io_mode mode = get_file_io_mode();
  if (mode == file_io_mode::sync) co_return do_now(op, 0);
  if (mode == file_io_mode::nowait) {
    io_result r = do_now(op, RWF_NOWAIT);
    // EOPNOTSUPP: the file cannot say whether it would block. For a buffered write (ext4 here)
    // the write goes to the page cache on this thread, as in `sync`: offloading it cost 5-8x
    // more (docs/why-file-io.md), and it blocks only under writeback throttling. A read (a
    // network or FUSE file system) is offloaded: that is where reads are slow, as is a write
    // to a file opened for synchronous writes.
    if (r.error == EOPNOTSUPP && write && !synced) co_return do_now(op, 0);
    if (r.error != EAGAIN && r.error != EOPNOTSUPP) co_return r;
  }
  co_return co_await offload_copied(ex, op, mode != file_io_mode::pool);
}

asio::awaitable<io_result> file_sync(const asio::any_io_executor& ex, int fd, bool data_only) {
  file_op op{data_only ? file_op::kind::datasync : file_op::kind::sync, fd, {}, std::nullopt};
  file_io_mode mode = get_file_io_mode();
  if (mode == file_io_mode::sync) co_return do_now(op, 0);
  // A flush waits for the disk: never on the worker thread.
  co_return co_await offload(ex, op, mode != file_io_mode::pool);
}

}  // namespace wasio::async
