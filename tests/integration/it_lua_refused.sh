#!/usr/bin/env bash
# it_lua_refused — `luakcl run` refuses a script that does not load (syntax
# error, error at top level, syntax error in a module it requires from its own
# directory, no process_records) with exit status 2 and a reason naming
# file:line, before it creates the lease table (checked with the AWS SDK); the
# same command with a good script does create it (the control).
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
S="luait-refused-$$" APP="luait-refused-app-$$"
"$BIN" create-stream "$S" --shards 2 >/dev/null 2>"$tmp/err" && ok || bad "create-stream: $(cat "$tmp/err")"
node "$HELPER" put "$S" r 1 20 && ok || bad "put"

# refused SCRIPT PATTERN: exit 2 within 10 s, stderr matching PATTERN, no lease table
refused() {
  local script=$1 pat=$2
  timeout 10 "$BIN" run "$script" --stream "$S" --app "$APP" --initial-position TRIM_HORIZON \
    >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  [ "$rc" = 2 ] && ok || bad "$(basename "$script"): exit $rc, wanted 2; stderr: $(cat "$tmp/err")"
  grep -qE -- "$pat" "$tmp/err" && ok || bad "$(basename "$script"): stderr lacks /$pat/: $(cat "$tmp/err")"
  [ "$(node "$HELPER" table-exists "$APP")" = no ] && ok || bad "$(basename "$script"): lease table $APP was created"
}

mkdir -p "$tmp/s"
cat >"$tmp/s/syntax.lua" <<'LUA'
local P = {}
function P:process_records(input)
  for i = 1, do end
end
return P
LUA
refused "$tmp/s/syntax.lua" "syntax\.lua:3: .*unexpected symbol"

cat >"$tmp/s/unclosed.lua" <<'LUA'
local P = {}
function P:process_records(input)
  local t = {
end
return P
LUA
refused "$tmp/s/unclosed.lua" "unclosed\.lua:[45]: "

cat >"$tmp/s/toplevel.lua" <<'LUA'
local P = {}
local n = nil
error("configuration missing: " .. tostring(n))
return P
LUA
refused "$tmp/s/toplevel.lua" "toplevel\.lua:3: configuration missing: nil"

# a module next to the script, required at top level, with a syntax error on line 2
cat >"$tmp/s/badmod.lua" <<'LUA'
local M = {}
M.x = = 1
return M
LUA
cat >"$tmp/s/usesmod.lua" <<'LUA'
local m = require "badmod"
local P = {}
function P:process_records(input) end
return P
LUA
refused "$tmp/s/usesmod.lua" "badmod\.lua:2: "

printf 'local P = {}\nfunction P:initialize() end\nreturn P\n' >"$tmp/s/noproc.lua"
refused "$tmp/s/noproc.lua" "noproc\.lua.*process_records"
printf 'return {process_records = "not a function"}\n' >"$tmp/s/notfn.lua"
refused "$tmp/s/notfn.lua" "notfn\.lua.*process_records"
printf 'return 42\n' >"$tmp/s/number.lua"
refused "$tmp/s/number.lua" "number\.lua.*table"

# the control: a script that loads makes the worker create the table and take leases
cat >"$tmp/s/good.lua" <<'LUA'
local n = 0
return {process_records = function(self, input)
  n = n + #input.records
  local f = assert(io.open(os.getenv("LUAIT_OUT"), "w")); f:write(n, "\n"); f:close()
  assert(input.checkpointer:checkpoint())
end}
LUA
export LUAIT_OUT="$tmp/count"
start_worker "$tmp/s/good.lua" --stream "$S" --app "$APP"
count_is() { [ "$(cat "$LUAIT_OUT" 2>/dev/null)" = "$1" ]; }
wait_for 20 "the good script to process the 20 records" count_is 20 && ok
[ "$(node "$HELPER" table-exists "$APP")" = yes ] && ok || bad "the good script did not create the lease table"
stop_worker
[ "$worker_rc" = 0 ] && ok || bad "good script: exit $worker_rc after SIGTERM"

"$BIN" delete-stream "$S" >/dev/null 2>&1
finish
