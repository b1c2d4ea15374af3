#!/usr/bin/env bash
# it_cli — the luakcl command end to end against kinesalite + dynalite:
# create-stream / put (plain and --aggregate, checked with the AWS SDK and
# aws-kinesis-agg) / status (a Java-KCL-format lease table made with the SDK)
# / delete-stream, and the exit codes and messages of bad input.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/sh_env.sh"
HELPER="$LUAKCL_SOURCE_DIR/tests/integration/cli_helper.js"
trap 'rm -rf "$tmp"' EXIT
# expect RC PATTERN -- CMD...: exit status RC and stderr matching PATTERN (grep -E)
expect() {
  local rc=$1 pat=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local got=$?
  if [ "$got" != "$rc" ]; then bad "$* -> exit $got, wanted $rc; stderr: $(cat "$tmp/err")"; return; fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" "$tmp/err"; then bad "$* -> stderr lacks /$pat/: $(cat "$tmp/err")"; return; fi
  ok
}

# ---- help, version, usage errors ---------------------------------------------------
expect 0 "" -- "$BIN" --version
grep -q "^luakcl [0-9]" "$tmp/out" && ok || bad "--version prints: $(cat "$tmp/out")"
expect 0 "" -- "$BIN" --help
grep -q "create-stream" "$tmp/out" && ok || bad "--help lacks the commands"
expect 0 "" -- "$BIN" help put
grep -q -- "--aggregate" "$tmp/out" && ok || bad "help put lacks --aggregate"
expect 2 "usage" -- "$BIN"
expect 2 "unknown command 'stauts' \(did you mean 'status'\?\)" -- "$BIN" stauts
expect 2 "unknown option --partition-kye \(did you mean --partition-key\?\)" -- "$BIN" put --stream s --partition-kye k
expect 2 "--max-records: value 0 out of range \(allowed: 1\.\.10000\)" -- "$BIN" run x.lua --stream s --app a --max-records 0
expect 2 "--json is not an option of 'put'" -- "$BIN" put --stream s --json
expect 2 "missing --stream \(config key 'stream'\)" -- "$BIN" put
expect 2 "missing --app \(config key 'app'\)" -- "$BIN" status
expect 2 "missing --shards" -- "$BIN" create-stream x
expect 2 "LUAKCL_MAX_RECORDS: value 99999" -- env LUAKCL_MAX_RECORDS=99999 "$BIN" run x.lua --stream s --app a

# ---- config files -----------------------------------------------------------------------
printf "return { stream = 's', app = 'a', max_recrods = 10 }\n" >"$tmp/typo.lua"
expect 2 "config key 'max_recrods' in .*typo.lua: unknown key \(did you mean 'max_records'" -- "$BIN" run x.lua --config "$tmp/typo.lua"
printf "return {\n  stream = 's',\n  app = ,\n}\n" >"$tmp/syntax.lua"
expect 2 "syntax.lua:3: unexpected symbol" -- "$BIN" run x.lua --config "$tmp/syntax.lua"
printf "return { stream = 's', no_reload = 'yes' }\n" >"$tmp/type.lua"
expect 2 "config key 'no_reload' .*wrong type.*expected a boolean" -- "$BIN" put --config "$tmp/type.lua"
printf "return { stream = 's', app = 'cliapp-$$' }\n" >"$tmp/good.lua"

# ---- run refuses bad scripts before it takes any lease ------------------------------------
expect 2 "cannot read script .*missing.lua" -- "$BIN" run "$tmp/missing.lua" --config "$tmp/good.lua"
printf "local P = {}\nfunction P:process_records(input)\n  for i = 1, do end\nend\nreturn P\n" >"$tmp/broken.lua"
expect 2 "broken.lua:3: " -- "$BIN" run "$tmp/broken.lua" --config "$tmp/good.lua"
printf "return 42\n" >"$tmp/notable.lua"
expect 2 "notable.lua" -- "$BIN" run "$tmp/notable.lua" --config "$tmp/good.lua"
# ... and so no lease table was created for app 'a' (status says it is missing)
expect 1 "lease table cliapp-$$ not found" -- "$BIN" status --app "cliapp-$$"

# ---- create-stream, put, read back ---------------------------------------------------------
S="cli-$$"
expect 0 "$S is ACTIVE with 3 shards" -- "$BIN" create-stream "$S" --shards 3
expect 1 "ResourceInUse" -- "$BIN" create-stream "$S" --shards 3
seq 1 1000 | sed 's/^/line-/' >"$tmp/lines"
"$BIN" put --stream "$S" <"$tmp/lines" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] && ok || bad "put exit $rc: $(cat "$tmp/err")"
grep -qE "1000 records read, 1000 written in 1000 Kinesis records, 0 failed" "$tmp/err" && ok || bad "put summary: $(cat "$tmp/err")"
node "$HELPER" read "$S" >"$tmp/got" 2>"$tmp/herr" || bad "read back: $(cat "$tmp/herr")"
if diff <(sort "$tmp/lines") <(sort "$tmp/got") >/dev/null; then ok; else bad "records read back differ from those put ($(wc -l <"$tmp/got") lines)"; fi

# --aggregate into a second stream: fewer Kinesis records, every user record back, right shards
A="cli-agg-$$"
expect 0 "" -- "$BIN" create-stream "$A" --shards 4
"$BIN" put --stream "$A" --aggregate <"$tmp/lines" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] && ok || bad "put --aggregate exit $rc: $(cat "$tmp/err")"
grep -qE "1000 records read, 1000 written in [1-9] Kinesis records, 0 failed" "$tmp/err" && ok || bad "aggregate summary: $(cat "$tmp/err")"
node "$HELPER" read "$A" --deagg >"$tmp/got" 2>"$tmp/herr" || bad "deaggregate: $(cat "$tmp/herr")"
if diff <(sort "$tmp/lines") <(sort "$tmp/got") >/dev/null; then ok; else bad "de-aggregated records differ ($(wc -l <"$tmp/got") lines)"; fi
grep -qE "kinesis_records=[1-4]$" "$tmp/herr" && ok || bad "expected one aggregate per shard: $(cat "$tmp/herr")"

# --null and a fixed partition key: all in one shard, binary-safe separators
printf 'a\nb\0c d\0e' >"$tmp/nul"
N="cli-nul-$$"
expect 0 "" -- "$BIN" create-stream "$N" --shards 1
"$BIN" put --stream "$N" --null --partition-key fixed <"$tmp/nul" 2>"$tmp/err" && ok || bad "put --null: $(cat "$tmp/err")"
grep -q "3 records read, 3 written" "$tmp/err" && ok || bad "--null summary: $(cat "$tmp/err")"

# put into a missing stream: exit 1, the reason named
expect 1 "ResourceNotFound|not found" -- sh -c "echo x | '$BIN' put --stream no-such-stream-$$"

# ---- status -----------------------------------------------------------------------------------
T="cli-app-$$"
node "$NODE_PATH/../../integration/cli_helper.js" leases "$T" 2>"$tmp/herr" && ok || bad "make leases: $(cat "$tmp/herr")"
expect 0 "" -- "$BIN" status --app "$T"
cat "$tmp/out" >&2
line() { grep -E "^$1 " "$tmp/out"; }
line shardId-000000000000 | grep -qE "worker-a +SHARD_END +42 +- +finished \(SHARD_END\)" && ok || bad "row 0: $(line shardId-000000000000)"
line shardId-000000000002 | grep -qE "worker-b +49590338271490256608559692538361571095921575989136588898 +7 +shardId-000000000000 +open" && ok || bad "row 2: $(line shardId-000000000002)"
line shardId-000000000003 | grep -qE "^shardId-000000000003 +- +TRIM_HORIZON +3 +shardId-000000000000 +open" && ok || bad "row 3: $(line shardId-000000000003)"
line shardId-000000000004 | grep -qE "shardId-000000000001,shardId-000000000003 +waiting on parents" && ok || bad "row 4: $(line shardId-000000000004)"
[ "$(grep -c '^shardId' "$tmp/out")" = 5 ] && ok || bad "5 rows wanted"
expect 0 "" -- "$BIN" status --app "$T" --json
node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const by = Object.fromEntries(rows.map((r) => [r.shard, r]));
  const want = (c, m) => { if (!c) { console.error("json: " + m); process.exit(1); } };
  want(rows.length === 5, "5 rows");
  want(by["shardId-000000000000"].state === "finished" && by["shardId-000000000000"].lease_counter === 42, "row 0");
  want(by["shardId-000000000003"].owner === null, "free lease has owner null");
  want(by["shardId-000000000004"].state === "waiting_on_parents", "row 4 waits");
  want(JSON.stringify(by["shardId-000000000004"].parents) === JSON.stringify(["shardId-000000000001","shardId-000000000003"]), "parents");
  want(!("millis_behind_latest" in rows[0]), "no lag without --stream");
' "$tmp/out" && ok || bad "status --json"
# with --stream: a lag column from a peek (the lease keys are shards of stream $S)
expect 0 "" -- "$BIN" status --app "$T" --stream "$S" --json
node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const r = rows.find((x) => x.shard === "shardId-000000000001");
  if (!(typeof r.millis_behind_latest === "number" && r.millis_behind_latest >= 0)) { console.error("lag: " + JSON.stringify(r)); process.exit(1); }
  const f = rows.find((x) => x.shard === "shardId-000000000000");
  if (f.millis_behind_latest !== null) { console.error("finished shard has no lag"); process.exit(1); }
' "$tmp/out" && ok || bad "status --stream lag: $(cat "$tmp/out")"

# ---- run: consume $S (1000 records), SIGHUP reloads, SIGTERM stops gracefully ----------------
R="cli-run-$$"
cat >"$tmp/proc.lua" <<LUA
local P = {}
local total = 0
function P:process_records(input)
  total = total + #input.records
  local f = io.open("$tmp/count.tmp", "w"); f:write(tostring(total)); f:close()
  os.rename("$tmp/count.tmp", "$tmp/count")
  input.checkpointer:checkpoint()
end
return P
LUA
"$BIN" run "$tmp/proc.lua" --stream "$S" --app "$R" --initial-position TRIM_HORIZON --idle-time-ms 200 \
  --log-format json --no-reload 2>"$tmp/runlog" &
pid=$!
# wait (bounded) for the condition, not for a time
for _ in $(seq 1 300); do [ "$(cat "$tmp/count" 2>/dev/null)" = 1000 ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
[ "$(cat "$tmp/count" 2>/dev/null)" = 1000 ] && ok || bad "run delivered $(cat "$tmp/count" 2>/dev/null) of 1000 records: $(tail -5 "$tmp/runlog")"
kill -HUP $pid
for _ in $(seq 1 100); do grep -q "SIGHUP" "$tmp/runlog" && break; sleep 0.1; done
grep -q "SIGHUP: script reloaded" "$tmp/runlog" && ok || bad "SIGHUP reload not logged: $(tail -3 "$tmp/runlog")"
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 0 ] && ok || bad "run exit $rc after SIGTERM: $(tail -5 "$tmp/runlog")"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  for (const l of lines) JSON.parse(l);
  if (!lines.length) process.exit(1);
' "$tmp/runlog" && ok || bad "--log-format json wrote a line that is not JSON: $(head -3 "$tmp/runlog")"
grep -q "$AWS_SECRET_ACCESS_KEY" "$tmp/runlog" "$tmp/err" && bad "the secret key was printed" || ok
# the leases were released with checkpoints at the last records
expect 0 "" -- "$BIN" status --app "$R" --json
node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (rows.length !== 3) { console.error("3 leases wanted"); process.exit(1); }
  for (const r of rows) if (r.owner !== null || !/^[0-9]+$/.test(r.checkpoint)) { console.error(JSON.stringify(r)); process.exit(1); }
' "$tmp/out" && ok || bad "leases after run: $(cat "$tmp/out")"

# ---- delete-stream -------------------------------------------------------------------------------
expect 0 "$S deleted" -- "$BIN" delete-stream "$S"
expect 1 "ResourceNotFound|not found" -- "$BIN" delete-stream "$S"
"$BIN" delete-stream "$A" 2>/dev/null; "$BIN" delete-stream "$N" 2>/dev/null

echo "it_cli: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
