// stream_filter: pipes a file through a wasm filter guest (upper.wasm: ASCII to upper case)
// into another file, on one thread and one io_context, without holding the file in memory:
// the embedder co_awaits writing the guest's stdin and reading its stdout, and the pipes'
// backpressure paces all three (the file reader, the guest and the file writer).
//
//   stream_filter INPUT OUTPUT
#include <fcntl.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "wasio/as_tuple.hpp"
#include "wasio/wasio.hpp"

namespace {

long peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  }
  return 0;
}

// Copies the file `in` into the guest's stdin, then closes it (the guest sees EOF).
asio::awaitable<void> feed(int in, asio::posix::stream_descriptor to_guest) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());  // a regular file: never waits for long
    if (n <= 0) break;
    co_await asio::async_write(to_guest, asio::buffer(buf.data(), static_cast<size_t>(n)), asio::use_awaitable);
  }
}

// Copies the guest's stdout into the file `out` until the guest closes it; returns the bytes.
asio::awaitable<size_t> drain(asio::posix::stream_descriptor from_guest, int out) {
  std::vector<char> buf(64 * 1024);
  size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await from_guest.async_read_some(asio::buffer(buf),
                                                       wasio::as_tuple(asio::use_awaitable));
    if (ec) break;  // EOF: the guest ended
    for (size_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, n - off);
      if (w < 0) co_return total;
      off += static_cast<size_t>(w);
    }
    total += n;
  }
  co_return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: stream_filter INPUT OUTPUT\n");
    return 2;
  }
  int in = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  int out = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) {
    std::fprintf(stderr, "stream_filter: %s: %s\n", in < 0 ? argv[1] : argv[2], std::strerror(errno));
    return 1;
  }
  asio::io_context io;
  wasio::runtime rt(wasio::runtime_options{0, &io});  // guests run on this thread
  auto filter = rt.load_file(WASIO_SAMPLE_GUESTS "/upper.wasm");
  auto stdin_pipe = wasio::make_stdin_pipe(io.get_executor());
  auto stdout_pipe = wasio::make_output_pipe(io.get_executor());
  if (!filter || !stdin_pipe || !stdout_pipe) {
    std::fprintf(stderr, "stream_filter: %s\n",
                 !filter ? filter.error().c_str() : !stdin_pipe ? stdin_pipe.error().c_str() : stdout_pipe.error().c_str());
    return 1;
  }
  wasio::config cfg;
  cfg.args = {"upper"};
  cfg.stdio.hand_over_in(stdin_pipe.value());
  cfg.stdio.hand_over_out(stdout_pipe.value());

  auto t0 = std::chrono::steady_clock::now();
  std::optional<wasio::exit_status> status;
  size_t bytes = 0;
  asio::co_spawn(io, rt.async_run(filter.value(), std::move(cfg), asio::use_awaitable),
                 [&](std::exception_ptr, wasio::exit_status s) { status = s; });
  asio::co_spawn(io, feed(in, std::move(stdin_pipe.value().embedder)), asio::detached);
  asio::co_spawn(io, drain(std::move(stdout_pipe.value().embedder), out),
                 [&](std::exception_ptr, size_t n) { bytes = n; });
  io.run();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(in);
  ::close(out);
  if (!status || status->how != wasio::exit_status::kind::exited || status->code != 0) {
    std::fprintf(stderr, "stream_filter: the filter failed: %s\n", status ? status->message.c_str() : "no status");
    return 1;
  }
  std::printf("%zu bytes filtered in %.2f s (%.0f MB/s), peak RSS %ld MiB\n", bytes, s, bytes / s / 1e6,
              peak_rss_mib());
  return 0;
}
