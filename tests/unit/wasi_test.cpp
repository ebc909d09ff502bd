// The WASI semantics (src/wasi) in host types, without V8: real pipes, real files, real timers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "src/wasi/wasi.hpp"

namespace wasio::wasi {
namespace {

using namespace std::chrono_literals;

struct pipe_pair {
  async::unique_fd r, w;
  pipe_pair() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    r.reset(p[0]);
    w.reset(p[1]);
  }
};

// Starts `aw` on `io`; `out` receives its result when it completes. (co_spawn itself wants a
// default-constructible result, which result<T> is not.)
template <class T>
void spawn(asio::io_context& io, asio::awaitable<T> aw, std::optional<T>& out) {
  asio::co_spawn(io, [](asio::awaitable<T> a, std::optional<T>& o) -> asio::awaitable<void> {
    o.emplace(co_await std::move(a));
  }(std::move(aw), out), asio::detached);
}

// Runs `aw` on `io` until it completes; returns its result.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  spawn(io, std::move(aw), out);
  io.restart();
  while (!out && io.run_one()) {
  }
  return std::move(*out);
}

class wasi_fixture : public ::testing::Test {
 protected:
  asio::io_context io;
  context ctx;
  // Makes host fd `fd` the guest's fd `guest_fd`, as the engine does for stdio.
  void attach(fd_t guest_fd, int fd) {
    int err = 0;
    auto s = async::host_stream::open(io.get_executor(), fd, &err);
    ASSERT_TRUE(s) << std::strerror(err);
    ctx.fds.insert_at(guest_fd, entry_for(host_resource(std::move(s))));
  }
  static ::iovec iov(char* p, size_t n) { return ::iovec{p, n}; }
};

TEST_F(wasi_fixture, read_suspends_on_an_empty_pipe_until_data_arrives) {
  pipe_pair p;
  attach(0, p.r.get());
  char buf[16] = {};
  ::iovec v = iov(buf, sizeof buf);
  std::optional<result<size>> got;
  spawn(io, fd_read(ctx, 0, {&v, 1}), got);
  io.poll();  // the read started and is waiting: nothing to read yet
  EXPECT_FALSE(got);
  ASSERT_EQ(::write(p.w.get(), "hello", 5), 5);
  while (!got) io.run_one();
  ASSERT_TRUE(*got);
  EXPECT_EQ(got->value(), 5u);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST_F(wasi_fixture, read_returns_zero_at_eof) {
  pipe_pair p;
  attach(0, p.r.get());
  p.w.reset();
  char buf[4];
  ::iovec v = iov(buf, sizeof buf);
  auto r = run(io, fd_read(ctx, 0, {&v, 1}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), 0u);
}

TEST_F(wasi_fixture, nonblock_flag_gives_again_instead_of_waiting) {
  pipe_pair p;
  attach(0, p.r.get());
  ASSERT_TRUE(fd_fdstat_set_flags(ctx, 0, fdflags::nonblock));
  char buf[4];
  ::iovec v = iov(buf, sizeof buf);
  auto r = run(io, fd_read(ctx, 0, {&v, 1}));
  EXPECT_EQ(r.error(), errc::again);
  // The flag is the guest's view only: the host pipe stays blocking.
  EXPECT_EQ(::fcntl(p.r.get(), F_GETFL) & O_NONBLOCK, 0);
  auto st = fd_fdstat_get(ctx, 0);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.value().flags, fdflags::nonblock);
}

TEST_F(wasi_fixture, write_then_read_through_a_pipe) {
  pipe_pair p;
  attach(1, p.w.get());
  char a[] = "ab", b[] = "cde";
  ::iovec v[2] = {iov(a, 2), iov(b, 3)};
  auto r = run(io, fd_write(ctx, 1, v));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), 5u);
  char got[8] = {};
  EXPECT_EQ(::read(p.r.get(), got, sizeof got), 5);
  EXPECT_STREQ(got, "abcde");
}

TEST_F(wasi_fixture, writer_suspends_on_a_full_pipe) {
  pipe_pair p;
  attach(1, p.w.get());
  std::string big(1 << 20, 'x');  // more than a pipe holds
  ::iovec v = iov(big.data(), big.size());
  std::optional<result<size>> r;
  spawn(io, fd_write(ctx, 1, {&v, 1}), r);
  // The first writev fills the pipe partly and returns at once (a short write), as POSIX does.
  for (int i = 0; i < 5 && !r; ++i) io.poll();
  ASSERT_TRUE(r);
  EXPECT_GT(r->value(), 0u);
  EXPECT_LT(r->value(), big.size());
  // The next one waits for the reader.
  std::optional<result<size>> r2;
  spawn(io, fd_write(ctx, 1, {&v, 1}), r2);
  io.poll();
  EXPECT_FALSE(r2);
  std::vector<char> sink(1 << 20);
  ::fcntl(p.r.get(), F_SETFL, O_NONBLOCK);  // the test's own end: drain without blocking
  for (int i = 0; i < 1000 && !r2; ++i) {
    (void)::read(p.r.get(), sink.data(), sink.size());
    io.restart();
    io.run_one_for(10ms);
  }
  ASSERT_TRUE(r2);
  EXPECT_GT(r2->value(), 0u);
}

TEST_F(wasi_fixture, seek_and_tell) {
  pipe_pair p;
  attach(0, p.r.get());
  EXPECT_EQ(fd_seek(ctx, 0, 0, static_cast<uint8_t>(whence::cur)).error(), errc::spipe);
  EXPECT_EQ(fd_tell(ctx, 0).error(), errc::spipe);

  char path[] = "/tmp/wasio-unit-XXXXXX";
  async::unique_fd f(::mkstemp(path));
  ::unlink(path);
  ASSERT_EQ(::write(f.get(), "0123456789", 10), 10);
  attach(5, f.get());
  auto end = fd_seek(ctx, 5, -3, static_cast<uint8_t>(whence::end));
  ASSERT_TRUE(end);
  EXPECT_EQ(end.value(), 7u);
  EXPECT_EQ(fd_tell(ctx, 5).value(), 7u);
  EXPECT_EQ(fd_seek(ctx, 5, 2, static_cast<uint8_t>(whence::set)).value(), 2u);
  EXPECT_EQ(fd_seek(ctx, 5, -100, static_cast<uint8_t>(whence::cur)).error(), errc::inval);
  EXPECT_EQ(fd_seek(ctx, 5, 0, 3).error(), errc::inval);
}

TEST_F(wasi_fixture, fdstat_of_stdio_kinds) {
  pipe_pair p;
  attach(0, p.r.get());
  auto st = fd_fdstat_get(ctx, 0).value();
  EXPECT_EQ(st.type, filetype::unknown);  // pipes have no preview1 type
  EXPECT_TRUE(st.rights_base & rights::fd_read);
  EXPECT_FALSE(st.rights_base & rights::path_open);

  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  async::unique_fd s0(sv[0]), s1(sv[1]);
  attach(3, s0.get());
  EXPECT_EQ(fd_fdstat_get(ctx, 3).value().type, filetype::socket_stream);

  async::unique_fd null(::open("/dev/null", O_RDWR));
  attach(4, null.get());
  st = fd_fdstat_get(ctx, 4).value();
  EXPECT_EQ(st.type, filetype::character_device);
  EXPECT_TRUE(st.rights_base & rights::fd_seek);  // not a terminal: wasi-libc's isatty says no
}

TEST_F(wasi_fixture, set_flags_rejects_unknown_bits) {
  pipe_pair p;
  attach(0, p.r.get());
  EXPECT_EQ(fd_fdstat_set_flags(ctx, 0, 1 << 5).error(), errc::inval);
  EXPECT_TRUE(fd_fdstat_set_flags(ctx, 0, fdflags::append | fdflags::sync));
  EXPECT_EQ(fd_fdstat_get(ctx, 0).value().flags, fdflags::append | fdflags::sync);
}

TEST_F(wasi_fixture, close_frees_the_number_for_reuse) {
  pipe_pair p;
  attach(0, p.r.get());
  attach(1, p.w.get());
  EXPECT_TRUE(fd_close(ctx, 0));
  EXPECT_EQ(fd_close(ctx, 0).error(), errc::badf);
  EXPECT_EQ(fd_fdstat_get(ctx, 0).error(), errc::badf);
  fd_entry e;
  EXPECT_EQ(ctx.fds.insert(std::move(e)).value(), 0u);
}

// uvwasi's discipline: every fd function on a closed or never-opened fd is badf.
TEST_F(wasi_fixture, every_fd_function_gives_badf_on_bad_fds) {
  for (fd_t fd : {fd_t{0}, fd_t{2}, fd_t{3}, fd_t{1000}, fd_t{0xffffffff}}) {
    char b[1];
    ::iovec v = iov(b, 1);
    EXPECT_EQ(run(io, fd_read(ctx, fd, {&v, 1})).error(), errc::badf);
    EXPECT_EQ(run(io, fd_write(ctx, fd, {&v, 1})).error(), errc::badf);
    EXPECT_EQ(fd_close(ctx, fd).error(), errc::badf);
    EXPECT_EQ(fd_seek(ctx, fd, 0, 0).error(), errc::badf);
    EXPECT_EQ(fd_tell(ctx, fd).error(), errc::badf);
    EXPECT_EQ(fd_fdstat_get(ctx, fd).error(), errc::badf);
    EXPECT_EQ(fd_fdstat_set_flags(ctx, fd, 0).error(), errc::badf);
    EXPECT_EQ(fd_prestat_get(ctx, fd).error(), errc::badf);
    EXPECT_EQ(fd_prestat_dir_name(ctx, fd).error(), errc::badf);
    EXPECT_EQ(run(io, fd_pread(ctx, fd, {&v, 1}, 0)).error(), errc::badf);
    EXPECT_EQ(run(io, fd_pwrite(ctx, fd, {&v, 1}, 0)).error(), errc::badf);
    EXPECT_EQ(fd_advise(ctx, fd, 0, 0, 0).error(), errc::badf);
    EXPECT_EQ(fd_allocate(ctx, fd, 0, 1).error(), errc::badf);
    EXPECT_EQ(run(io, fd_datasync(ctx, fd)).error(), errc::badf);
    EXPECT_EQ(run(io, fd_sync(ctx, fd)).error(), errc::badf);
    EXPECT_EQ(fd_fdstat_set_rights(ctx, fd, 0, 0).error(), errc::badf);
    EXPECT_EQ(fd_filestat_get(ctx, fd).error(), errc::badf);
    EXPECT_EQ(fd_filestat_set_size(ctx, fd, 0).error(), errc::badf);
    EXPECT_EQ(fd_filestat_set_times(ctx, fd, 0, 0, 0).error(), errc::badf);
    EXPECT_EQ(fd_readdir(ctx, fd, 0, 64).error(), errc::badf);
    EXPECT_EQ(fd_renumber(ctx, fd, fd).error(), errc::badf);
    // The path functions take a directory fd.
    EXPECT_EQ(path_open(ctx, fd, 0, "x", 0, 0, 0, 0).error(), errc::badf);
    EXPECT_EQ(path_filestat_get(ctx, fd, 0, "x").error(), errc::badf);
    EXPECT_EQ(path_filestat_set_times(ctx, fd, 0, "x", 0, 0, 0).error(), errc::badf);
    EXPECT_EQ(path_create_directory(ctx, fd, "x").error(), errc::badf);
    EXPECT_EQ(path_remove_directory(ctx, fd, "x").error(), errc::badf);
    EXPECT_EQ(path_unlink_file(ctx, fd, "x").error(), errc::badf);
    EXPECT_EQ(path_rename(ctx, fd, "x", fd, "y").error(), errc::badf);
    EXPECT_EQ(path_link(ctx, fd, 0, "x", fd, "y").error(), errc::badf);
    EXPECT_EQ(path_readlink(ctx, fd, "x", 8).error(), errc::badf);
    EXPECT_EQ(path_symlink(ctx, "t", fd, "x").error(), errc::badf);
    subscription sub;
    sub.type = eventtype::fd_read;
    sub.fd = fd;
    event ev[1];
    ASSERT_EQ(run(io, poll_oneoff(ctx, {&sub, 1}, ev)).value(), 1u);
    EXPECT_EQ(ev[0].error, static_cast<uint16_t>(errc::badf));  // an event, not a failed call
  }
}

TEST_F(wasi_fixture, rights_are_checked) {
  pipe_pair p;
  attach(0, p.r.get());
  auto e = ctx.fds.get(0).value();
  e->stat.rights_base &= ~rights::fd_read;
  char b[1];
  ::iovec v = iov(b, 1);
  EXPECT_EQ(run(io, fd_read(ctx, 0, {&v, 1})).error(), errc::notcapable);
}

TEST_F(wasi_fixture, preopens) {
  auto dir = std::filesystem::temp_directory_path();
  auto e = open_preopen(dir.string(), "/sandbox", false);
  ASSERT_TRUE(e);
  ctx.fds.insert_at(3, std::move(e).value());
  EXPECT_EQ(fd_prestat_get(ctx, 3).value(), 8u);
  EXPECT_EQ(fd_prestat_dir_name(ctx, 3).value(), "/sandbox");
  EXPECT_EQ(fd_fdstat_get(ctx, 3).value().type, filetype::directory);
  char b[1];
  ::iovec v = iov(b, 1);
  EXPECT_EQ(run(io, fd_read(ctx, 3, {&v, 1})).error(), errc::notcapable);  // dirs have no fd_read

  auto ro = open_preopen(dir.string(), "/ro", true);
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro.value().stat.rights_base & rights::path_create_file, 0u);
  EXPECT_NE(ro.value().stat.rights_base & rights::path_open, 0u);

  auto missing = open_preopen("/no/such/dir", "/x", false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().host_errno, ENOENT);
}

TEST(wasi_clock, clocks) {
  for (uint32_t id = 0; id < 4; ++id) {
    EXPECT_GT(clock_res_get(id).value(), 0u);
    EXPECT_GT(clock_time_get(id, 0).value(), 0u);
  }
  EXPECT_EQ(clock_res_get(4).error(), errc::inval);
  EXPECT_EQ(clock_time_get(0xffffffff, 0).error(), errc::inval);
  auto a = clock_time_get(1, 0).value(), b = clock_time_get(1, 0).value();
  EXPECT_LE(a, b);
}

TEST(wasi_random, fills_the_buffer) {
  std::vector<std::byte> a(1 << 16), b(1 << 16);
  ASSERT_TRUE(random_get(a));
  ASSERT_TRUE(random_get(b));
  EXPECT_NE(a, b);
  EXPECT_TRUE(random_get({}));
}

TEST(wasi_args, sizes_count_the_nuls) {
  auto s = string_list_sizes_of({"a", "", "bcd"}).value();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.buf_bytes, 2u + 1u + 4u);
  EXPECT_EQ(string_list_sizes_of({}).value().buf_bytes, 0u);
}

// ---- poll_oneoff ------------------------------------------------------------------------------

subscription clock_sub(userdata u, uint32_t id, timestamp timeout, uint16_t flags = 0) {
  subscription s;
  s.user = u;
  s.type = eventtype::clock;
  s.clock_id = id;
  s.timeout = timeout;
  s.clock_flags = flags;
  return s;
}
subscription fd_sub(userdata u, eventtype t, fd_t fd) {
  subscription s;
  s.user = u;
  s.type = t;
  s.fd = fd;
  return s;
}

TEST_F(wasi_fixture, poll_needs_a_subscription) {
  EXPECT_EQ(run(io, poll_oneoff(ctx, {}, {})).error(), errc::inval);
}

TEST_F(wasi_fixture, poll_earliest_of_several_clocks_fires_alone) {
  subscription subs[] = {clock_sub(1, 1, 200'000'000), clock_sub(2, 1, 20'000'000), clock_sub(3, 0, 400'000'000)};
  event ev[3];
  auto t0 = std::chrono::steady_clock::now();
  auto n = run(io, poll_oneoff(ctx, subs, ev));
  ASSERT_TRUE(n);
  EXPECT_EQ(n.value(), 1u);
  EXPECT_EQ(ev[0].user, 2u);
  EXPECT_EQ(ev[0].type, eventtype::clock);
  EXPECT_EQ(ev[0].error, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
}

TEST_F(wasi_fixture, poll_absolute_deadlines) {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  timestamp mono = static_cast<timestamp>(ts.tv_sec) * 1'000'000'000u + static_cast<timestamp>(ts.tv_nsec);
  subscription future[] = {clock_sub(7, 1, mono + 10'000'000, subclockflags::abstime)};
  event ev[1];
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run(io, poll_oneoff(ctx, future, ev)).value(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 10ms);
  // A realtime deadline in the past fires at once.
  subscription past[] = {clock_sub(8, 0, 1, subclockflags::abstime)};
  ASSERT_EQ(run(io, poll_oneoff(ctx, past, ev)).value(), 1u);
  EXPECT_EQ(ev[0].user, 8u);
}

TEST_F(wasi_fixture, poll_reports_subscription_errors_as_events) {
  subscription subs[] = {fd_sub(1, eventtype::fd_read, 42), clock_sub(2, 2, 1000), clock_sub(3, 9, 1000),
                         clock_sub(4, 1, 10'000'000'000)};
  event ev[4];
  auto n = run(io, poll_oneoff(ctx, subs, ev));
  ASSERT_EQ(n.value(), 3u);
  EXPECT_EQ(ev[0].user, 1u);
  EXPECT_EQ(ev[0].error, static_cast<uint16_t>(errc::badf));
  EXPECT_EQ(ev[0].type, eventtype::fd_read);
  EXPECT_EQ(ev[1].error, static_cast<uint16_t>(errc::notsup));  // a CPU-time clock never fires
  EXPECT_EQ(ev[2].error, static_cast<uint16_t>(errc::inval));
}

TEST_F(wasi_fixture, poll_wakes_on_pipe_data_with_nbytes_and_hangup) {
  pipe_pair p;
  attach(0, p.r.get());
  subscription subs[] = {fd_sub(5, eventtype::fd_read, 0), clock_sub(6, 1, 5'000'000'000)};
  event ev[2];
  std::optional<result<size>> n;
  spawn(io, poll_oneoff(ctx, subs, ev), n);
  io.poll();
  EXPECT_FALSE(n);
  ASSERT_EQ(::write(p.w.get(), "xyz", 3), 3);
  while (!n) io.run_one();
  ASSERT_EQ(n->value(), 1u);
  EXPECT_EQ(ev[0].user, 5u);
  EXPECT_EQ(ev[0].nbytes, 3u);
  EXPECT_EQ(ev[0].flags, 0);

  p.w.reset();  // EOF after the data: readable with hangup
  char b[8];
  ASSERT_EQ(::read(p.r.get(), b, sizeof b), 3);
  ASSERT_EQ(run(io, poll_oneoff(ctx, subs, ev)).value(), 1u);
  EXPECT_EQ(ev[0].flags, eventrwflags::hangup);
}

TEST_F(wasi_fixture, poll_on_regular_files_is_always_ready) {
  char path[] = "/tmp/wasio-unit-XXXXXX";
  async::unique_fd f(::mkstemp(path));
  ::unlink(path);
  ASSERT_EQ(::write(f.get(), "abc", 3), 3);
  ::lseek(f.get(), 0, SEEK_SET);
  attach(3, f.get());
  subscription subs[] = {fd_sub(1, eventtype::fd_read, 3), fd_sub(2, eventtype::fd_write, 3)};
  event ev[2];
  ASSERT_EQ(run(io, poll_oneoff(ctx, subs, ev)).value(), 2u);
  EXPECT_EQ(ev[0].nbytes, 3u);
}

}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {

// ---- paths, on a real temporary directory -----------------------------------------------------
// Every path test runs on both resolution paths (openat2, and the component walk that kernels
// before 5.6 get) and with the directory given as an overlay (memory_fs.hpp), which must answer
// alike; so the tests look at what they did through the guest's calls, not the host's.
enum class preopen_as { openat2, walk, overlay };
class path_fixture : public wasi_fixture, public ::testing::WithParamInterface<preopen_as> {
 protected:
  fd_entry preopen(const std::filesystem::path& dir, std::string name, bool read_only) {
    return open_preopen(dir.string(), std::move(name), read_only, GetParam() == preopen_as::overlay).value();
  }
  bool on_host() const { return GetParam() != preopen_as::overlay; }
  std::filesystem::path root = std::filesystem::temp_directory_path() / ("wasio-path-" + std::to_string(::getpid()));
  void SetUp() override {
    use_fallback_resolution(GetParam() == preopen_as::walk);
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "sub");
    std::ofstream(root / "sub" / "file") << "data";
    std::filesystem::create_symlink("/etc/passwd", root / "abs_link");
    std::filesystem::create_symlink("../../../../etc/passwd", root / "rel_link");
    std::filesystem::create_symlink("sub/file", root / "ok_link");
    std::filesystem::create_symlink("dangling", root / "dangling_link");
    ctx.executor = io.get_executor();
    ctx.fds.insert_at(3, preopen(root, "/", false));
  }
  void TearDown() override {
    use_fallback_resolution(false);
    std::filesystem::remove_all(root);
  }
  result<fd_t> open(std::string_view p, uint32_t dirflags = lookupflags::symlink_follow, uint16_t of = 0) {
    return path_open(ctx, 3, dirflags, p, of, rights::all, rights::all, 0);
  }
};

TEST_P(path_fixture, escapes_are_notcapable) {
  for (std::string_view p : {"../etc/passwd", "/etc/passwd", "sub/../../x", "abs_link", "rel_link",
                             "sub/../rel_link"}) {
    auto r = open(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.error(), errc::notcapable) << p;
  }
  EXPECT_EQ(path_create_directory(ctx, 3, "../made").error(), errc::notcapable);
  EXPECT_EQ(path_unlink_file(ctx, 3, "/etc/passwd").error(), errc::notcapable);
  EXPECT_EQ(path_rename(ctx, 3, "sub/file", 3, "../stolen").error(), errc::notcapable);
  EXPECT_FALSE(std::filesystem::exists(root.parent_path() / "made"));
  EXPECT_FALSE(std::filesystem::exists(root.parent_path() / "stolen"));
}

// A directory renamed out of the sandbox while a lookup walks through it: `..` from it would
// reach the outside. Another thread moves root/a/b to outside/pivot/b and back while the guest
// opens a/b/c/d/../../../../secret, which inside names root/secret (absent) and, if a lookup
// followed the moved directory's real parent, outside/secret.
TEST_P(path_fixture, a_directory_renamed_during_lookup_never_leads_outside) {
  auto outside = root.string() + "-out";
  std::filesystem::remove_all(outside);
  std::filesystem::create_directories(outside + "/pivot");
  std::ofstream(outside + "/secret") << "secret";
  std::filesystem::create_directories(root / "a" / "b" / "c" / "d");
  std::atomic<bool> stop{false};
  std::thread renamer([&] {
    auto in = (root / "a" / "b").string(), out = outside + "/pivot/b";
    while (!stop.load()) {
      if (::rename(in.c_str(), out.c_str()) == 0) (void)!::rename(out.c_str(), in.c_str());
    }
  });
  int escaped = 0;
  for (int i = 0; i < 3000; ++i) {
    auto r = open("a/b/c/d/../../../../secret");
    if (r) {
      ++escaped;
      (void)fd_close(ctx, r.value());
    }
  }
  stop = true;
  renamer.join();
  EXPECT_EQ(escaped, 0);
  std::filesystem::remove_all(outside);
}

TEST_P(path_fixture, lookups) {
  EXPECT_TRUE(open("sub/file"));
  EXPECT_TRUE(open("ok_link"));                                      // a symlink that stays inside
  EXPECT_EQ(open("ok_link", 0).error(), errc::loop);                 // not followed: loop
  EXPECT_EQ(open("dangling_link").error(), errc::noent);
  EXPECT_EQ(open(std::string_view("sub\0file", 8)).error(), errc::inval);
  EXPECT_EQ(open("").error(), errc::noent);
  EXPECT_EQ(open("sub/file", lookupflags::symlink_follow, oflags::directory).error(), errc::notdir);
  EXPECT_EQ(open("sub/file", lookupflags::symlink_follow, oflags::creat | oflags::excl).error(), errc::exist);
  // CREAT with DIRECTORY is inval before any lookup, on every kernel (Linux before 6.4 made a
  // regular file), for names that exist or not and paths that lead out alike.
  for (std::string_view p : {"sub", "sub/file", "new_dir", "../new_dir", "abs_link"}) {
    EXPECT_EQ(open(p, 0, oflags::creat | oflags::directory).error(), errc::inval) << p;
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(root / "new_dir")));
  auto st = path_filestat_get(ctx, 3, 0, "ok_link");
  ASSERT_TRUE(st);
  EXPECT_EQ(st.value().type, filetype::symbolic_link);
  EXPECT_EQ(path_filestat_get(ctx, 3, lookupflags::symlink_follow, "ok_link").value().size, 4u);
}

TEST_P(path_fixture, opened_files_get_narrowed_rights_and_work) {
  auto fd = open("sub/file");
  ASSERT_TRUE(fd);
  auto st = fd_fdstat_get(ctx, fd.value()).value();
  EXPECT_EQ(st.type, filetype::regular_file);
  EXPECT_EQ(st.rights_base & rights::path_open, 0u);  // a file has no path rights
  char b[8] = {};
  ::iovec v{b, sizeof b};
  auto n = run(io, fd_pread(ctx, fd.value(), {&v, 1}, 1));
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(b, n.value()), "ata");
  EXPECT_EQ(fd_filestat_get(ctx, fd.value()).value().size, 4u);

  // A directory is never opened for writing, with O_DIRECTORY or without (wasi-testsuite
  // path_open_preopen); asking for no write right, it opens.
  constexpr uint64_t rw = rights::fd_read | rights::fd_write;
  EXPECT_EQ(path_open(ctx, 3, 0, ".", oflags::directory, rw, 0, 0).error(), errc::isdir);
  EXPECT_EQ(path_open(ctx, 3, 0, "sub", 0, rights::fd_write, 0, 0).error(), errc::isdir);
  auto dir_ro = path_open(ctx, 3, 0, ".", oflags::directory, rights::fd_read, 0, 0);
  ASSERT_TRUE(dir_ro);
  EXPECT_TRUE(fd_close(ctx, dir_ro.value()));
  auto same = fd_fdstat_get(ctx, 3).value();
  auto dir_same = path_open(ctx, 3, 0, ".", 0, same.rights_base, same.rights_inheriting, 0);
  ASSERT_TRUE(dir_same);
  EXPECT_TRUE(fd_close(ctx, dir_same.value()));

  // A read-only preopen hands out no write rights, whatever is asked.
  ctx.fds.insert_at(4, preopen(root, "/ro", true));
  auto ro = path_open(ctx, 4, 0, "sub/file", 0, rights::all, rights::all, 0);
  ASSERT_TRUE(ro);
  EXPECT_EQ(fd_fdstat_get(ctx, ro.value()).value().rights_base & rights::fd_write, 0u);
  EXPECT_EQ(path_open(ctx, 4, 0, "new", oflags::creat, rights::all, rights::all, 0).error(), errc::notcapable);
}

TEST_P(path_fixture, readdir_cookies_are_stable_with_small_buffers) {
  auto all = fd_readdir(ctx, 3, 0, 1 << 20).value();
  std::vector<std::string> names;
  for (auto& e : all) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "abs_link", "dangling_link", "ok_link", "rel_link", "sub"}));
  // One entry at a time, resuming from each cookie, gives the same listing.
  std::vector<std::string> again;
  uint64_t cookie = 0;
  for (;;) {
    auto one = fd_readdir(ctx, 3, cookie, 1).value();
    if (one.empty()) break;
    again.push_back(one[0].name);
    cookie = one[0].next;
  }
  std::sort(again.begin(), again.end());
  EXPECT_EQ(again, names);
}

// The listing kept between calls (one record per call is linear, not quadratic) answers every
// cookie as a fresh listing would: the same cookie twice (a record cut by the buffer end is asked
// for again), a cookie behind the last call, one past the end; cookie 0 lists anew.
TEST_P(path_fixture, readdir_answers_any_cookie_as_a_fresh_listing) {
  auto all = fd_readdir(ctx, 3, 0, 1 << 20).value();
  ASSERT_GE(all.size(), 4u);
  auto at = [&](uint64_t cookie) { return fd_readdir(ctx, 3, cookie, 1).value(); };
  for (size_t i = 0; i < all.size(); ++i) {
    uint64_t cookie = i == 0 ? 0 : all[i - 1].next;
    for (int twice = 0; twice < 2; ++twice) {
      auto one = at(cookie);
      ASSERT_EQ(one.size(), 1u);
      EXPECT_EQ(one[0].name, all[i].name);
      EXPECT_EQ(one[0].next, all[i].next);
    }
  }
  EXPECT_TRUE(at(all.back().next).empty());
  EXPECT_TRUE(at(all.back().next + 5).empty());
  EXPECT_EQ(at(all[1].next)[0].name, all[2].name);  // behind the last call
  auto rest = fd_readdir(ctx, 3, all[0].next, 1 << 20).value();
  EXPECT_EQ(rest.size(), all.size() - 1);
  // A new entry shows in a listing from cookie 0.
  ASSERT_TRUE(path_create_directory(ctx, 3, "new_entry"));
  auto fresh = fd_readdir(ctx, 3, 0, 1 << 20).value();
  EXPECT_EQ(fresh.size(), all.size() + 1);
  EXPECT_TRUE(std::any_of(fresh.begin(), fresh.end(), [](const dirent& e) { return e.name == "new_entry"; }));
  ASSERT_TRUE(path_remove_directory(ctx, 3, "new_entry"));
}

TEST_P(path_fixture, create_rename_remove) {
  EXPECT_TRUE(path_create_directory(ctx, 3, "d"));
  EXPECT_EQ(path_create_directory(ctx, 3, "d").error(), errc::exist);
  EXPECT_TRUE(path_rename(ctx, 3, "sub/file", 3, "d/file2"));
  EXPECT_EQ(path_remove_directory(ctx, 3, "d").error(), errc::notempty);
  EXPECT_EQ(path_unlink_file(ctx, 3, "d").error(), errc::isdir);
  EXPECT_EQ(path_unlink_file(ctx, 3, "d/file2/").error(), errc::notdir);
  EXPECT_TRUE(path_unlink_file(ctx, 3, "d/file2"));
  EXPECT_TRUE(path_remove_directory(ctx, 3, "d/"));
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "d").error(), errc::noent);
}

}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {

TEST_P(path_fixture, links_and_symlinks_stay_confined) {
  EXPECT_TRUE(path_symlink(ctx, "/etc/passwd", 3, "made_link"));  // any contents may be written ...
  EXPECT_EQ(open("made_link").error(), errc::notcapable);           // ... following it is confined
  auto target = path_readlink(ctx, 3, "made_link", 4);
  ASSERT_TRUE(target);
  EXPECT_EQ(target.value(), "/etc");  // truncated to the buffer
  EXPECT_EQ(path_readlink(ctx, 3, "sub/file", 64).error(), errc::inval);  // not a symlink
  // A hard link through a symlink that leaves the directory must not link the outside file.
  EXPECT_EQ(path_link(ctx, 3, lookupflags::symlink_follow, "abs_link", 3, "stolen").error(), errc::notcapable);
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "stolen").error(), errc::noent);
  // Without following, the symlink itself is linked, which is harmless.
  EXPECT_TRUE(path_link(ctx, 3, 0, "abs_link", 3, "link_copy"));
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "link_copy").value().type, filetype::symbolic_link);
  EXPECT_TRUE(path_link(ctx, 3, lookupflags::symlink_follow, "ok_link", 3, "hard"));
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "sub/file").value().nlink, 2u);
}

TEST_P(path_fixture, times_keep_nanoseconds_and_reject_contradictions) {
  constexpr timestamp t = 1'500'000'000'123'456'789ull;
  EXPECT_EQ(path_filestat_set_times(ctx, 3, 0, "sub/file", t, t, fstflags::atim | fstflags::atim_now).error(),
            errc::inval);
  EXPECT_EQ(path_filestat_set_times(ctx, 3, 0, "sub/file", t, t, fstflags::mtim | fstflags::mtim_now).error(),
            errc::inval);
  ASSERT_TRUE(path_filestat_set_times(ctx, 3, 0, "sub/file", t, t + 1, fstflags::atim | fstflags::mtim));
  auto st = path_filestat_get(ctx, 3, 0, "sub/file").value();
  EXPECT_EQ(st.atim, t);
  EXPECT_EQ(st.mtim, t + 1);
  // Through a symlink that leaves the directory: confined.
  EXPECT_EQ(path_filestat_set_times(ctx, 3, lookupflags::symlink_follow, "abs_link", t, t, fstflags::atim).error(),
            errc::notcapable);
  auto fd = open("sub/file").value();
  ASSERT_TRUE(fd_filestat_set_times(ctx, fd, 0, 0, fstflags::mtim_now));
  EXPECT_GT(fd_filestat_get(ctx, fd).value().mtim, t);
  EXPECT_EQ(fd_filestat_set_times(ctx, fd, 0, 0, 1 << 4).error(), errc::inval);
}

TEST_P(path_fixture, size_sync_advise_allocate) {
  auto fd = open("sub/file").value();
  ASSERT_TRUE(fd_filestat_set_size(ctx, fd, 100));
  EXPECT_EQ(fd_filestat_get(ctx, fd).value().size, 100u);
  ASSERT_TRUE(fd_allocate(ctx, fd, 0, 4096));
  EXPECT_EQ(fd_filestat_get(ctx, fd).value().size, 4096u);
  EXPECT_TRUE(fd_advise(ctx, fd, 0, 0, 1));
  EXPECT_EQ(fd_advise(ctx, fd, 0, 0, 6).error(), errc::inval);
  EXPECT_TRUE(run(io, fd_sync(ctx, fd)));
  EXPECT_TRUE(run(io, fd_datasync(ctx, fd)));
  EXPECT_EQ(fd_filestat_set_size(ctx, fd, UINT64_MAX).error(), errc::inval);
}

TEST_P(path_fixture, rights_only_narrow_and_renumber) {
  auto fd = open("sub/file").value();
  auto st = fd_fdstat_get(ctx, fd).value();
  EXPECT_TRUE(fd_fdstat_set_rights(ctx, fd, st.rights_base & ~rights::fd_write, 0));
  EXPECT_EQ(fd_fdstat_set_rights(ctx, fd, st.rights_base, 0).error(), errc::notcapable);  // no widening back
  char b[1];
  ::iovec v{b, 1};
  EXPECT_EQ(run(io, fd_write(ctx, fd, {&v, 1})).error(), errc::notcapable);

  auto other = open("sub/file").value();
  EXPECT_TRUE(fd_renumber(ctx, fd, other));
  EXPECT_EQ(fd_fdstat_get(ctx, fd).error(), errc::badf);
  EXPECT_EQ(fd_fdstat_get(ctx, other).value().rights_base & rights::fd_write, 0u);  // it is the narrowed one
  // Onto a closed number: the number is taken (real programs move stdout away and back so).
  EXPECT_TRUE(fd_renumber(ctx, other, 999));
  EXPECT_EQ(fd_fdstat_get(ctx, other).error(), errc::badf);
  EXPECT_TRUE(fd_fdstat_get(ctx, 999));
  EXPECT_TRUE(fd_renumber(ctx, 999, other));
  EXPECT_LT(ctx.fds.size(), 999u);  // 999 left no sparse tail behind
  // Beyond the fd limit, or so far that the table would become a sparse giant: badf.
  EXPECT_EQ(fd_renumber(ctx, other, 0xFFFFFFF0u).error(), errc::badf);
  ctx.fds.set_limit(8);
  EXPECT_EQ(fd_renumber(ctx, other, 8).error(), errc::badf);
  EXPECT_EQ(fd_renumber(ctx, 999, other).error(), errc::badf);
}

}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {
INSTANTIATE_TEST_SUITE_P(resolution, path_fixture,
                         ::testing::Values(preopen_as::openat2, preopen_as::walk, preopen_as::overlay),
                         [](const auto& info) {
                           return std::string(info.param == preopen_as::walk      ? "walk"
                                              : info.param == preopen_as::overlay ? "overlay"
                                                                                  : "openat2");
                         });
}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {
// Escapes that only a component walk could get wrong: symlink chains, `..` after a symlink,
// loops, and a directory moved out from under a path during the walk.
TEST_P(path_fixture, symlink_chains_and_loops) {
  std::filesystem::create_symlink("sub", root / "to_sub");
  std::filesystem::create_symlink("to_sub/../rel_link", root / "chain");
  std::filesystem::create_symlink("loop_b", root / "loop_a");
  std::filesystem::create_symlink("loop_a", root / "loop_b");
  std::filesystem::create_symlink("sub/..", root / "up_then_back");
  EXPECT_TRUE(open("to_sub/file"));
  EXPECT_EQ(open("chain").error(), errc::notcapable);
  EXPECT_EQ(open("loop_a").error(), errc::loop);
  EXPECT_TRUE(open("up_then_back/sub/file"));
  EXPECT_EQ(open("up_then_back/../x").error(), errc::notcapable);
  EXPECT_EQ(open("sub/file/").error(), errc::notdir);
  EXPECT_TRUE(open("sub/./../sub//file"));
}
}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {
TEST_P(path_fixture, append_set_later_applies_to_files_the_guest_opened) {
  auto fd = open("sub/file").value();
  ASSERT_TRUE(fd_fdstat_set_flags(ctx, fd, fdflags::append));
  EXPECT_EQ(fd_fdstat_get(ctx, fd).value().flags, fdflags::append);
  char more[] = "++";
  ::iovec v{more, 2};
  ASSERT_TRUE(run(io, fd_write(ctx, fd, {&v, 1})));  // the offset is 0, but APPEND wins
  char got[16] = {};
  ::iovec back{got, sizeof got};
  auto n = run(io, fd_pread(ctx, open("sub/file").value(), {&back, 1}, 0));
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(got, n.value()), "data++");
}
}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {
// A guest opening a FIFO with no writer must not block its worker in open(2).
TEST_P(path_fixture, opening_a_fifo_does_not_block) {
  if (!on_host()) GTEST_SKIP() << "an overlay's FIFO is the host's, for reading only";
  ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0600), 0);
  auto fd = open("fifo");
  ASSERT_TRUE(fd);
  EXPECT_EQ(fd_fdstat_get(ctx, fd.value()).value().type, filetype::unknown);
  ASSERT_TRUE(fd_fdstat_set_flags(ctx, fd.value(), fdflags::nonblock));
  char b[4];
  ::iovec v{b, sizeof b};
  // Opened read-write (all rights were asked for), the FIFO has a writer: nothing to read yet,
  // and NONBLOCK says so instead of waiting.
  EXPECT_EQ(run(io, fd_read(ctx, fd.value(), {&v, 1})).error(), errc::again);
}
}  // namespace
}  // namespace wasio::wasi

namespace wasio::wasi {
namespace {
// The escape battery: every path call, with and without FOLLOW, on paths whose last real
// component is a symlink leading out (relative, absolute, through `..`) or is `..` itself,
// written with every ending that makes the kernel resolve it anyway ("/", "//", "/.", "/./",
// "/..", ...). The preopen is jail/; beside it, outside/ holds a directory and a file with old
// times. Whatever each call returns, nothing outside the jail may change: no times, no entries,
// no contents, and no stat of the jail's parent or outside may be answered.
TEST_P(path_fixture, no_path_call_reaches_outside_whatever_the_path_ends_with) {
  namespace fs = std::filesystem;
  fs::path jail = root / "jail", outside = root / "outside";
  fs::create_directories(jail / "sub");
  fs::create_directories(outside / "victim_dir");
  std::ofstream(outside / "victim_file") << "victim";
  std::ofstream(jail / "sub" / "file") << "data";
  fs::create_symlink("../outside", jail / "up");
  fs::create_symlink(outside, jail / "abs_up");
  fs::create_symlink("sub/../../outside", jail / "deep");
  fs::create_symlink("../outside/victim_file", jail / "up_file");
  fs::create_symlink("../outside/victim_dir", jail / "sub" / "up2");
  ctx.fds.insert_at(4, preopen(jail, "/jail", false));

  // Old times on everything outside the jail, read back with stat (which changes none).
  const timespec old_times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  std::vector<fs::path> watched = {root, outside, outside / "victim_dir", outside / "victim_file"};
  auto stat_of = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st;
  };
  for (auto& p : watched) ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), old_times, AT_SYMLINK_NOFOLLOW), 0);
  std::vector<ino_t> outside_inodes;
  for (auto& p : watched) outside_inodes.push_back(stat_of(p).st_ino);

  std::vector<std::string> paths = {"..", "../", "..//", "../.", "./..", "sub/../..", "sub/../../", "sub/../../."};
  for (std::string link : {"up", "abs_up", "deep", "up_file", "sub/up2"}) {
    for (std::string end : {"", "/", "//", "/.", "/./", "/.//", "/..", "/../", "/victim_dir", "/victim_dir/",
                            "/victim_dir/.", "/victim_file", "/victim_file/"}) {
      paths.push_back(link + end);
    }
  }
  const uint16_t now = fstflags::atim_now | fstflags::mtim_now;
  for (const std::string& p : paths) {
    for (uint32_t follow : {0u, lookupflags::symlink_follow}) {
      SCOPED_TRACE(p + (follow ? " (follow)" : ""));
      (void)path_filestat_set_times(ctx, 4, follow, p, 0, 0, now);
      if (auto st = path_filestat_get(ctx, 4, follow, p)) {
        EXPECT_EQ(std::find(outside_inodes.begin(), outside_inodes.end(), st.value().ino), outside_inodes.end());
      }
      (void)path_create_directory(ctx, 4, p);
      (void)path_create_directory(ctx, 4, p + "/made");
      (void)path_remove_directory(ctx, 4, p);
      (void)path_unlink_file(ctx, 4, p);
      (void)path_readlink(ctx, 4, p, 64);
      (void)path_symlink(ctx, "x", 4, p);
      (void)path_symlink(ctx, "x", 4, p + "/made_link");
      (void)path_link(ctx, 4, follow, p, 4, "linked_in");
      (void)path_link(ctx, 4, follow, "sub/file", 4, p);
      (void)path_link(ctx, 4, follow, "sub/file", 4, p + "/made_hard");
      (void)path_rename(ctx, 4, p, 4, "renamed_in");
      if (fs::exists(jail / "renamed_in")) (void)path_rename(ctx, 4, "renamed_in", 4, p);
      std::ofstream(jail / "sub" / "movable") << "m";
      (void)path_rename(ctx, 4, "sub/movable", 4, p);
      (void)path_rename(ctx, 4, "sub/movable", 4, p + "/moved");
      for (uint16_t of : {uint16_t{0}, uint16_t(oflags::creat), uint16_t(oflags::creat | oflags::trunc),
                          uint16_t(oflags::directory)}) {
        if (auto fd = path_open(ctx, 4, follow, p, of, rights::all, rights::all, 0)) {
          auto st = fd_filestat_get(ctx, fd.value());
          EXPECT_TRUE(st);
          if (st) EXPECT_EQ(std::find(outside_inodes.begin(), outside_inodes.end(), st.value().ino), outside_inodes.end());
          (void)fd_close(ctx, fd.value());
        }
      }
    }
  }
  for (size_t i = 0; i < watched.size(); ++i) {
    auto st = stat_of(watched[i]);
    EXPECT_EQ(st.st_mtim.tv_sec, old_times[1].tv_sec) << watched[i];
    EXPECT_EQ(st.st_atim.tv_sec, old_times[0].tv_sec) << watched[i];
  }
  std::vector<std::string> outside_now, root_now;
  for (auto& e : fs::recursive_directory_iterator(outside)) outside_now.push_back(e.path().lexically_relative(outside));
  for (auto& e : fs::directory_iterator(root)) root_now.push_back(e.path().filename());
  std::sort(outside_now.begin(), outside_now.end());
  std::sort(root_now.begin(), root_now.end());
  EXPECT_EQ(outside_now, (std::vector<std::string>{"victim_dir", "victim_file"}));
  EXPECT_EQ(root_now, (std::vector<std::string>{"abs_link", "dangling_link", "jail", "ok_link", "outside", "rel_link", "sub"}));
  std::ifstream f(outside / "victim_file");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(f)), {}), "victim");
}

// What a trailing slash or a final `..` means inside the sandbox: POSIX's answers, the same on
// both resolvers.
TEST_P(path_fixture, trailing_slashes_and_dot_dot_mean_what_posix_says) {
  std::filesystem::create_symlink("sub", root / "to_sub");
  const uint16_t now = fstflags::atim_now | fstflags::mtim_now;
  // "link/" names the directory the link leads to, FOLLOW or not.
  EXPECT_TRUE(path_filestat_set_times(ctx, 3, 0, "to_sub/", 0, 0, now));
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "to_sub/").value().type, filetype::directory);
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "to_sub").value().type, filetype::symbolic_link);
  EXPECT_EQ(path_readlink(ctx, 3, "to_sub/", 64).error(), errc::inval);
  EXPECT_EQ(path_readlink(ctx, 3, "to_sub", 64).value(), "sub");
  // Calls that follow no name: a symlink with a slash is not a directory.
  EXPECT_EQ(path_remove_directory(ctx, 3, "to_sub/").error(), errc::notdir);
  EXPECT_EQ(path_unlink_file(ctx, 3, "to_sub/").error(), errc::notdir);
  EXPECT_EQ(path_unlink_file(ctx, 3, "sub/").error(), errc::isdir);
  EXPECT_EQ(path_rename(ctx, 3, "sub/file/", 3, "x").error(), errc::notdir);
  EXPECT_EQ(path_rename(ctx, 3, "sub/file", 3, "x/").error(), errc::notdir);
  EXPECT_EQ(path_symlink(ctx, "t", 3, "new_link/").error(), errc::noent);
  // A new symlink's name with a slash: exist on a directory (or a link to one), notdir on a
  // file (wasmtime's answers; wasi-testsuite path_symlink_trailing_slashes).
  EXPECT_EQ(path_symlink(ctx, "t", 3, "sub/file/").error(), errc::notdir);
  EXPECT_EQ(path_symlink(ctx, "t", 3, "sub/").error(), errc::exist);
  EXPECT_EQ(path_symlink(ctx, "t", 3, "to_sub/").error(), errc::exist);
  EXPECT_EQ(path_symlink(ctx, "t", 3, "sub").error(), errc::exist);
  EXPECT_EQ(path_link(ctx, 3, 0, "sub/file", 3, "new_hard/").error(), errc::noent);
  EXPECT_EQ(path_link(ctx, 3, 0, "sub/", 3, "new_hard").error(), errc::perm);
  EXPECT_TRUE(path_create_directory(ctx, 3, "made/"));
  EXPECT_TRUE(path_rename(ctx, 3, "made/", 3, "made2/"));
  EXPECT_TRUE(path_remove_directory(ctx, 3, "made2/"));
  // A final `..` or `.` names a directory: the one it leads to, never the one above the preopen.
  EXPECT_EQ(path_create_directory(ctx, 3, "sub/..").error(), errc::exist);
  EXPECT_EQ(path_create_directory(ctx, 3, "..").error(), errc::notcapable);
  EXPECT_EQ(path_filestat_set_times(ctx, 3, 0, "..", 0, 0, now).error(), errc::notcapable);
  EXPECT_TRUE(path_filestat_set_times(ctx, 3, 0, "sub/..", 0, 0, now));
  EXPECT_EQ(path_unlink_file(ctx, 3, "sub/..").error(), errc::isdir);
  EXPECT_FALSE(path_remove_directory(ctx, 3, "sub/.."));
  EXPECT_FALSE(path_rename(ctx, 3, "sub/..", 3, "x"));
  EXPECT_EQ(path_filestat_get(ctx, 3, 0, "sub").value().type, filetype::directory);
  // CREAT on a directory: isdir, and exist with EXCL, a final `.` or `..` alike; a name with a
  // trailing slash is isdir before any lookup, so no link there is followed and nothing made
  // (the kernel's open_last_lookups; both found by the path-resolver fuzzer's differential run).
  EXPECT_EQ(open("sub", 0, oflags::creat).error(), errc::isdir);
  EXPECT_EQ(open("sub/.", 0, oflags::creat).error(), errc::isdir);
  EXPECT_EQ(open("sub/.", 0, oflags::creat | oflags::excl).error(), errc::exist);
  EXPECT_EQ(open("sub/file/..", 0, oflags::creat | oflags::excl).error(), errc::notdir);
  EXPECT_EQ(open("to_sub/", 0, oflags::creat).error(), errc::isdir);
  EXPECT_EQ(open("dangling_link/", 0, oflags::creat).error(), errc::isdir);
  EXPECT_EQ(open("new_file/", 0, oflags::creat | oflags::excl).error(), errc::isdir);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(root / "new_file")));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(root / "dangling")));
}
}  // namespace
}  // namespace wasio::wasi
