// In-memory directory trees as resources: an empty tree (memory_fs), or a host directory read
// through with every change kept in memory (an overlay). The public face is
// include/wasio/filesystem.hpp; docs/why-memory-fs.md says why it is built so.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "async/unique_fd.hpp"
#include "src/wasi/resource.hpp"
#include "wasio/filesystem.hpp"
#include "wasio/result.hpp"

namespace wasio::wasi {

struct memory_tree_limits {
  uint64_t max_bytes = 1ull << 30;  // bytes of file contents held in memory (nospc beyond)
  uint64_t max_nodes = 1u << 20;    // files, directories and symlinks (nospc beyond)
};

// The tree itself: shared by every resource on it, and thread-safe (one lock orders the calls
// of every guest and of the embedder that use it).
class memory_tree;

// An empty tree, or (`host_root` a directory fd) an overlay of that host directory: its entries
// are read when first looked at, file contents are read from the host until written, and
// nothing is ever written there.
std::shared_ptr<memory_tree> make_memory_tree(const memory_tree_limits& limits, async::unique_fd host_root = {});

// The tree's root directory as a resource (a preopen).
std::shared_ptr<resource> memory_tree_root(const std::shared_ptr<memory_tree>& tree);

// The bytes of file contents the tree holds in memory now (copied-up overlay files included).
uint64_t memory_tree_bytes(const memory_tree& tree);

// An embedder's file (include/wasio/filesystem.hpp) under a new name `path` in the tree.
result<void> add_guest_file(memory_tree& tree, std::string_view path, std::shared_ptr<guest_file> file);

}  // namespace wasio::wasi
