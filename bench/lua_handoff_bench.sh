#!/usr/bin/env bash
# Build and run the Lua hand-off benchmark (not part of ctest).
#   bench/lua_handoff_bench.sh [records-per-batch] [batches]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${BUILD_DIR:-$here/../build/bench}
mkdir -p "$out"
${CC:-cc} -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
  "$here/lua_handoff_bench.c" -o "$out/lua_handoff_bench" \
  $(pkg-config --cflags --libs luajit) -Wl,-E
exec "$out/lua_handoff_bench" "$@"
