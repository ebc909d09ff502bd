#!/usr/bin/env bash
# Builds wasio if needed and runs the bundled hello-world guest through the CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" wasio_cli guests >/dev/null
exec "$root/build/wasio" run "$root/build/guests/hello.wasm" "$@"
