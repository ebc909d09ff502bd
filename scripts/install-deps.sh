#!/usr/bin/env bash
# Installs every Debian package wasio needs. Idempotent: a second run with everything present
# does no network access and exits in well under a second.
#
# V8 comes from Debian's libnode-dev: libnode108 (V8 10.2) on Debian 12, libnode115 (V8 11.3) on
# Debian 13; the guests' compiler is clang-14 or clang-19 with its wasm32 runtime library. On a
# clean Debian it is a plain apt-get install. On machines that pin NodeSource's `nodejs`
# (libnode -> node-acorn -> nodejs conflicts there) the two .debs are downloaded and unpacked
# into a project-local prefix, .deps/libnode, which CMake then prefers (see
# docs/why-libnode-prefix.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.deps/libnode"

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
case "$codename" in
  trixie)
    llvm=19 libnode=libnode115
    # clang's own runtimes (libFuzzer for scripts/fuzz.sh), apart from clang here; Debian 12's
    # clang-14 brings them.
    # Go 1.24 builds the Go guests (tests/guests/go: wasip1 needs Go 1.21; Debian 12 has 1.19).
    extra=("libclang-rt-19-dev" golang-1.24-go)
    # The runtime libraries libnode links against, needed when it is unpacked by hand.
    node_rt=(libuv1t64 libicu76 libc-ares2 libnghttp2-14 libbrotli1 libssl3t64 zlib1g) ;;
  *)  # bookworm, and what this script knew first
    llvm=14 libnode=libnode108
    extra=()
    node_rt=(libuv1 libicu72 libc-ares2 libnghttp2-14 libbrotli1 libssl3 zlib1g) ;;
esac
pkgs=(cmake make pkg-config g++ "clang-$llvm" "lld-$llvm" wasi-libc "libclang-rt-$llvm-dev-wasm32"
      libasio-dev libboost-dev libboost-context-dev binaryen libgtest-dev libcli11-dev libfmt-dev
      liburing-dev liblz4-dev libssl-dev wabt time "${extra[@]}")

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing() { for p in "$@"; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done; }

need=$(missing "${pkgs[@]}" "${node_rt[@]}")
have_node=no
if [ -z "$(missing libnode-dev)" ] || [ -f "$prefix/usr/include/node/v8.h" ]; then have_node=yes; fi

if [ -z "$need" ] && [ "$have_node" = yes ]; then exit 0; fi

export DEBIAN_FRONTEND=noninteractive
updated=no
apt_update() { [ "$updated" = yes ] || { as_root apt-get update -qq; updated=yes; }; }
if [ -n "$need" ]; then
  apt_update
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ "$have_node" = no ]; then
  apt_update
  if ! as_root apt-get install -y -qq --no-install-recommends libnode-dev >/dev/null 2>&1; then
    echo "install-deps: libnode-dev conflicts with the installed nodejs; unpacking it into $prefix" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download "$libnode" libnode-dev >/dev/null)
    rm -rf "$prefix"; mkdir -p "$prefix"
    for d in "$tmp"/*.deb; do dpkg -x "$d" "$prefix"; done
    rm -rf "$tmp"
  fi
fi
echo "install-deps: all dependencies present" >&2
