// What an open fd refers to: a resource. The fd table (context.hpp) keeps, for each fd, the
// guest's view (rights, fd flags) and a shared resource; the fd_* and poll calls check rights and
// flags, then ask the resource. A resource answers for its kind: a pipe cannot seek (spipe), a
// directory cannot be read (isdir), so the calls do not test kinds themselves.
//
// The host implementations (host_resource.cpp) are files, pipes, terminals and sockets behind a
// host fd (async::host_stream) and directories (an fd opened beneath a preopen); an embedder's
// Asio stream (stream_resource.cpp) is one with no host fd at all. As wasi-common's WasiFile, as
// wasmer's VirtualFile.
#pragma once
#include <sys/uio.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "async/host_stream.hpp"
#include "src/wasi/abi.hpp"
#include "wasio/result.hpp"
#include "wasio/stream.hpp"

namespace wasio::wasi {

class resource {
 public:
  virtual ~resource() = default;

  // The file type fd_fdstat_get and fd_filestat_get report, and the rights an fd on it may have.
  virtual filetype type() const = 0;
  virtual uint64_t rights() const = 0;

  // fd_read / fd_write: at least one byte, EOF (0 bytes) or an error; suspends the caller while
  // the other end makes it wait. `flags` are the fd's (SYNC and DSYNC apply to files).
  virtual asio::awaitable<result<size>> read(std::span<const ::iovec> iov, uint16_t flags) = 0;
  virtual asio::awaitable<result<size>> write(std::span<const ::iovec> iov, uint16_t flags) = 0;
  // The same for an fd with NONBLOCK: one attempt, `again` when it would wait.
  virtual result<size> try_read(std::span<const ::iovec> iov) = 0;
  virtual result<size> try_write(std::span<const ::iovec> iov) = 0;
  // fd_pread / fd_pwrite, fd_seek / fd_tell: files only (streams: spipe).
  virtual asio::awaitable<result<size>> pread(std::span<const ::iovec> iov, filesize offset, uint16_t flags);
  virtual asio::awaitable<result<size>> pwrite(std::span<const ::iovec> iov, filesize offset, uint16_t flags);
  virtual result<filesize> seek(int64_t offset, whence w);

  // fd_filestat_get and the calls that change what it reports.
  virtual result<filestat> stat() = 0;
  virtual result<void> set_size(filesize size);
  virtual result<void> set_times(timestamp atim, timestamp mtim, uint16_t fst_flags);
  virtual result<void> advise(filesize offset, filesize len, uint8_t advice);
  virtual result<void> allocate(filesize offset, filesize len);
  virtual asio::awaitable<result<void>> sync(bool data_only);
  // fd_fdstat_set_flags: APPEND applied where the resource is the guest's alone.
  virtual result<void> set_append(bool on);

  // poll_oneoff: whether a read or write would proceed now; and a wait until it would (or the
  // wait is cancelled).
  virtual async::readiness poll(bool write) = 0;
  virtual asio::awaitable<void> wait(bool write) = 0;

  // ---- directories (any other resource answers notdir) ----------------------------------
  // Each path is resolved beneath this directory and confined to it: a path that would leave
  // it (`..`, absolute, a symlink leading out) is notcapable; one with a NUL is inval, an empty
  // one noent. Errors are those of the matching path_* call (wasi.hpp).
  struct open_request {
    uint16_t oflags = 0;
    uint16_t fdflags = 0;
    bool read = false, write = false;  // the rights asked for include reading, writing
    bool follow = false;               // LOOKUP_SYMLINK_FOLLOW
    asio::any_io_executor executor;    // the guest's worker: a stream opened waits on it
  };
  virtual result<std::shared_ptr<resource>> open_at(std::string_view path, const open_request& r);
  virtual result<filestat> stat_at(std::string_view path, bool follow);
  virtual result<void> set_times_at(std::string_view path, bool follow, timestamp atim, timestamp mtim,
                                    uint16_t fst_flags);
  virtual result<void> create_directory(std::string_view path);
  virtual result<void> remove_directory(std::string_view path);
  virtual result<void> unlink_file(std::string_view path);
  // Between this directory and `new_dir` (xdev if they cannot share a file, as two file
  // systems).
  virtual result<void> rename(std::string_view old_path, resource& new_dir, std::string_view new_path);
  virtual result<void> link(std::string_view old_path, bool follow, resource& new_dir, std::string_view new_path);
  virtual result<std::string> readlink(std::string_view path, size_t max);
  virtual result<void> symlink(std::string_view target, std::string_view path);
  // fd_readdir: the entries from `cookie` on, `.` and `..` included, until about `max_bytes`
  // of records. Cookies are positions in the listing.
  virtual result<std::vector<dirent>> readdir(uint64_t cookie, size_t max_bytes);

  // The host objects behind it, for the calls that are the kernel's own (sockets; rename and
  // link between two host directories): null / -1 for a resource that has none.
  virtual async::host_stream* host_stream() { return nullptr; }
  virtual int directory_fd() const { return -1; }
};

// A host fd as a resource: a regular file or block device (transfers through async/file_io), a
// pipe, FIFO or terminal (reopened non-blocking, waits on the reactor), a socket. `private_file`:
// the description is the guest's alone (a file it opened), so APPEND may be set on it.
std::shared_ptr<resource> host_resource(std::shared_ptr<async::host_stream> s, bool private_file = false);

// A host directory (an fd opened beneath a preopen, or the preopen itself).
std::shared_ptr<resource> directory_resource(async::unique_fd dir);

// An embedder's stream (include/wasio/stream.hpp), whose completions are delivered on `worker`,
// the guest's.
std::shared_ptr<resource> stream_resource_of(std::shared_ptr<guest_stream> s, const asio::any_io_executor& worker);

}  // namespace wasio::wasi
