#!/bin/sh
# echo_smoke.sh SERVER BENCH MODE N: starts `SERVER MODE N`, runs N clients at once against it
# (one echo each), and expects the server to stop by itself after serving them.
set -eu
server=$1 bench=$2 mode=$3 n=$4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$server" "$mode" "$n" > "$out" &
pid=$!
for _ in $(seq 100); do grep -q '^port ' "$out" && break; sleep 0.1; done
port=$(sed -n 's/^port //p' "$out")
[ -n "$port" ] || { echo "no port from the server"; kill "$pid"; exit 1; }
"$bench" "$port" rate "$n" 0
wait "$pid"
