// Host file attributes in WASI's terms, for the host resources and the path calls.
#pragma once
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <array>
#include <string>

#include <asio/awaitable.hpp>

#include "async/unique_fd.hpp"
#include "src/wasi/abi.hpp"
#include "wasio/result.hpp"

namespace wasio::wasi {

inline filetype type_of(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return filetype::regular_file;
    case S_IFDIR: return filetype::directory;
    case S_IFCHR: return filetype::character_device;
    case S_IFBLK: return filetype::block_device;
    case S_IFLNK: return filetype::symbolic_link;
    case S_IFSOCK: return filetype::socket_stream;
    default: return filetype::unknown;
  }
}

inline filetype dirent_type(unsigned char t) {
  switch (t) {
    case DT_REG: return filetype::regular_file;
    case DT_DIR: return filetype::directory;
    case DT_CHR: return filetype::character_device;
    case DT_BLK: return filetype::block_device;
    case DT_LNK: return filetype::symbolic_link;
    case DT_SOCK: return filetype::socket_stream;
    default: return filetype::unknown;
  }
}

inline timestamp ns(const timespec& t) {
  return static_cast<timestamp>(t.tv_sec) * 1'000'000'000u + static_cast<timestamp>(t.tv_nsec);
}

inline filestat to_filestat(const struct stat& st) {
  return filestat{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), type_of(st.st_mode),
                  static_cast<uint64_t>(st.st_nlink), static_cast<uint64_t>(st.st_size), ns(st.st_atim),
                  ns(st.st_mtim), ns(st.st_ctim)};
}

// The two timespecs of futimens/utimensat for fst_flags: a time and its NOW flag together, or an
// unknown flag, are inval.
inline result<std::array<timespec, 2>> host_times(timestamp atim, timestamp mtim, uint16_t fl) {
  if (fl & ~(fstflags::atim | fstflags::atim_now | fstflags::mtim | fstflags::mtim_now)) return errc::inval;
  if ((fl & fstflags::atim) && (fl & fstflags::atim_now)) return errc::inval;
  if ((fl & fstflags::mtim) && (fl & fstflags::mtim_now)) return errc::inval;
  auto one = [](timestamp t, bool set, bool now) {
    if (now) return timespec{0, UTIME_NOW};
    if (!set) return timespec{0, UTIME_OMIT};
    return timespec{static_cast<time_t>(t / 1'000'000'000u), static_cast<long>(t % 1'000'000'000u)};
  };
  return std::array<timespec, 2>{one(atim, fl & fstflags::atim, fl & fstflags::atim_now),
                                 one(mtim, fl & fstflags::mtim, fl & fstflags::mtim_now)};
}

// The calls of the kernel on a host fd, file or directory, for the host resources. For
// host_fd_sync (off the worker thread: a flush waits for the disk), the caller keeps the fd
// open until it completes.
result<filestat> host_fd_stat(int fd);
result<void> host_fd_set_size(int fd, filesize size);
result<void> host_fd_set_times(int fd, timestamp atim, timestamp mtim, uint16_t fst_flags);
result<void> host_fd_advise(int fd, filesize offset, filesize len, uint8_t advice);
result<void> host_fd_allocate(int fd, filesize offset, filesize len);
asio::awaitable<result<void>> host_fd_sync(int fd, bool data_only);

// Opens `path` beneath directory `dirfd` and confined to it (openat2's RESOLVE_BENEATH, or a
// component walk where the kernel has no openat2): host_directory.cpp.
result<async::unique_fd> open_beneath(int dirfd, const std::string& path, int flags, bool follow);

}  // namespace wasio::wasi
