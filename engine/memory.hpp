// The engine's view of guest memory is the public one (include/wasio/memory.hpp): one
// bounds-checked implementation for the WASI thunks and the embedder's host functions.
#pragma once
#include "wasio/memory.hpp"

namespace wasio::engine {
using wasio::guest_memory;
using wasio::detail::memory_source;
}  // namespace wasio::engine
