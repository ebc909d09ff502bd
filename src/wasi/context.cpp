#include "src/wasi/context.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace wasio::wasi {

result<fd_entry*> fd_table::get(fd_t fd, uint64_t needed) {
  if (fd >= entries_.size() || !entries_[fd]) return errc::badf;
  fd_entry& e = *entries_[fd];
  if ((e.stat.rights_base & needed) != needed) return errc::notcapable;
  return &e;
}

result<fd_t> fd_table::insert(fd_entry e) {
  if (open_ >= limit_) return errc::mfile;
  ++open_;
  for (fd_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i]) {
      entries_[i].emplace(std::move(e));
      return i;
    }
  }
  entries_.emplace_back(std::move(e));
  return static_cast<fd_t>(entries_.size() - 1);
}

void fd_table::insert_at(fd_t fd, fd_entry e) {
  if (fd >= entries_.size()) entries_.resize(fd + 1);
  if (!entries_[fd]) ++open_;
  entries_[fd].emplace(std::move(e));
}

result<void> fd_table::close(fd_t fd) {
  if (fd >= entries_.size() || !entries_[fd]) return errc::badf;
  entries_[fd].reset();
  --open_;
  while (!entries_.empty() && !entries_.back()) entries_.pop_back();
  return ok();
}

result<void> fd_table::renumber(fd_t from, fd_t to) {
  WASIO_TRY(src, get(from));
  if (from == to) return ok();
  if (to >= entries_.size() && (to >= std::min(limit_, kSparseNumbers))) return errc::badf;
  fd_entry moved = std::move(*src);
  (void)close(from);
  insert_at(to, std::move(moved));  // the old `to`, if any, is closed as its entry is replaced
  return ok();
}

fd_entry stdio_entry(std::shared_ptr<async::host_stream> s) {
  using kind = async::host_stream::kind;
  fd_entry e;
  switch (s->type()) {
    case kind::regular_file:
      e.stat.type = filetype::regular_file;
      e.stat.rights_base = rights::regular_file;
      break;
    case kind::character_device:
      e.stat.type = filetype::character_device;
      // A terminal has no seek rights (wasi-libc's isatty test); /dev/null and friends do.
      e.stat.rights_base = ::isatty(s->native_handle()) ? rights::stream
                                                          : rights::stream | rights::fd_seek | rights::fd_tell;
      break;
    case kind::socket_stream:
    case kind::socket_dgram:
      return socket_entry(std::move(s));
    case kind::block_device:
      e.stat.type = filetype::block_device;
      e.stat.rights_base = rights::regular_file;
      break;
    default:
      // Pipes have no preview1 file type; wasmtime reports them as `unknown` too. They may be
      // asked to seek (and answer spipe), as programs probe seekability that way.
      e.stat.type = filetype::unknown;
      e.stat.rights_base = rights::stream | rights::fd_seek | rights::fd_tell;
  }
  e.stat.flags = s->is_append() ? fdflags::append : 0;
  e.stream = std::move(s);
  return e;
}

fd_entry socket_entry(std::shared_ptr<async::host_stream> s) {
  fd_entry e;
  e.stat.type = s->type() == async::host_stream::kind::socket_dgram ? filetype::socket_dgram : filetype::socket_stream;
  e.stat.rights_base = rights::socket;
  e.stream = std::move(s);
  return e;
}

outcome::result<fd_entry, preopen_error, outcome::policy::terminate> open_preopen(
    const std::string& host_path, std::string guest_path, bool read_only) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return preopen_error{errno};
  fd_entry e;
  e.dir.reset(fd);
  e.is_preopen = true;
  e.preopen_name = std::move(guest_path);
  e.stat.type = filetype::directory;
  e.stat.rights_base = rights::directory;
  e.stat.rights_inheriting = rights::directory_inheriting;
  if (read_only) {
    e.stat.rights_base &= ~rights::writes;
    e.stat.rights_inheriting &= ~rights::writes;
  }
  return e;
}

}  // namespace wasio::wasi
