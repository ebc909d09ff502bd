#!/usr/bin/env bash
# Installs what is missing, configures and builds (incrementally) into build/ (or build-asan/
# with WASIO_SANITIZE=ON). Usage: scripts/build.sh [--sanitize] [targets...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
dir="$root/build"
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = --sanitize ]; then
  shift
  dir="$root/build-asan"
  opts=(-DCMAKE_BUILD_TYPE=Debug -DWASIO_SANITIZE=ON)
fi
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$dir" "${opts[@]}" >/dev/null
fi
jobs=$(nproc 2>/dev/null || echo 2)
if [ $# -gt 0 ]; then
  cmake --build "$dir" -j "$jobs" --target "$@"
else
  cmake --build "$dir" -j "$jobs"
fi
