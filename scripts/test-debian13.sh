#!/usr/bin/env bash
# The whole test suite on Debian 13 (trixie: V8 11.3, clang-19, Asio 1.30, GCC 14, CMake 3.31),
# from any Debian machine: makes a minimal trixie chroot with debootstrap from the mirror the
# system's own apt sources name, copies this checkout's committed tree into it, runs
# scripts/test.sh there (which installs the packages with scripts/install-deps.sh), and removes
# the chroot again, whatever happened. The system's apt sources are not touched. Needs root (or
# sudo) and debootstrap (installed if missing). Arguments go to scripts/test.sh (--quick,
# --no-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
command -v debootstrap >/dev/null || as_root apt-get install -y -qq --no-install-recommends debootstrap >/dev/null

dir=$(mktemp -d /tmp/wasio-trixie.XXXXXX)
cleanup() {
  for m in dev/pts dev proc; do as_root umount -l "$dir/$m" 2>/dev/null || true; done
  as_root rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

echo "test-debian13: debootstrap trixie from $mirror" >&2
as_root debootstrap --variant=minbase trixie "$dir" "$mirror" >/dev/null
as_root mount --bind /proc "$dir/proc"
as_root mount --bind /dev "$dir/dev"
as_root mount --bind /dev/pts "$dir/dev/pts"
# Name resolution as the host has it: minbase has no /etc/hosts, and the socket tests resolve
# "localhost".
as_root cp /etc/resolv.conf /etc/hosts "$dir/etc/"
# The committed tree, as a clean clone has it (no build directories, no .deps).
as_root mkdir -p "$dir/src"
git -C "$root" archive HEAD | as_root tar -x -C "$dir/src"
as_root chroot "$dir" bash -c 'apt-get update -qq && cd /src && scripts/test.sh "$@"' test-debian13 "$@"
