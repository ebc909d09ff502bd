#!/usr/bin/env bash
# The libFuzzer harnesses of fuzz/, each for SECONDS (default 60). The library is built with
# clang, instrumented for coverage with ASan and UBSan, into build-fuzz/ (WASIO_FUZZ=ON); each
# harness then runs from its corpus in WASIO_FUZZ_DIR (default build-fuzz/findings), which a
# longer run grows. A crash, a leak or a timeout leaves its input there and fails the script.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     harnesses: wasm_summary layout_codecs path_resolver
#                                             import_abi (default: all)
# WASIO_FUZZ_SEED fixes libFuzzer's seed (scripts/test.sh sets it, so that a CI run's finding
# can be found again by the same command); unset, each run explores anew.
# scripts/test.sh runs each for a short while; the closing notes give longer runs' figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(wasm_summary layout_codecs path_resolver import_abi)
"$root/scripts/install-deps.sh"
cxx=$(command -v clang++-19 || command -v clang++-14 || true)
[ -n "$cxx" ] || { echo "fuzz.sh: no clang++-19 or clang++-14" >&2; exit 1; }
dir="$root/build-fuzz"
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CXX="$cxx" cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWASIO_FUZZ=ON -DWASIO_TESTS=OFF >/dev/null
fi
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target "${harnesses[@]/#/fuzz_}" | grep -v '^\[' || true
out=${WASIO_FUZZ_DIR:-$dir/findings}
mkdir -p "$out"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
status=0
for h in "${harnesses[@]}"; do
  corpus="$out/$h-corpus"
  mkdir -p "$corpus"
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
  [ -n "${WASIO_FUZZ_SEED:-}" ] && args+=(-seed="$WASIO_FUZZ_SEED")
  case "$h" in
    wasm_summary)
      args+=(-max_len=65536)
      # Seeds: the real modules the tests build, where a build has them.
      for d in ${WASIO_FUZZ_SEEDS:-} "$root/build/guests" "$root/build-asan/guests"; do
        [ -d "$d" ] && find "$d" -maxdepth 1 -name '*.wasm' -size -300k -exec cp -n {} "$corpus/" \; 2>/dev/null
      done ;;
    layout_codecs) args+=(-max_len=2048) ;;
    path_resolver) args+=(-max_len=1024) ;;
    # No leak check between inputs: V8 keeps pointers to its allocations in pages it maps
    # itself, which LeakSanitizer does not scan, so mid-run checks see V8's live heap as leaked
    # (the ASan test suite checks leaks at exit, when isolates are gone). Growth shows in the
    # harness's fd check and libFuzzer's RSS and malloc limits.
    import_abi) args+=(-max_len=4096 -dict="$root/fuzz/import_abi.dict" -detect_leaks=0 -rss_limit_mb=3072 -len_control=0) ;;
    *) echo "fuzz.sh: no harness $h" >&2; exit 2 ;;
  esac
  # The in-tree corpus (fuzz/corpus/HARNESS, minimized from long runs) seeds each run; new
  # inputs go to the first directory, the one in $out.
  seeds=()
  [ -d "$root/fuzz/corpus/$h" ] && seeds=("$root/fuzz/corpus/$h")
  echo "fuzz.sh: $h for ${seconds}s" >&2
  if (cd "$out" && WASIO_FUZZ_DIR="$out" "$dir/fuzz_$h" "${args[@]}" "$corpus" "${seeds[@]}" > "$out/$h.log" 2>&1); then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$out/$h.log" >&2 || true
  else
    grep -m1 '^INFO: Seed:' "$out/$h.log" >&2 || true
    tail -60 "$out/$h.log" >&2
    echo "fuzz.sh: $h FAILED; its input is in $out (crash-*, leak-*, timeout-*)" >&2
    status=1
  fi
done
exit $status
