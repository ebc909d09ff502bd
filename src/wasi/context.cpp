#include "src/wasi/context.hpp"
#include "src/wasi/memory_fs.hpp"

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

fd_entry entry_for(std::shared_ptr<resource> r) {
  fd_entry e;
  e.stat.type = r->type();
  e.stat.rights_base = r->rights();
  if (e.stat.type == filetype::directory) e.stat.rights_inheriting = rights::directory_inheriting;
  if (auto* s = r->host_stream(); s && s->is_append()) e.stat.flags = fdflags::append;
  e.res = std::move(r);
  return e;
}

outcome::result<fd_entry, preopen_error, outcome::policy::terminate> open_preopen(
    const std::string& host_path, std::string guest_path, bool read_only, bool overlay) {
  async::unique_fd fd(::open(host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return preopen_error{errno};
  auto dir = overlay ? memory_tree_root(make_memory_tree({}, std::move(fd))) : directory_resource(std::move(fd));
  return preopen_entry(std::move(dir), std::move(guest_path), read_only);
}

fd_entry preopen_entry(std::shared_ptr<resource> dir, std::string guest_path, bool read_only) {
  fd_entry e = entry_for(std::move(dir));
  e.is_preopen = true;
  e.preopen_name = std::move(guest_path);
  if (read_only) {
    e.stat.rights_base &= ~rights::writes;
    e.stat.rights_inheriting &= ~rights::writes;
  }
  return e;
}

}  // namespace wasio::wasi
