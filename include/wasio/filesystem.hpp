// memory_fs: a directory tree held in memory, that guests are given as a preopen
// (preopen::of(fs, "/data")) and the embedder reads and writes from its side.
//
//  - memory_fs::make(): an empty tree;
//  - memory_fs::overlay(host_path): the host directory read through: its entries, attributes
//    and symlinks are read when the guest first looks at a directory, a file's contents are
//    read from the host until it is first changed (then copied into memory), and every change
//    (create, write, truncate, rename, remove, link, symlink, set-times) stays in the tree.
//    Nothing is ever written to the host directory.
//
// A guest cannot tell it from a host directory by what preview1 shows (errnos, readdir cookies,
// nanosecond times, symlinks), except ino and dev numbers, which are the tree's own. The sandbox
// is the same: paths never leave the tree (`..` above the preopen, absolute symlinks:
// notcapable). Contents beyond `limits` are refused with nospc, as a full disk.
//
// One tree may be given to many guests at once, on any workers, and used by the embedder from
// any thread: every call takes the tree's lock. A preopen::memory or preopen::overlay instead
// gives each guest a tree of its own, dropped when the guest ends.
#pragma once
#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasio/result.hpp"

namespace wasio {
namespace wasi {
class memory_tree;
}

// A file of the embedder's own, placed in a memory_fs (memory_fs::add_file): the guest's reads
// and writes of it are these calls, made on the guest's worker thread. Each is an awaitable on
// that worker's executor and may suspend the guest (not the worker) while it waits for, say, a
// database or the network. Everything else (its names, links, times, listing) is the tree's.
// An fd with NONBLOCK on it answers `again` (its calls cannot complete without waiting).
class guest_file {
 public:
  virtual ~guest_file() = default;
  // Its size now, for stat, seek and APPEND. Called under the tree's lock: keep it quick.
  virtual uint64_t size() const = 0;
  // Up to buf.size() bytes from `offset`; fewer only at the end, 0 past it.
  virtual asio::awaitable<result<std::size_t>> read_at(uint64_t offset, std::span<std::byte> buf) = 0;
  // A file that is not writable is refused to an open for writing (acces, as without permission).
  virtual bool writable() const { return false; }
  virtual asio::awaitable<result<std::size_t>> write_at(uint64_t offset, std::span<const std::byte> buf);
  virtual result<void> resize(uint64_t size);
};

class memory_fs {
 public:
  struct limits {
    uint64_t max_bytes = 1ull << 30;  // file contents held in memory
    uint64_t max_entries = 1u << 20;  // files, directories and symlinks
  };

  static std::shared_ptr<memory_fs> make(const limits& l);
  static std::shared_ptr<memory_fs> make() { return make(limits{}); }
  // The host directory's errno when it cannot be opened (noent, notdir, acces, ...).
  static result<std::shared_ptr<memory_fs>> overlay(const std::string& host_path, const limits& l);
  static result<std::shared_ptr<memory_fs>> overlay(const std::string& host_path) { return overlay(host_path, limits{}); }

  // The embedder's side, with paths relative to the root, resolved as a guest's are (symlinks
  // followed, confined to the tree) and the errnos a guest would get.
  // Creates the file or replaces its contents; read_file reads one (not a guest_file: notsup).
  result<void> write_file(std::string_view path, std::string_view contents);
  result<std::string> read_file(std::string_view path);
  result<void> create_directory(std::string_view path);
  result<void> symlink(std::string_view target, std::string_view path);
  // `file` under a new name (exist if the name is taken).
  result<void> add_file(std::string_view path, std::shared_ptr<guest_file> file);
  // A file or symlink, or an empty directory.
  result<void> remove(std::string_view path);
  // The names in a directory ("" or "." for the root), `.` and `..` left out, in the order
  // they were made (fd_readdir's).
  result<std::vector<std::string>> list(std::string_view path);
  // Bytes of file contents held in memory now.
  uint64_t bytes() const;

  // For wasio: the tree behind it.
  const std::shared_ptr<wasi::memory_tree>& tree() const { return tree_; }
  explicit memory_fs(std::shared_ptr<wasi::memory_tree> t) : tree_(std::move(t)) {}

 private:
  std::shared_ptr<wasi::memory_tree> tree_;
};

}  // namespace wasio
