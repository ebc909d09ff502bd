// file_io: regular-file reads and writes that never stall the worker thread.
//
// A read that misses the page cache (or a file on a slow network mount) blocks in the kernel;
// done on the worker thread it would freeze every guest on that worker. Each transfer is
// therefore tried once with RWF_NOWAIT, which completes inline when the data is cached (no
// suspension, the cost of a plain syscall); only when the kernel would block does it go to
// io_uring, or to a small blocking thread pool where io_uring is unavailable (old kernels,
// seccomp). docs/why-file-io.md has the measurements behind this default.
#pragma once
#include <sys/uio.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <span>

#include "async/host_stream.hpp"

namespace wasio::async {

enum class file_io_mode {
  nowait,  // default: RWF_NOWAIT inline, io_uring (or the pool) when the kernel would block
  sync,    // plain syscalls on the worker thread (what most WASI hosts do)
  uring,   // every transfer through the worker's io_uring
  pool,    // every transfer on the blocking thread pool
};

// The mode transfers use from now on (process-wide). Initially from the environment variable
// WASIO_FILE_IO (nowait|sync|uring|pool), for benchmarks; nowait otherwise.
file_io_mode get_file_io_mode();
void set_file_io_mode(file_io_mode mode);
// Parses a mode name; nullopt for an unknown one.
std::optional<file_io_mode> parse_file_io_mode(std::string_view name);

// Reads (write == false) or writes `iov` on host file `fd` at `offset`, or at the file position
// (advancing it, appending under O_APPEND) when there is none, running completion on `ex`. Only
// the calling thread touches the buffers: a transfer done elsewhere goes through a buffer of its
// own (at most 1 MiB of it then, a short transfer beyond that). The
// buffers and `fd` must stay valid until it completes: the io_context's shutdown waits for
// transfers in flight before it destroys the suspended coroutines that own them. `synced`: the
// file was opened with O_SYNC or O_DSYNC, so a write waits for the disk and is never done on
// the calling thread (except in the `sync` mode).
asio::awaitable<io_result> file_transfer(const asio::any_io_executor& ex, int fd,
                                         std::span<const ::iovec> iov,
                                         std::optional<uint64_t> offset, bool write,
                                         bool synced = false);

// fsync (or fdatasync when `data_only`) of host file `fd`, off the calling thread except in
// the `sync` mode.
asio::awaitable<io_result> file_sync(const asio::any_io_executor& ex, int fd, bool data_only);

}  // namespace wasio::async
