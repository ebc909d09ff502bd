#!/usr/bin/env bash
# wasio benchmarks. Each prints wasio's figure and a ratio against a baseline measured in the
# same run on the same machine (these machines are shared and noisy: compare ratios, not times).
#   1. clock_time_get: ns per call timed inside the guest; baseline node (node:wasi) running the
#      same .wasm.
#   2. stdin->stdout throughput of a 64 KiB-buffer cat guest; baselines native cat and node.
#   3. Small regular-file transfers (4 KiB cached pread, 4 KiB appending write) in each file_io
#      mode (WASIO_FILE_IO); baselines wasio's sync mode and node running the same .wasm.
#   4. N guests sleeping 1 s in poll_oneoff: wall time against the ideal (1 s).
#   5. N guests all blocked at once on an idle pipe: resident bytes per guest, with their memory
#      packed away (the default) and without (baseline).
#   6. Suspend+resume round trip (sched_yield in a guest); baseline a native Asio coroutine
#      yielding to its io_context (bench/native_yield.cpp).
#   7. Guests started per second (10,000 hello guests in one process); baselines node starting
#      the same .wasm once per process, and 500 of them in one process, one after another,
#      each with its own node:wasi (bench/node_instances.mjs; node 20 segfaulted at 2,000).
#   8. Streaming through embedder pipes (samples/stream_filter: a file through a wasm filter on
#      one thread); baseline native `tr a-z A-Z` on the same file.
#   9. Scaling: 4 computing guests on 1 worker, then on all cores.
#  10. Fairness: a guest's 10 ms timers beside a sibling that computes on one worker
#      (bench/fairness.cpp), calling WASI without waiting or making no call at all (in fiber
#      mode, and in asyncify mode with and without --count-ticks); baselines alone and with
#      time slices off.
#  11. TCP echo on loopback (samples/echo_server, one thread): connections/s (connect, 64 bytes
#      there and back, close) and MB/s (streams of 16 KiB blocks) with 100 and 1000 concurrent
#      clients (bench/echo_bench), for a wasm guest per connection (its fd handed over, or the
#      Asio socket as a wasio::guest_stream) and one guest serving all;
#      baseline the same echo in native Asio. Medians of 3 runs.
#  12. Big modules (tests/guests/big.c: 6 MiB and 10,000 functions; with 64 MiB more data,
#      70 MiB; and bench/code_heavy.awk: 15 MB of code in 60,000 functions): wall time of a
#      whole run with one line in and one out (start, first output, exit) and peak RSS, in fiber
#      mode, and in asyncify and automatic mode with a cold and a warm rewrite cache; baseline
#      node running the same .wasm.
#  13. Embedding (bench/host_calls.cpp, one thread, both modes): a sync host function called by
#      the guest against clock_time_get; an awaitable one that suspends and resumes its guest
#      against sched_yield; an export called from C++ on a warm instance, and the same export
#      called from JS by node (bench/node_exports.mjs); calls/s through samples/plugin_server.
#  14. A directory of 20,000 entries (2,000 with --quick) listed with raw fd_readdir calls of a
#      64-byte buffer (about one record per call) and of a 4 KiB one (tests/guests/
#      readdir_bench.c); baseline node running the same .wasm.
#  15. Tracing: clock_time_get with every call traced (--trace=/dev/null) against untraced.
#  16. --dir-overlay and --dir-mem against --dir: 4 KiB reads and appends (section 3) and a
#      directory listing (section 14).
#  17. Preempting compute: compute-bound kernels (tests/guests/compute_bench.c) parked at each
#      slice (the default), with --count-ticks, counted only (--time-slice 0) and in fiber mode
#      (preempted by interrupts), against wasio with slices off; baselines native code and node
#      running the same .wasm.
# Usage: bench/run.sh [--quick]      (--quick: smaller sizes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" wasio_cli guests native_yield stream_filter fairness echo_server echo_bench big70_guest code_heavy_guest \
  host_calls plugin_server many_tasks wasio_sample_guests >/dev/null
wasio="$root/build/wasio"
g="$root/build/guests"
node_host=(node "$root/bench/node_wasi.mjs")
quick=${1:-}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "== 1. clock_time_get, ns per call (median of 5 runs of 10M calls)"
w=$(for i in 1 2 3 4 5; do "$wasio" run "$g/clock_bench.wasm" | awk '{print $2}'; done | median)
n=$(for i in 1 2 3 4 5; do "${node_host[@]}" "$g/clock_bench.wasm" | awk '{print $2}'; done | median)
echo "wasio ${w} ns   node ${n} ns   wasio/node = $(ratio "$w" "$n")"

echo "== 2. cat throughput, stdin pipe -> stdout pipe"
size_mb=$([ "$quick" = --quick ] && echo 256 || echo 1024)
data=$(mktemp)
trap 'rm -f "$data"' EXIT
head -c $((size_mb << 20)) /dev/urandom > "$data"
secs() { local t0 t1; t0=$(date +%s.%N); cat "$data" | "$@" | cat > /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }
tc=$(for i in 1 2 3; do secs cat; done | median)
tw=$(for i in 1 2 3; do secs "$wasio" run "$g/cat.wasm"; done | median)
tn=$(for i in 1 2 3; do secs "${node_host[@]}" "$g/cat.wasm"; done | median)
mbs() { awk -v s="$1" -v m="$size_mb" 'BEGIN {printf "%.0f", m / s}'; }
echo "native cat $(mbs "$tc") MB/s   wasio $(mbs "$tw") MB/s   node $(mbs "$tn") MB/s   (${size_mb} MiB, median of 3)"
echo "wasio/native = $(ratio "$tc" "$tw")   wasio/node = $(ratio "$tn" "$tw")   (throughput ratios)"

echo "== 3. small file transfers, ns per call (median of 3)"
fdir=$(mktemp -d)
trap 'rm -f "$data"; rm -rf "$fdir"' EXIT
head -c 4096 /dev/urandom > "$fdir/in"
fcount=$([ "$quick" = --quick ] && echo 50000 || echo 200000)
fb() { for i in 1 2 3; do "$@" | awk '{print $2}'; done | median; }
nr=$(fb "${node_host[@]}" --dir "$fdir:/d" "$g/file_bench.wasm" /d/in read 4096 "$fcount")
nw=$(fb "${node_host[@]}" --dir "$fdir:/d" "$g/file_bench.wasm" /d/out write 4096 "$fcount")
for m in sync nowait uring pool; do
  r=$(WASIO_FILE_IO=$m fb "$wasio" run --dir "$fdir::/d" "$g/file_bench.wasm" /d/in read 4096 "$fcount")
  w=$(WASIO_FILE_IO=$m fb "$wasio" run --dir "$fdir::/d" "$g/file_bench.wasm" /d/out write 4096 "$fcount")
  [ "$m" = sync ] && { sr=$r; sw=$w; }
  echo "$m: read $r ns (x$(ratio "$r" "$sr") sync, x$(ratio "$r" "$nr") node)   write $w ns (x$(ratio "$w" "$sw") sync, x$(ratio "$w" "$nw") node)"
done
echo "node: read $nr ns   write $nw ns"

echo "== 4. N guests sleeping 1 s each in poll_oneoff (wall time; ideal 1 s)"
mt="$root/build/samples/many_tasks"  # 16 MiB memory caps, as a server would cap its tasks
for n in $([ "$quick" = --quick ] && echo "1000 10000" || echo "1000 10000 100000"); do
  wall=$("$mt" "$n" sleep 1000 | sed -n 's/.*all done in \([0-9.]*\) s.*/\1/p')
  echo "N=$n sleeping: all finished in ${wall} s: ratio to ideal $(ratio "$wall" 1)"
done

echo "== 5. N guests blocked at once on an idle pipe (samples/many_tasks: RSS with all waiting, per guest)"
# 16 MiB memory caps, stock vm.max_map_count. With the memory of a guest that has waited 100 ms
# packed away (docs/why-hibernation.md), and without (--no-hibernate): the baseline.
tf=$(mktemp)
trap 'rm -f "$data" "$tf"; rm -rf "$fdir"' EXIT
sizes=$([ "$quick" = --quick ] && echo "10000" || echo "10000 100000 300000")
per_guest() { "$mt" "$@" | sed -n 's/.* \([0-9.]*\) KiB per waiting guest.*/\1/p'; }
for n in $sizes; do
  on=$(per_guest "$n" read)
  off=$(per_guest "$n" read --no-hibernate)
  echo "N=$n blocked: ${on} KiB per guest packed away, ${off} KiB not: ratio $(ratio "$on" "$off")"
done

echo "== 6. suspend+resume round trip, ns (median of 3)"
yn=$([ "$quick" = --quick ] && echo 100000 || echo 500000)
wy=$(for i in 1 2 3; do "$wasio" run "$g/yield_bench.wasm" "$yn" | awk '{print $2}'; done | median)
ny=$(for i in 1 2 3; do "$root/build/bench/native_yield" "$yn" | awk '{print $2}'; done | median)
echo "wasio guest sched_yield ${wy} ns   native Asio coroutine yield ${ny} ns   wasio/native = $(ratio "$wy" "$ny")"

echo "== 7. guests started per second"
hn=$([ "$quick" = --quick ] && echo 2000 || echo 10000)
/usr/bin/time -o "$tf" -f "%e" "$wasio" run --instances "$hn" "$g/hello.wasm" > /dev/null
hs=$(cat "$tf")
/usr/bin/time -o "$tf" -f "%e" "${node_host[@]}" "$g/hello.wasm" > /dev/null
ns=$(cat "$tf")
echo "wasio: $hn guests in ${hs} s = $(awk -v n="$hn" -v s="$hs" 'BEGIN {printf "%.0f", n / s}') guests/s   node: one process in ${ns} s = $(awk -v s="$ns" 'BEGIN {printf "%.1f", 1 / s}')/s   ratio $(awk -v n="$hn" -v s="$hs" -v t="$ns" 'BEGIN {printf "%.0f", (n / s) * t}')x"
ni=$(node "$root/bench/node_instances.mjs" "$g/hello.wasm" 500 2>&1 >/dev/null | awk '/^guests/ {print $2 / $4}')
echo "node, guests in one process: ${ni} guests/s   wasio/node = $(awk -v n="$hn" -v s="$hs" -v m="$ni" 'BEGIN {printf "%.1f", (n / s) / m}')x"

echo "== 8. streaming a file through a wasm filter via embedder pipes"
smb=$([ "$quick" = --quick ] && echo 64 || echo 256)
head -c $((smb << 20)) /dev/urandom | base64 -w 76 > "$fdir/text"
tsf=$(for i in 1 2 3; do s0=$(date +%s.%N); "$root/build/samples/stream_filter" "$fdir/text" "$fdir/out" > /dev/null; s1=$(date +%s.%N); awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}'; done | median)
ttr=$(for i in 1 2 3; do s0=$(date +%s.%N); tr a-z A-Z < "$fdir/text" > "$fdir/out2"; s1=$(date +%s.%N); awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}'; done | median)
cmp -s "$fdir/out" "$fdir/out2" || echo "MISMATCH between the filter's output and tr's"
tmb=$(du -m "$fdir/text" | cut -f1)
echo "stream_filter $(awk -v m="$tmb" -v s="$tsf" 'BEGIN {printf "%.0f", m / s}') MB/s   native tr $(awk -v m="$tmb" -v s="$ttr" 'BEGIN {printf "%.0f", m / s}') MB/s   wasio/native = $(ratio "$ttr" "$tsf")"

echo "== 9. scaling: 4 guests computing, 1 worker vs all ($(nproc)) cores"
sp=$([ "$quick" = --quick ] && echo 100 || echo 400)
/usr/bin/time -o "$tf" -f "%e" "$wasio" run --workers 1 --instances 4 "$g/spin.wasm" "$sp" > /dev/null
s1=$(cat "$tf")
/usr/bin/time -o "$tf" -f "%e" "$wasio" run --instances 4 "$g/spin.wasm" "$sp" > /dev/null
sn=$(cat "$tf")
echo "1 worker ${s1} s   $(nproc) workers ${sn} s   speed-up $(ratio "$s1" "$sn")x"

echo "== 10. fairness: 20 sleeps of 10 ms beside a guest computing with WASI calls, or without any, one worker"
"$root/build/bench/fairness" "$g"

echo "== 11. TCP echo on 127.0.0.1, server on one thread"
secs=$([ "$quick" = --quick ] && echo 1 || echo 3)
# Runs one load against a fresh `echo_server MODE` and prints its figure.
echo_load() {
  local mode=$1 out pid port
  shift
  out=$(mktemp)
  "$root/build/samples/echo_server" "$mode" > "$out" &
  pid=$!
  for _ in $(seq 100); do grep -q '^port ' "$out" && break; sleep 0.1; done
  port=$(sed -n 's/^port //p' "$out")
  "$root/build/bench/echo_bench" "$port" "$@" | awk '{print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$out"
}
# The median of 3 runs, alternating the servers, for each figure.
echo_median() { for i in 1 2 3; do echo_load "$@"; done | median; }
for load in "rate 100" "stream 100" "stream 1000"; do
  native=$(echo_median native $load "$secs")
  line="$load clients: native $native"
  for mode in guest stream one-guest; do
    v=$(echo_median "$mode" $load "$secs")
    line="$line   $mode $v ($(ratio "$v" "$native")x)"
  done
  echo "$line   ($( [ "${load%% *}" = rate ] && echo connections/s || echo MB/s))"
done

echo "== 12. big modules: one line in and out; wall time (median of 3) and peak RSS"
cache=$(mktemp -d)
trap 'rm -f "$data"; rm -rf "$cache"' EXIT
# Prints "SECONDS MiB" for one run of the command with one line on stdin.
one_run() { echo line | /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %.0f", $1, $2 / 1024}'; }
# The median run of three (by time), or of one with --quick or $once; $clear empties the cache
# before each.
three_runs() { for i in $([ "$quick" = --quick ] || [ -n "$once" ] && echo 1 || echo 1 2 3); do [ -n "$clear" ] && rm -rf "$cache"/*; one_run "$@"; echo; done | sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
for module in big big70 code_heavy; do
  echo "-- $module.wasm ($(( $(stat -c %s "$g/$module.wasm") >> 20 )) MiB)"
  clear= once=
  n=$(three_runs "${node_host[@]}" "$g/$module.wasm")
  echo "node:                    $n MiB"
  nt=${n%% *}
  for run in "fiber --mode fiber" "asyncify-cold --mode asyncify" "asyncify-warm --mode asyncify" "auto-warm --mode auto" "auto-cold --mode auto"; do
    name=${run%% *}
    flags=${run#* }
    clear=$([[ $name = *cold ]] && echo yes || true)
    once=$([ "$name" = asyncify-cold ] && echo yes || true)  # minutes for the code-heavy one
    w=$(WASIO_CACHE_DIR=$cache three_runs "$wasio" run $flags "$g/$module.wasm")
    printf "%-24s %s MiB   wasio/node = %s\n" "$name:" "$w" "$(ratio "${w%% *}" "$nt")"
  done
done

echo "== 13. embedding: host functions and export calls, ns per call (best of 3)"
hn=$([ "$quick" = --quick ] && echo 200000 || echo 2000000)
nodeline=$(node "$root/bench/node_exports.mjs" "$g/host_bench.wasm" "$hn")
node_call=$(echo "$nodeline" | awk '{print $2}')
node_sync=$(echo "$nodeline" | awk '{print $4}')
for mode in asyncify fiber; do
  out=$("$root/build/bench/host_calls" "$g/host_bench.wasm" "$mode" "$hn")
  sync=$(echo "$out" | awk '/^sync_host_ns/ {print $2}')
  clock=$(echo "$out" | awk '/^sync_host_ns/ {print $4}')
  async=$(echo "$out" | awk '/^awaitable_host_ns/ {print $2}')
  yield=$(echo "$out" | awk '/^awaitable_host_ns/ {print $4}')
  call=$(echo "$out" | awk '/^export_call_ns/ {print $2}')
  echo "$mode: sync host fn $sync ns (x$(ratio "$sync" "$clock") clock_time_get, x$(ratio "$sync" "$node_sync") node's)   awaitable host fn $async ns (x$(ratio "$async" "$yield") sched_yield)   export call $call ns (x$(ratio "$call" "$node_call") node's $node_call ns)"
done
pc=$([ "$quick" = --quick ] && echo 2000 || echo 20000)
"$root/build/samples/plugin_server" "$root/build/sample_guests/plugin.wasm" --instances 64 --calls "$pc" | tail -1

echo "== 14. fd_readdir, ns per call (median of 3)"
rdir=$(mktemp -d)
trap 'rm -f "$data" "$tf"; rm -rf "$fdir" "$cache" "$rdir"' EXIT
rn=$([ "$quick" = --quick ] && echo 2000 || echo 20000)
for i in $(seq "$rn"); do : > "$rdir/file_$i"; done
for size in 64 4096; do
  w=$(for i in 1 2 3; do "$wasio" run --dir "$rdir::/d" "$g/readdir_bench.wasm" /d "$size" | awk '{print $4}'; done | median)
  n=$(for i in 1 2 3; do "${node_host[@]}" --dir "$rdir:/d" "$g/readdir_bench.wasm" /d "$size" | awk '{print $4}'; done | median)
  echo "$rn entries, $size-byte buffer: wasio $w ns   node $n ns   wasio/node = $(ratio "$w" "$n")"
done

echo "== 15. clock_time_get traced (--trace=/dev/null: a line formatted and written per call), ns per call (median of 5)"
plain=$(for i in 1 2 3 4 5; do "$wasio" run "$g/clock_bench.wasm" 1000000 | awk '{print $2}'; done | median)
traced=$(for i in 1 2 3 4 5; do "$wasio" run --trace=/dev/null "$g/clock_bench.wasm" 1000000 | awk '{print $2}'; done | median)
echo "untraced $plain ns   traced $traced ns   traced/untraced = $(ratio "$traced" "$plain")"

echo "== 16. In-memory and overlay directories against the host directory (median of 3): section 3's 4 KiB"
echo "      transfers (a read of an overlay's file still the host's; appends to a file in memory) and"
echo "      section 14's listing of $rn entries (an overlay reads them all from the host first)"
hr=$(fb "$wasio" run --dir "$fdir::/d" "$g/file_bench.wasm" /d/in read 4096 "$fcount")
or=$(fb "$wasio" run --dir-overlay "$fdir::/d" "$g/file_bench.wasm" /d/in read 4096 "$fcount")
hw=$(fb "$wasio" run --dir "$fdir::/d" "$g/file_bench.wasm" /d/out write 4096 "$fcount")
mw=$(fb "$wasio" run --dir-mem /d "$g/file_bench.wasm" /d/out write 4096 "$fcount")
echo "read: host $hr ns   overlay $or ns (x$(ratio "$or" "$hr"))   write: host $hw ns   memory $mw ns (x$(ratio "$mw" "$hw"))"
for size in 64 4096; do
  h=$(for i in 1 2 3; do "$wasio" run --dir "$rdir::/d" "$g/readdir_bench.wasm" /d "$size" | awk '{print $4}'; done | median)
  o=$(for i in 1 2 3; do "$wasio" run --dir-overlay "$rdir::/d" "$g/readdir_bench.wasm" /d "$size" | awk '{print $4}'; done | median)
  echo "$rn entries, $size-byte buffer: host $h ns   overlay $o ns per call (x$(ratio "$o" "$h"))"
done

echo "== 17. Counting ticks (--count-ticks, --fuel): compute-bound kernels without WASI calls"
echo "      (tests/guests/compute_bench.c, the fastest of 5 runs each, ms); baselines the same C"
echo "      compiled natively (cc -O2), node running the same .wasm, and wasio with slices off;"
echo "      'parked' is the default: asyncify, its thread parked at each 10 ms slice (docs/why-parking.md)"
cc -O2 -o "$tf.native" "$root/tests/guests/compute_bench.c"
"$tf.native" > "$tf.n"
"${node_host[@]}" "$g/compute_bench.wasm" > "$tf.j"
"$wasio" run --mode asyncify --time-slice 0 "$g/compute_bench.wasm" > "$tf.0"
"$wasio" run --mode asyncify "$g/compute_bench.wasm" > "$tf.p"                 # parked at each slice
"$wasio" run --time-slice 0 --count-ticks "$g/compute_bench.wasm" > "$tf.1"   # counted only (fuel)
"$wasio" run --count-ticks "$g/compute_bench.wasm" > "$tf.2"                  # counted, may yield
"$wasio" run --mode fiber "$g/compute_bench.wasm" > "$tf.f"                    # yields by interrupt
paste "$tf.n" "$tf.j" "$tf.0" "$tf.p" "$tf.1" "$tf.2" "$tf.f" | awk '{
  printf "%-9s native %6.1f  node %6.1f  wasio %6.1f  parked %6.1f (x%.2f)  counted %6.1f (x%.2f)  counted+yield %6.1f (x%.2f)  fiber %6.1f (x%.2f)\n",
    $1, $2, $5, $8, $11, $11 / $8, $14, $14 / $8, $17, $17 / $8, $20, $20 / $8 }'
rm -f "$tf.native" "$tf.n" "$tf.j" "$tf.0" "$tf.p" "$tf.1" "$tf.2" "$tf.f"
