// Runs of resident pages, as mincore(2) reports them: what guest memory costs in RAM.
#pragma once
#include <cstddef>
#include <span>

namespace wasio::engine {

// Calls f(first, count) for each run of consecutive pages that `resident` (mincore's vector)
// marks resident.
template <class F>
void for_each_resident_run(std::span<const unsigned char> resident, F&& f) {
  for (size_t i = 0; i < resident.size();) {
    if (!(resident[i] & 1)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < resident.size() && (resident[j] & 1)) ++j;
    f(i, j - i);
    i = j;
  }
}

}  // namespace wasio::engine
