#!/usr/bin/env bash
# The whole test suite: builds (installing what is missing) and runs CTest, then the same suite
# built with AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz harness for a short
# while (scripts/fuzz.sh). `--quick` skips the sanitizer pass and the fuzzing; `--no-fuzz` skips
# the fuzzing only.
set -euo pipefail
quick= fuzz=1
for a in "$@"; do
  case "$a" in
    --quick) quick=1 fuzz= ;;
    --no-fuzz) fuzz= ;;
    *) echo "test.sh: unknown option '$a' (options: --quick, --no-fuzz)" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
"$root/scripts/build.sh"
(cd "$root/build" && ctest -j "$jobs" --output-on-failure)
if [ -z "$quick" ]; then
  "$root/scripts/build.sh" --sanitize
  # LSan: the suppressions name only V8's process-lifetime allocations (see the file).
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd "$root/build-asan" && ctest -j "$jobs" --output-on-failure)
fi
if [ -n "$fuzz" ]; then
  # A fixed seed: the same inputs on every run (as far as 30 s reach), so a finding here is
  # found again by the same command, rather than a failure that comes and goes.
  WASIO_FUZZ_SEED=${WASIO_FUZZ_SEED:-1} "$root/scripts/fuzz.sh" "${WASIO_FUZZ_SECONDS:-30}"
fi
