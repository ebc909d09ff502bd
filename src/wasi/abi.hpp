// WASI preview1 types in host form: the enums and flags of wasi_snapshot_preview1.witx with their
// ABI values, and the host-side shape of the records the calls exchange. Guest-memory layouts
// (offsets, sizes) live in engine/, which alone reads guest memory.
// Spec: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace wasio::wasi {

using fd_t = uint32_t;
using size = uint32_t;
using filesize = uint64_t;
using timestamp = uint64_t;  // nanoseconds
using userdata = uint64_t;

enum class clockid : uint32_t { realtime = 0, monotonic = 1, process_cputime_id = 2, thread_cputime_id = 3 };

enum class filetype : uint8_t {
  unknown = 0, block_device = 1, character_device = 2, directory = 3, regular_file = 4,
  socket_dgram = 5, socket_stream = 6, symbolic_link = 7,
};

// fdflags (u16)
namespace fdflags {
inline constexpr uint16_t append = 1 << 0, dsync = 1 << 1, nonblock = 1 << 2, rsync = 1 << 3,
                          sync = 1 << 4;
inline constexpr uint16_t all = append | dsync | nonblock | rsync | sync;
}  // namespace fdflags

// rights (u64)
namespace rights {
inline constexpr uint64_t fd_datasync = 1ull << 0, fd_read = 1ull << 1, fd_seek = 1ull << 2,
    fd_fdstat_set_flags = 1ull << 3, fd_sync = 1ull << 4, fd_tell = 1ull << 5, fd_write = 1ull << 6,
    fd_advise = 1ull << 7, fd_allocate = 1ull << 8, path_create_directory = 1ull << 9,
    path_create_file = 1ull << 10, path_link_source = 1ull << 11, path_link_target = 1ull << 12,
    path_open = 1ull << 13, fd_readdir = 1ull << 14, path_readlink = 1ull << 15,
    path_rename_source = 1ull << 16, path_rename_target = 1ull << 17,
    path_filestat_get = 1ull << 18, path_filestat_set_size = 1ull << 19,
    path_filestat_set_times = 1ull << 20, fd_filestat_get = 1ull << 21,
    fd_filestat_set_size = 1ull << 22, fd_filestat_set_times = 1ull << 23, path_symlink = 1ull << 24,
    path_remove_directory = 1ull << 25, path_unlink_file = 1ull << 26,
    poll_fd_readwrite = 1ull << 27, sock_shutdown = 1ull << 28, sock_accept = 1ull << 29;
inline constexpr uint64_t all = (1ull << 30) - 1;

// What a stream (pipe, terminal, socket) may do. No seek/tell: wasi-libc's isatty() is
// "character device without seek rights", so granting them would break line buffering.
inline constexpr uint64_t stream = fd_read | fd_write | fd_fdstat_set_flags | fd_filestat_get |
                                   poll_fd_readwrite | fd_sync | fd_datasync;
inline constexpr uint64_t regular_file = stream | fd_seek | fd_tell | fd_advise | fd_allocate |
                                         fd_filestat_set_size | fd_filestat_set_times;
// A socket: a stream that can be shut down, and accept if it listens (the kernel says whether).
inline constexpr uint64_t socket = stream | sock_shutdown | sock_accept;
// A directory and what files opened beneath it inherit.
inline constexpr uint64_t directory = fd_fdstat_set_flags | fd_sync | fd_datasync | fd_advise |
    path_create_directory | path_create_file | path_link_source | path_link_target | path_open |
    fd_readdir | path_readlink | path_rename_source | path_rename_target | path_filestat_get |
    path_filestat_set_size | path_filestat_set_times | fd_filestat_get | fd_filestat_set_times |
    path_symlink | path_remove_directory | path_unlink_file;
inline constexpr uint64_t directory_inheriting = directory | regular_file;
// Rights that change the file system, removed from a read-only preopen.
inline constexpr uint64_t writes = fd_write | fd_allocate | fd_filestat_set_size |
    fd_filestat_set_times | path_create_directory | path_create_file | path_link_source |
    path_link_target | path_rename_source | path_rename_target | path_filestat_set_size |
    path_filestat_set_times | path_symlink | path_remove_directory | path_unlink_file | fd_datasync |
    fd_sync;
}  // namespace rights

enum class whence : uint8_t { set = 0, cur = 1, end = 2 };

enum class eventtype : uint8_t { clock = 0, fd_read = 1, fd_write = 2 };

namespace subclockflags {
inline constexpr uint16_t abstime = 1;
}
namespace eventrwflags {
inline constexpr uint16_t hangup = 1;
}

// oflags (u16) of path_open
namespace oflags {
inline constexpr uint16_t creat = 1, directory = 2, excl = 4, trunc = 8;
}
// fstflags (u16) of *_set_times
namespace fstflags {
inline constexpr uint16_t atim = 1, atim_now = 2, mtim = 4, mtim_now = 8;
}
// advice (u8) of fd_advise: normal 0 ... noreuse 5
inline constexpr uint8_t advice_max = 5;

// riflags (u16) of sock_recv, roflags (u16) of its result, sdflags (u8) of sock_shutdown.
namespace riflags {
inline constexpr uint16_t recv_peek = 1, recv_waitall = 2;
}
namespace roflags {
inline constexpr uint16_t recv_data_truncated = 1;
}
namespace sdflags {
inline constexpr uint8_t rd = 1, wr = 2;
}

// ---- the WasmEdge socket extension (v2, as stealthrocket/wasi-go serves it) ----------------
// Enums from WasmEdge's thirdparty/wasi/api.hpp and wasi-go's socket.go, which agree.
enum class address_family : uint8_t { unspec = 0, inet4 = 1, inet6 = 2, unix_path = 3 };
enum class sock_type : uint8_t { any = 0, dgram = 1, stream = 2 };
enum class protocol : uint8_t { ip = 0, tcp = 1, udp = 2 };
// Option levels and names of sock_getsockopt/sock_setsockopt: SOL_SOCKET is 0; level 6 with
// name 15 is TCP_NODELAY (a wasi-go addition).
namespace sockopt {
inline constexpr uint32_t sol_socket = 0, sol_tcp = 6;
inline constexpr uint32_t reuseaddr = 0, type = 1, error = 2, dontroute = 3, broadcast = 4, sndbuf = 5,
                          rcvbuf = 6, keepalive = 7, oobinline = 8, linger = 9, rcvlowat = 10, rcvtimeo = 11,
                          sndtimeo = 12, acceptconn = 13, bindtodevice = 14, tcp_nodelay = 15;
}  // namespace sockopt
// getaddrinfo hint flags (aiflags, u16).
namespace aiflags {
inline constexpr uint16_t passive = 1, canonname = 2, numerichost = 4, numericserv = 8, v4mapped = 16,
                          all = 32, addrconfig = 64;
}

// An IP socket address in the extension's terms: the family, the address bytes in network
// order (4 of them for inet4) and the port in host order.
struct sock_endpoint {
  address_family family = address_family::unspec;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
};

// What sock_getaddrinfo is asked for: aiflags, and unspec/any/ip for "any".
struct addrinfo_hints {
  uint16_t flags = 0;
  address_family family = address_family::unspec;
  sock_type type = sock_type::any;
  protocol proto = protocol::ip;
};

// One result of sock_getaddrinfo.
struct addrinfo_entry {
  sock_type type = sock_type::any;
  protocol proto = protocol::ip;
  sock_endpoint addr;
};

// lookupflags (u32)
namespace lookupflags {
inline constexpr uint32_t symlink_follow = 1;
}

struct filestat {
  uint64_t dev = 0, ino = 0;
  filetype type = filetype::unknown;
  uint64_t nlink = 0, size = 0;
  timestamp atim = 0, mtim = 0, ctim = 0;
};

// One directory entry for fd_readdir; `next` is the cookie of the entry after it.
struct dirent {
  uint64_t next = 0;
  uint64_t ino = 0;
  filetype type = filetype::unknown;
  std::string name;
};

struct fdstat {
  filetype type = filetype::unknown;
  uint16_t flags = 0;
  uint64_t rights_base = 0;
  uint64_t rights_inheriting = 0;
};

// One poll_oneoff subscription, decoded.
struct subscription {
  userdata user = 0;
  eventtype type = eventtype::clock;
  // clock
  uint32_t clock_id = 0;
  timestamp timeout = 0;
  timestamp precision = 0;
  uint16_t clock_flags = 0;
  // fd_read / fd_write
  fd_t fd = 0;
};

// One poll_oneoff event, to be encoded.
struct event {
  userdata user = 0;
  uint16_t error = 0;  // an errc
  eventtype type = eventtype::clock;
  filesize nbytes = 0;
  uint16_t flags = 0;  // eventrwflags
};

}  // namespace wasio::wasi
