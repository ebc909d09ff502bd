#!/usr/bin/env bash
# The fuzz harnesses in fuzz/ with libFuzzer (clang's -fsanitize=fuzzer, with ASan and UBSan),
# each for SECONDS (default 60), from the seed corpus of the test guests; a crash leaves its
# input in the output directory (WASIO_FUZZ_DIR, default build-fuzz/) and fails. CTest runs it
# for 10 s (fuzz.* tests); without a clang that has libFuzzer it exits 77 (skipped).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
cxx=$(command -v clang++-19 || command -v clang++-14 || command -v clang++ || true)
[ -n "$cxx" ] || { echo "fuzz.sh: skipped: no clang++" >&2; exit 77; }
out=${WASIO_FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out"
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(wasm_summary)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$root" -I"$root/include")
for h in "${harnesses[@]}"; do
  case "$h" in
    wasm_summary) srcs=("$root/fuzz/wasm_summary_fuzz.cpp" "$root/engine/wasm_summary.cpp") ;;
    *) echo "fuzz.sh: no harness $h" >&2; exit 2 ;;
  esac
  bin="$out/$h"
  if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$root/engine/wasm_summary.hpp" -newer "$bin")" ]; then
    if ! "$cxx" "${flags[@]}" "${srcs[@]}" -o "$bin" 2> "$out/$h.build.log"; then
      # Debian ships libFuzzer's runtime apart from clang (libclang-rt-N-dev on Debian 13).
      if grep -q "fuzzer" "$out/$h.build.log"; then echo "fuzz.sh: skipped: $cxx has no libFuzzer" >&2; exit 77; fi
      cat "$out/$h.build.log" >&2
      exit 1
    fi
  fi
  corpus="$out/$h-corpus"
  mkdir -p "$corpus"
  # Seeds: the real modules the tests build, where a build has them.
  for d in ${WASIO_FUZZ_SEEDS:-} "$root/build/guests" "$root/build-asan/guests"; do
    [ -d "$d" ] && find "$d" -maxdepth 1 -name '*.wasm' -size -300k -exec cp -n {} "$corpus/" \; 2>/dev/null
  done
  (cd "$out" && "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tail -12)
done
