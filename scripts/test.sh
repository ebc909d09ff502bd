#!/usr/bin/env bash
# The whole test suite: builds (installing what is missing) and runs CTest, then the same suite
# built with AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz harness for a short
# while (scripts/fuzz.sh). `--quick` skips the sanitizer pass and the fuzzing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
"$root/scripts/build.sh"
(cd "$root/build" && ctest -j "$jobs" --output-on-failure)
if [ "${1:-}" != --quick ]; then
  "$root/scripts/build.sh" --sanitize
  # LSan: the suppressions name only V8's process-lifetime allocations (see the file).
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd "$root/build-asan" && ctest -j "$jobs" --output-on-failure)
  "$root/scripts/fuzz.sh" "${WASIO_FUZZ_SECONDS:-30}"
fi
