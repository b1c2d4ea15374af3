#!/usr/bin/env bash
# it_luarocks — the rockspec builds and installs offline into a tree: the
# installed `luakcl --version` runs, and `require "luakcl.testing"` works
# from the tree with the path `luarocks path` gives.
# harness: (none)
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/src"
mkdir -p "$src"
# a copy of the source without build output or the harness's node_modules
tar -C "$LUAKCL_SOURCE_DIR" --exclude=./build --exclude=./.git --exclude=node_modules -cf - . | tar -C "$src" -xf -
cd "$src"
# LuaJIT is Lua 5.1 to LuaRocks; its headers are where pkg-config says.
LR="luarocks --lua-version=5.1 --tree $tmp/tree"
incdir=$(pkg-config --variable=includedir luajit)
$LR make --deps-mode=none rockspec/luakcl-scm-1.rockspec LUA_INCDIR="$incdir" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; echo "FAIL: luarocks make" >&2; exit 1; }

bin="$tmp/tree/bin/luakcl"
[ -x "$bin" ] || { echo "FAIL: no $bin" >&2; ls -R "$tmp/tree" >&2; exit 1; }
out=$("$bin" --version)
case "$out" in "luakcl "[0-9]*) ;; *) echo "FAIL: --version printed '$out'" >&2; exit 1 ;; esac
"$bin" help run | grep -q -- "--initial-position" || { echo "FAIL: help run" >&2; exit 1; }

cd "$tmp"
eval "$($LR path)"
cat >"$tmp/proc.lua" <<'LUA'
local P = {}
function P:process_records(input)
  self.n = (self.n or 0) + #input.records
  input.checkpointer:checkpoint()
end
return P
LUA
cat >"$tmp/check.lua" <<'LUA'
local testing = require "luakcl.testing"
local where = package.searchpath and package.searchpath("luakcl.testing", package.path) or "?"
assert(where:find(arg[1], 1, true), "luakcl.testing came from " .. where .. ", not the tree")
local h = assert(testing.load(arg[2], {shard_id = "shardId-000000000000"}))
assert(h:process({"a", "b", "c"}))
assert(h.instance.n == 3, "3 records")
print("ok " .. where)
LUA
luajit "$tmp/check.lua" "$tmp/tree" "$tmp/proc.lua" || { echo "FAIL: luakcl.testing from the tree" >&2; exit 1; }
echo "it_luarocks: passed"
