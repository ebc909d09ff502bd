#!/bin/sh
# An out-of-tree embedder against a fresh install of wasio: cmake --install into an empty
# prefix, then a separate project finds it with find_package(wasio), builds and runs; and the
# same program built with pkg-config's flags alone.
#   run.sh WASIO_BUILD_DIR CONSUMER_SRC_DIR WORK_DIR COMMAND.wasm REACTOR.wasm
set -eu
build=$1 src=$2 work=$3 command=$4 reactor=$5
rm -rf "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work.install.log" 2>&1 || { cat "$work.install.log"; exit 1; }
test -f "$prefix"/lib*/cmake/wasio/wasioConfig.cmake
# No path into wasio's build tree may leak into what was installed.
if grep -rl "$build" "$prefix"/lib*/cmake "$prefix"/lib*/pkgconfig; then
  echo "the installed package names the build tree" >&2
  exit 1
fi
cmake -S "$src" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out=$("$work/build/consumer" "$command" "$reactor")
echo "$out"
expected="hello from wasio
command: exit 0
log: request 3
handle(3) = 1003"
[ "$out" = "$expected" ] || { echo "unexpected output" >&2; exit 1; }

pcdir=$(dirname "$(ls "$prefix"/lib*/pkgconfig/wasio.pc)")
# shellcheck disable=SC2046
c++ -std=c++20 -O1 "$src/main.cpp" -o "$work/consumer_pc" $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs wasio)
[ "$("$work/consumer_pc" "$command" "$reactor")" = "$expected" ] || { echo "pkg-config build differs" >&2; exit 1; }
echo "consumer: ok"
