// async/file_io in every mode, on real files and FIFOs: the same answers as the system calls,
// and a transfer that blocks in the kernel never stalls its io_context.
#include "async/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace wasio::async {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string mode_name(const ::testing::TestParamInfo<file_io_mode>& info) {
  static const char* names[] = {"nowait", "sync", "uring", "pool"};
  return names[static_cast<int>(info.param)];
}

class file_io_test : public ::testing::TestWithParam<file_io_mode> {
 protected:
  void SetUp() override {
    saved_ = get_file_io_mode();
    set_file_io_mode(GetParam());
    dir_ = fs::temp_directory_path() / ("wasio_file_io_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    set_file_io_mode(saved_);
    fs::remove_all(dir_);
  }

  // Runs one transfer to completion on `io`.
  io_result run(int fd, std::string& buf, std::optional<uint64_t> offset, bool write) {
    ::iovec v{buf.data(), buf.size()};
    std::optional<io_result> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await file_transfer(io.get_executor(), fd, {&v, 1}, offset, write);
    }, asio::detached);
    io.restart();
    io.run();
    return out.value();
  }

  unique_fd open_file(const char* name, int flags) {
    return unique_fd(::open((dir_ / name).c_str(), flags | O_CLOEXEC, 0644));
  }

  asio::io_context io;
  fs::path dir_;
  file_io_mode saved_{};
};

TEST_P(file_io_test, reads_and_writes_at_the_file_position_and_at_offsets) {
  unique_fd f = open_file("a", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(f);
  std::string hello = "hello, ", world = "world";
  EXPECT_EQ(run(f.get(), hello, std::nullopt, true).bytes, 7u);
  EXPECT_EQ(run(f.get(), world, std::nullopt, true).bytes, 5u);
  EXPECT_EQ(::lseek(f.get(), 0, SEEK_CUR), 12);  // the position advanced

  std::string at = "W";
  EXPECT_EQ(run(f.get(), at, 7, true).bytes, 1u);
  EXPECT_EQ(::lseek(f.get(), 0, SEEK_CUR), 12);  // a positional write leaves it alone

  std::string buf(32, '\0');
  io_result r = run(f.get(), buf, 0, false);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(buf.substr(0, r.bytes), "hello, World");
  ASSERT_EQ(::lseek(f.get(), 3, SEEK_SET), 3);
  r = run(f.get(), buf, std::nullopt, false);
  EXPECT_EQ(buf.substr(0, r.bytes), "lo, World");
  r = run(f.get(), buf, std::nullopt, false);
  EXPECT_EQ(r.bytes, 0u);  // end of file
  EXPECT_EQ(r.error, 0);
}

// Several buffers, more than one transfer offloaded takes at once (it goes through a buffer of
// its own, at most 1 MiB): every byte lands where its iovec says, and a short transfer is one.
TEST_P(file_io_test, scattered_transfers_land_in_their_buffers_and_may_be_short) {
  unique_fd f = open_file("s", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(f);
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i * 7 + i / 4096);
  size_t written = 0;
  while (written < data.size()) {
    std::string rest = data.substr(written);
    io_result r = run(f.get(), rest, written, true);
    ASSERT_EQ(r.error, 0);
    ASSERT_GT(r.bytes, 0u);
    written += r.bytes;
  }
  std::string a(100, '\0'), b((1 << 20) + 5, '\0'), c(2 << 20, '\0');
  ::iovec v[] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
  std::string got;
  while (got.size() < data.size()) {
    std::optional<io_result> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await file_transfer(io.get_executor(), f.get(), v, got.size(), false);
    }, asio::detached);
    io.restart();
    io.run();
    ASSERT_EQ(out->error, 0);
    ASSERT_GT(out->bytes, 0u);
    std::string all = a + b + c;
    got += all.substr(0, out->bytes);
  }
  EXPECT_TRUE(got == data);
}

TEST_P(file_io_test, append_mode_writes_at_the_end) {
  unique_fd f = open_file("b", O_RDWR | O_CREAT | O_TRUNC | O_APPEND);
  std::string one = "one", two = "two";
  run(f.get(), one, std::nullopt, true);
  ASSERT_EQ(::lseek(f.get(), 0, SEEK_SET), 0);
  run(f.get(), two, std::nullopt, true);
  std::string buf(8, '\0');
  io_result r = run(f.get(), buf, 0, false);
  EXPECT_EQ(buf.substr(0, r.bytes), "onetwo");
}

TEST_P(file_io_test, synced_writes_land) {
  unique_fd f = open_file("o_sync", O_RDWR | O_CREAT | O_TRUNC | O_DSYNC);
  std::string data = "durable";
  ::iovec v{data.data(), data.size()};
  std::optional<io_result> out;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    out = co_await file_transfer(io.get_executor(), f.get(), {&v, 1}, std::nullopt, true, true);
  }, asio::detached);
  io.run();
  EXPECT_EQ(out.value().bytes, data.size());
  std::string buf(16, '\0');
  io_result r = run(f.get(), buf, 0, false);
  EXPECT_EQ(buf.substr(0, r.bytes), "durable");
}

TEST_P(file_io_test, failures_carry_the_host_errno) {
  std::string buf(4, 'x');
  EXPECT_EQ(run(-1, buf, std::nullopt, false).error, EBADF);
  unique_fd ro = open_file("c", O_RDONLY | O_CREAT);
  EXPECT_EQ(run(ro.get(), buf, std::nullopt, true).error, EBADF);
  unique_fd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(run(d.get(), buf, 0, false).error, EISDIR);
}

TEST_P(file_io_test, sync_and_datasync) {
  unique_fd f = open_file("s", O_RDWR | O_CREAT | O_TRUNC);
  auto flush = [&](int fd, bool data_only) {
    std::optional<io_result> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await file_sync(io.get_executor(), fd, data_only);
    }, asio::detached);
    io.restart();
    io.run();
    return out.value();
  };
  EXPECT_EQ(flush(f.get(), false).error, 0);
  EXPECT_EQ(flush(f.get(), true).error, 0);
  EXPECT_EQ(flush(-1, false).error, EBADF);
}

TEST_P(file_io_test, a_read_from_evicted_pages_returns_the_data) {
  // Pages dropped from the cache make RWF_NOWAIT refuse, so the read takes the slow path.
  unique_fd f = open_file("d", O_RDWR | O_CREAT | O_TRUNC);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_EQ(::write(f.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::fsync(f.get()), 0);
  ASSERT_EQ(::posix_fadvise(f.get(), 0, 0, POSIX_FADV_DONTNEED), 0);
  std::string buf(data.size(), '\0');
  io_result r = run(f.get(), buf, 0, false);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_TRUE(buf == data);
}

INSTANTIATE_TEST_SUITE_P(modes, file_io_test,
                         ::testing::Values(file_io_mode::nowait, file_io_mode::sync, file_io_mode::uring,
                                           file_io_mode::pool),
                         mode_name);

// The off-thread modes only: a transfer that blocks in the kernel (here a read of an empty FIFO
// opened in blocking mode, standing in for a slow disk) must leave the io_context free.
class file_io_offload_test : public file_io_test {};

TEST_P(file_io_offload_test, a_blocked_read_does_not_stall_the_loop) {
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  unique_fd r(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  unique_fd w(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(r && w);
  ASSERT_EQ(::fcntl(r.get(), F_SETFL, 0), 0);  // reads now block in the kernel

  std::string buf(16, '\0');
  ::iovec v{buf.data(), buf.size()};
  std::optional<io_result> got;
  bool timer_fired_first = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got = co_await file_transfer(io.get_executor(), r.get(), {&v, 1}, std::nullopt, false);
  }, asio::detached);
  asio::steady_timer t(io, 20ms);
  t.async_wait([&](asio::error_code) {
    timer_fired_first = !got;
    ASSERT_EQ(::write(w.get(), "late", 4), 4);
  });
  io.run();
  EXPECT_TRUE(timer_fired_first);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error, 0);
  EXPECT_EQ(buf.substr(0, got->bytes), "late");
}

TEST_P(file_io_offload_test, shutdown_waits_for_a_transfer_in_flight) {
  // The coroutine owning the buffer is destroyed only after the kernel is done with it.
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  unique_fd r(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  unique_fd w(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_EQ(::fcntl(r.get(), F_SETFL, 0), 0);
  auto io2 = std::make_unique<asio::io_context>();
  bool resumed = false;
  asio::co_spawn(*io2, [&]() -> asio::awaitable<void> {
    std::string buf(16, '\0');  // in the coroutine frame
    ::iovec v{buf.data(), buf.size()};
    co_await file_transfer(io2->get_executor(), r.get(), {&v, 1}, std::nullopt, false);
    resumed = true;
  }, asio::detached);
  io2->poll();  // the read is in flight
  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    (void)!::write(w.get(), "x", 1);
  });
  io2.reset();  // blocks until the read completes, then destroys the coroutine unresumed
  writer.join();
  EXPECT_FALSE(resumed);
}

INSTANTIATE_TEST_SUITE_P(modes, file_io_offload_test,
                         ::testing::Values(file_io_mode::nowait, file_io_mode::uring, file_io_mode::pool),
                         mode_name);

}  // namespace
}  // namespace wasio::async
