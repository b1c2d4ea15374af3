#!/usr/bin/env bash
# it_lua_exactly_once — `luakcl run` with a Lua processor on a 4-shard stream
# (kinesalite + dynalite): 4,000 records each delivered exactly once and in
# sequence order per shard (checked against the stream read back with the AWS
# SDK), every batch checkpointed, and after SIGTERM the lease table holds each
# shard's last sequence number as its checkpoint, with the leases released.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
S="luait-once-$$" APP="luait-once-app-$$" N=4000
export LUAIT_OUT="$tmp/got"

"$BIN" create-stream "$S" --shards 4 >/dev/null 2>"$tmp/err" && ok || bad "create-stream: $(cat "$tmp/err")"
# half before the worker starts, half while it runs
node "$HELPER" put "$S" rec 1 2000 && ok || bad "put 1..2000"
start_worker "$LUAKCL_SOURCE_DIR/tests/integration/lua/record_writer.lua" --stream "$S" --app "$APP" --no-reload
node "$HELPER" put "$S" rec 2001 $N && ok || bad "put 2001..$N"
wait_for 40 "$N records processed" lines_at_least "$LUAIT_OUT" $N && ok

# every batch checkpointed: wait until the lease table shows the last records, then stop
node "$HELPER" read "$S" >"$tmp/expected" && ok || bad "read back"
[ "$(wc -l <"$tmp/expected")" = $N ] && ok || bad "the stream holds $(wc -l <"$tmp/expected") records, $N put"
awk -F'\t' '{ last[$1] = $2 } END { for (s in last) print s "\t" last[s] }' "$tmp/expected" | sort >"$tmp/last"
[ "$(wc -l <"$tmp/last")" = 4 ] && ok || bad "records in $(wc -l <"$tmp/last") shards, 4 wanted"
checkpoints() {
  "$BIN" status --app "$APP" --json 2>/dev/null | node -e '
    const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of rows.sort((a, b) => a.shard < b.shard ? -1 : 1)) console.log(`${r.shard}\t${r.checkpoint}`);'
}
cps_match() { checkpoints >"$tmp/cps" && diff -q "$tmp/cps" "$tmp/last" >/dev/null; }
wait_for 20 "checkpoints at each shard's last record" cps_match && ok || echo "checkpoints: $(cat "$tmp/cps")" >&2

stop_worker
[ "$worker_rc" = 0 ] && ok || bad "exit $worker_rc after SIGTERM; log tail: $(tail -5 "$tmp/run.log")"
[ "$(grep -c '"record_writer: shutdown"' "$tmp/run.log")" = 4 ] && grep -q '"reason":"REQUESTED"' "$tmp/run.log" \
  && ok || bad "shutdown(REQUESTED) not seen once per shard: $(grep 'record_writer: shutdown' "$tmp/run.log")"
grep -q '"level":"error"' "$tmp/run.log" && bad "errors logged: $(grep '"level":"error"' "$tmp/run.log" | head -3)" || ok

node "$HELPER" verify "$tmp/expected" "$LUAIT_OUT" && ok || bad "exactly once, in order"
[ "$(wc -l <"$LUAIT_OUT")" = $N ] && ok || bad "$(wc -l <"$LUAIT_OUT") lines written, $N wanted"

# after the graceful stop: checkpoints still at the last records, no owner
"$BIN" status --app "$APP" --json >"$tmp/status" 2>"$tmp/err" && ok || bad "status: $(cat "$tmp/err")"
node -e '
  const fs = require("fs");
  const rows = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const last = Object.fromEntries(fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => l.split("\t")));
  const bad = [];
  if (rows.length !== 4) bad.push(`${rows.length} leases, 4 wanted`);
  for (const r of rows) {
    if (r.checkpoint !== last[r.shard]) bad.push(`${r.shard}: checkpoint ${r.checkpoint}, last record ${last[r.shard]}`);
    if (r.owner !== null) bad.push(`${r.shard}: still owned by ${r.owner}`);
  }
  if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
' "$tmp/status" "$tmp/last" && ok || bad "lease table after SIGTERM: $(cat "$tmp/status")"

"$BIN" delete-stream "$S" >/dev/null 2>&1
finish
