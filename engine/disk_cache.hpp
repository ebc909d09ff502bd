// The persistent cache of rewritten modules: the asyncify rewrite of a big module takes seconds
// to minutes (ENGINE-FACTS.md), so its result is kept between runs, on disk.
//
// One file per entry, named by the SHA-256 of everything the rewrite depends on (the input bytes
// and the rewrite's settings). Written to a temporary file and renamed into place, so another
// process reading concurrently sees a whole entry or none; an entry that fails its own checks
// when read is removed and counts as a miss. Bounded in size: after a store, the least recently
// used entries go (a hit touches its file) until the cache is under the bound.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/byte_buffer.hpp"

namespace wasio::engine {

class disk_cache {
 public:
  // The cache in `dir`: when empty, $WASIO_CACHE_DIR, else $XDG_CACHE_HOME/wasio, else
  // ~/.cache/wasio. Null when disabled ("off", or WASIO_CACHE=off) or the directory cannot be
  // made: wasio then works without it.
  static std::shared_ptr<const disk_cache> open(const std::string& dir, uint64_t max_bytes);

  // The SHA-256, in hex, of `parts` in order (each length-prefixed, so parts cannot run into
  // one another).
  static std::string key(std::initializer_list<std::span<const uint8_t>> parts);

  std::optional<byte_buffer> get(const std::string& key) const;
  // Best effort: a full disk or a lost race only means no entry.
  void put(const std::string& key, std::string_view value) const;
  // Removes an entry that turned out to be bad.
  void drop(const std::string& key) const;

 private:
  disk_cache(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  std::string path_of(const std::string& key) const;
  void evict() const;

  std::string dir_;
  uint64_t max_bytes_;
};

}  // namespace wasio::engine
