#!/usr/bin/env bash
# One engine's figures, for comparing engine generations side by side: run it on each (this
# machine's build, and a Debian 13 one), each time against the node of the same V8 (node 18 for
# V8 10.2, Debian 13's node 20 for 11.3), so that each ratio is measured in one run.
#   1. clock_time_get, ns per call; baseline node running the same .wasm.
#   2. suspend+resume (sched_yield in a guest), ns, in each mode; baseline a native Asio
#      coroutine yielding to its io_context.
#   3. N guests blocked at once on an idle stdin pipe, in each mode: KiB per blocked guest beyond
#      one guest's peak RSS (fiber mode with fewer guests: each has its own isolate and stack).
#   4. Big modules (tests/guests/big.c, 6 MiB; bench/code_heavy.awk, 15 MB of code): one line in
#      and out, wall time and peak RSS of the whole run, in each mode with a warm rewrite cache;
#      baseline node running the same .wasm.
#   5. A Go guest (tests/guests/go/sleep_read.go, where a Go with wasip1 built it: Debian 13),
#      which asyncify cannot serve: a whole run with one line in and out, wall time (median of
#      3) and peak RSS, in each mode that runs it, against node; and guests blocked at once
#      reading an idle stdin pipe, KiB per guest (300 in fiber mode, 2,000 in JSPI mode).
# Modes: asyncify, fiber, and jspi where the engine has it (wasio::jspi_available).
# Usage: bench/engines.sh [NODE]    NODE: the node to measure against (default: node on PATH);
#                                   the V8 versions of both are printed first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node=${1:-node}
"$root/scripts/build.sh" wasio_cli guests go_guests native_yield code_heavy_guest >/dev/null
wasio="$root/build/wasio"
g="$root/build/guests"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
tf=$(mktemp)
cache=$(mktemp -d)
trap 'rm -f "$tf"; rm -rf "$cache"' EXIT
export WASIO_CACHE_DIR=$cache
modes="asyncify fiber"
"$wasio" run --mode jspi "$g/hello.wasm" >/dev/null 2>&1 && modes="$modes jspi"
echo "wasio: $("$wasio" --version)   node: $("$node" --version) (V8 $("$node" -p process.versions.v8))   modes: $modes"

echo "== 1. clock_time_get, ns per call (median of 5 runs of 10M calls)"
w=$(for i in 1 2 3 4 5; do "$wasio" run "$g/clock_bench.wasm" | awk '{print $2}'; done | median)
n=$(for i in 1 2 3 4 5; do "$node" "$root/bench/node_wasi.mjs" "$g/clock_bench.wasm" | awk '{print $2}'; done | median)
echo "wasio $w ns   node $n ns   wasio/node = $(ratio "$w" "$n")"

echo "== 2. suspend+resume round trip, ns (median of 3 runs of 200,000)"
ny=$(for i in 1 2 3; do "$root/build/bench/native_yield" 200000 | awk '{print $2}'; done | median)
line="native Asio $ny ns"
for m in $modes; do
  y=$(for i in 1 2 3; do "$wasio" run --mode "$m" "$g/yield_bench.wasm" 200000 | awk '{print $2}'; done | median)
  line="$line   $m $y ns (x$(ratio "$y" "$ny"))"
done
echo "$line"

echo "== 3. guests blocked at once on an idle stdin pipe, 16 MiB memories: KiB per blocked guest"
: | /usr/bin/time -o "$tf" -f "%M" "$wasio" run "$g/cat.wasm" >/dev/null
base_kb=$(cat "$tf")
for m in $modes; do
  n=$([ "$m" = fiber ] && echo 2000 || echo 20000)
  # The writer stays silent long enough for every guest to start and block.
  (sleep $((n / 2000 + 3))) | /usr/bin/time -o "$tf" -f "%M %e" \
    "$wasio" run --mode "$m" --max-memory 16MiB --instances "$n" "$g/cat.wasm" >/dev/null
  read -r kb secs < "$tf"
  echo "$m: $n guests, $(( (kb - base_kb) / n )) KiB each (peak RSS $((kb / 1024)) MiB, ${secs} s in all)"
done

echo "== 4. big modules: one line in and out; wall time (median of 3), peak RSS; warm rewrite cache"
one_run() { echo line | /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %.0f", $1, $2 / 1024}'; }
three_runs() { for i in 1 2 3; do one_run "$@"; echo; done | sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
for module in big code_heavy; do
  echo "-- $module.wasm ($(( $(stat -c %s "$g/$module.wasm") >> 20 )) MiB)"
  nt=$(three_runs "$node" "$root/bench/node_wasi.mjs" "$g/$module.wasm")
  echo "node:      $nt MiB"
  for m in $modes auto; do
    # The rewrite (minutes for the code-heavy module under asyncify) is made once, beforehand;
    # a mode that cannot run the module says why instead.
    if ! said=$(echo line | "$wasio" run -v --mode "$m" "$g/$module.wasm" 2>&1 >/dev/null); then
      printf "%-10s cannot: %s\n" "$m:" "$(echo "$said" | tail -1 | sed 's/^wasio: [^:]*: //')"
      continue
    fi
    w=$(three_runs "$wasio" run --mode "$m" "$g/$module.wasm")
    # -v names the mode a module runs in first: "wasio: FILE: MODE: why".
    ran=$(echo "$said" | sed -n 's/^wasio: [^:]*: \([a-z]*\):.*/\1/p' | head -1)
    printf "%-10s %s MiB   wasio/node = %s%s\n" "$m:" "$w" "$(ratio "${w%% *}" "${nt%% *}")" \
      "$([ "$m" = auto ] && echo "   (ran in $ran mode)")"
  done
done

echo "== 5. a Go guest: one line in and out (median of 3), peak RSS; guests blocked reading stdin"
gw="$g/go_sleep_read.wasm"
if [ ! -f "$gw" ]; then
  echo "skipped: no Go with wasip1 here (Go 1.21 or later; Debian 13 has golang-1.24-go)"
  exit 0
fi
nt=$(three_runs "$node" "$root/bench/node_wasi.mjs" "$gw")
echo "node:      $nt MiB"
: | /usr/bin/time -o "$tf" -f "%M" "$wasio" run --mode fiber "$gw" >/dev/null
base_kb=$(cat "$tf")
for m in $modes; do
  [ "$m" = asyncify ] && continue  # it cannot: no shadow-stack pointer it recognises
  w=$(three_runs "$wasio" run --mode "$m" "$gw")
  n=$([ "$m" = fiber ] && echo 300 || echo 2000)
  (sleep $((n / 500 + 3))) | /usr/bin/time -o "$tf" -f "%M %e" "$wasio" run --mode "$m" --instances "$n" "$gw" >/dev/null
  read -r kb secs < "$tf"
  printf "%-10s %s MiB   wasio/node = %s   %s blocked: %s KiB each (%s s in all)\n" "$m:" "$w" \
    "$(ratio "${w%% *}" "${nt%% *}")" "$n" "$(( (kb - base_kb) / n ))" "$secs"
done
